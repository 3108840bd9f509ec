//! The backlog policy's `keep_queue_active` schedule (see `aws::scheduler`): planned,
//! written, refreshed, imported and deleted with the resource. Schedules take no tags, so
//! the schedule's description names its owner (`queuescale:owner=…`); a schedule of that
//! name with another description belongs to someone else and is never written over.

use super::ownership::{Clash, OWNER_TAG, Object, Owner};
use super::reconcile::ObjectError;
use crate::aws::scheduler::{self, GET_QUEUE_ATTRIBUTES, ObservedSchedule, Schedule};
use crate::aws::{self, AwsError};
use crate::provider::Clients;
use crate::scaling::backlog_policy::{KeepActive, KeepAlive, keep_active_name};
use crate::tfplugin::Value;

/// The block in configuration and state.
pub const BLOCK: &str = "keep_queue_active";
/// The computed ARN.
pub const ARN: &str = "keep_queue_active_schedule_arn";

/// The description that marks `owner`'s schedule.
fn owner_description(owner: &Owner) -> String {
    format!("{OWNER_TAG}={owner}")
}

/// The schedule as written: `GetQueueAttributes` of `queue_url` (one attribute is
/// enough for an action that accesses the queue) as the configured role.
pub fn schedule(k: &KeepAlive, queue_url: &str, owner: &Owner) -> Schedule {
    Schedule {
        name: k.name.clone(),
        description: owner_description(owner),
        expression: k.expression(),
        target_arn: GET_QUEUE_ATTRIBUTES.to_owned(),
        role_arn: k.keep.role_arn.clone(),
        input: serde_json::json!({
            "QueueUrl": queue_url,
            "AttributeNames": ["ApproximateNumberOfMessages"],
        })
        .to_string(),
    }
}

/// The planned ARN: null without the block; the recorded one while the schedule keeps its
/// name (UpdateSchedule keeps it); unknown for a new one.
pub fn plan(planned: &mut Value, prior: &Value) {
    let block = planned.get(BLOCK);
    let arn = if block.is_null() {
        Value::Null
    } else if prior.get(ARN).as_str().is_some()
        && prior.get("name") == planned.get("name")
        && !block.is_unknown()
    {
        prior.get(ARN).clone()
    } else {
        Value::Unknown
    };
    planned.set(ARN, arn);
}

/// Whether AWS's schedule is the one this resource would write for `queue_name` (the
/// role and hours aside, which state shows).
fn matches(found: &ObservedSchedule, owner: &Owner, queue_name: &str) -> bool {
    let input: serde_json::Value = serde_json::from_str(&found.schedule.input).unwrap_or_default();
    let url_names_queue = input["QueueUrl"]
        .as_str()
        .is_some_and(|u| u.rsplit('/').next() == Some(queue_name));
    found.enabled
        && found.schedule.target_arn == GET_QUEUE_ATTRIBUTES
        && found.schedule.description == owner_description(owner)
        && url_names_queue
}

/// Writes the schedule `want` asks for, or deletes the recorded one when it no longer
/// does (and the old one after a rename), recording the ARN in `out`.
///
/// # Errors
/// A clash when another owner's schedule has the name; API errors.
pub async fn write(
    client: &Clients,
    want: Option<&KeepAlive>,
    owner: &Owner,
    state: &Value,
    planned: &Value,
    out: &mut Value,
) -> Result<(), ObjectError> {
    let recorded = state.get(ARN).as_str().map(str::to_owned);
    let old_name = state.get("name").as_str().map(keep_active_name);
    if let Some(k) = want {
        let unchanged = recorded.is_some()
            && [BLOCK, "name", "queue_name"]
                .iter()
                .all(|a| state.get(a).semantically_equal(planned.get(a)));
        if !unchanged {
            let existing =
                aws::optional(scheduler::find_schedule(&client.scheduler, &k.name).await)?;
            if let Some(e) = &existing
                && e.schedule.description != owner_description(owner)
            {
                return Err(Clash {
                    object: Object::Schedule(k.name.clone()),
                    holder: None,
                    wanted_by: owner.clone(),
                }
                .into());
            }
            let url = aws::sqs::queue_url(&client.sqs, &k.queue_name).await?;
            let arn = scheduler::put_schedule(
                &client.scheduler,
                &schedule(k, &url, owner),
                existing.is_some(),
            )
            .await?;
            out.set(ARN, Value::from(arn));
        }
    }
    let stale = match (want, &old_name) {
        (Some(k), Some(old)) => recorded.is_some() && *old != k.name,
        (None, _) => recorded.is_some() || !state.get(BLOCK).is_null(),
        (Some(_), None) => false,
    };
    if stale && let Some(old) = &old_name {
        delete_if_ours(client, old, owner).await?;
    }
    if want.is_none() {
        out.set(ARN, Value::Null);
    }
    // Only now does the block say what exists.
    out.set(BLOCK, planned.get(BLOCK).clone());
    Ok(())
}

async fn delete_if_ours(client: &Clients, name: &str, owner: &Owner) -> Result<(), AwsError> {
    match aws::optional(scheduler::find_schedule(&client.scheduler, name).await)? {
        Some(found) if found.schedule.description == owner_description(owner) => {
            aws::ignore_not_found(scheduler::delete_schedule(&client.scheduler, name).await)
        }
        _ => Ok(()),
    }
}

/// Deletes the schedule of a resource being destroyed, when it is its own.
///
/// # Errors
/// API errors.
pub async fn delete(client: &Clients, state: &Value, owner: &Owner) -> Result<(), AwsError> {
    let asked = !state.get(BLOCK).is_null() || state.get(ARN).as_str().is_some();
    match state.get("name").as_str() {
        Some(name) if asked => delete_if_ours(client, &keep_active_name(name), owner).await,
        _ => Ok(()),
    }
}

/// Refreshes the schedule into `out`: its ARN, and the role and hours AWS holds, so a
/// change made elsewhere shows in the plan; a schedule that is not what this resource
/// writes (target, queue, disabled) reads as missing, so the next apply rewrites it. On
/// import (`importing`) the block comes from the schedule, when there is one of ours.
///
/// # Errors
/// API errors.
pub async fn read(
    client: &Clients,
    state: &Value,
    owner: &Owner,
    queue_name: Option<&str>,
    importing: bool,
    out: &mut Value,
) -> Result<(), AwsError> {
    let asked = !state.get(BLOCK).is_null() || state.get(ARN).as_str().is_some();
    let Some(name) = state.get("name").as_str() else {
        return Ok(());
    };
    if !asked && !importing {
        out.set(ARN, Value::Null);
        return Ok(());
    }
    let found = match aws::optional(
        scheduler::find_schedule(&client.scheduler, &keep_active_name(name)).await,
    ) {
        Ok(found) => found,
        // Import does not know whether the resource uses the schedule: without access to
        // EventBridge Scheduler it takes none. Configured with `keep_queue_active`, the
        // next apply reads it again (and adopts one of its own).
        Err(e) if importing && !asked => {
            tracing::warn!(error = %e, "cannot read the keep_queue_active schedule; importing without one");
            None
        }
        Err(e) => return Err(e),
    };
    let ours = found
        .as_ref()
        .filter(|f| f.schedule.description == owner_description(owner));
    let Some(found) = ours else {
        out.set(ARN, Value::Null);
        if importing {
            out.set(BLOCK, Value::Null);
        }
        return Ok(());
    };
    let fits = queue_name.is_none_or(|q| matches(found, owner, q));
    out.set(
        ARN,
        if fits {
            Value::from(found.arn.as_str())
        } else {
            Value::Null
        },
    );
    let hours = KeepAlive::hours_of(&found.schedule.expression).unwrap_or(0);
    let prior = state.get(BLOCK);
    let every_hours = match prior.get("every_hours") {
        Value::Null if hours == KeepActive::DEFAULT_EVERY_HOURS => Value::Null,
        _ => Value::int(hours.into()),
    };
    out.set(
        BLOCK,
        Value::object([
            ("role_arn", Value::from(found.schedule.role_arn.as_str())),
            ("every_hours", every_hours),
        ]),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner::new(
            "queuescale_sqs_backlog_scaling_policy",
            "service/main/worker",
            Some("worker"),
        )
    }

    fn written(queue: &str) -> ObservedSchedule {
        let k = KeepAlive {
            name: keep_active_name("worker"),
            keep: KeepActive {
                role_arn: "arn:aws:iam::123456789012:role/keep".into(),
                every_hours: 5,
            },
            queue_name: queue.into(),
        };
        ObservedSchedule {
            schedule: schedule(
                &k,
                &format!("https://sqs.us-east-1.amazonaws.com/123456789012/{queue}"),
                &owner(),
            ),
            arn: "arn:aws:scheduler:us-east-1:123456789012:schedule/default/x".into(),
            enabled: true,
        }
    }

    #[test]
    fn a_schedule_disabled_retargeted_or_on_another_queue_is_not_the_one_written() {
        let ours = written("jobs");
        assert!(matches(&ours, &owner(), "jobs"));
        assert_eq!(ours.schedule.expression, "rate(5 hours)");
        assert_eq!(KeepAlive::hours_of(&ours.schedule.expression), Some(5));
        assert_eq!(KeepAlive::hours_of("rate(1 hour)"), Some(1));
        assert_eq!(KeepAlive::hours_of("cron(0 * * * ? *)"), None);
        let mut off = ours.clone();
        off.enabled = false;
        assert!(!matches(&off, &owner(), "jobs"));
        let mut retargeted = ours.clone();
        retargeted.schedule.target_arn = "arn:aws:scheduler:::aws-sdk:sqs:purgeQueue".into();
        assert!(!matches(&retargeted, &owner(), "jobs"));
        assert!(!matches(&written("other"), &owner(), "jobs"));
        let mut foreign = ours;
        foreign.schedule.description = "someone else's".into();
        assert!(!matches(&foreign, &owner(), "jobs"));
    }
}
