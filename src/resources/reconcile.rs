//! Reconciling a resource's scaling policies and alarms with AWS, shared by the
//! scaling-policy resources: planning which objects will be written, writing them in
//! order (policies, then the alarms that invoke them, then removals), reading them back,
//! and deleting them.
//!
//! Every object is identified by a *purpose* label (e.g. `wake-from-zero`, `lower`); an
//! alarm invokes the policy with the same purpose. What exists is recorded in the
//! `policies` and `alarms` state lists (see `objects.rs`): an ARN that is null means the
//! object does not exist, an ARN unknown in a plan means it will be written.

use std::collections::BTreeMap;

use super::objects::{alarm_value, arn_of, by_purpose, policy_value, same_config};
use super::support::aws_error;
use crate::aws::{self, AwsError, app_autoscaling as aas, cloudwatch as cw};
use crate::provider::Clients;
use crate::scaling::model::{Alarm, Policy};
use crate::tfplugin::{Diagnostics, Value};

/// The objects a resource wants, by purpose. Alarms invoke the policy of their purpose.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    /// `service/CLUSTER/SERVICE` of the target the policies belong to.
    pub resource_id: String,
    /// Policies in write order.
    pub policies: Vec<(String, Policy)>,
    /// Alarms in write order.
    pub alarms: Vec<(String, Alarm)>,
}

/// The planned `policies` and `alarms` lists: each object keeps its ARN only when it
/// exists with exactly the desired configuration; otherwise its ARN is unknown. An alarm's
/// actions are its policy's ARN when that is known.
pub fn plan(desired: &Desired, prior: &Value) -> (Value, Value) {
    let mut policy_arns = BTreeMap::new();
    let policies = desired
        .policies
        .iter()
        .map(|(purpose, p)| {
            let mut v = policy_value(purpose, p, Value::Unknown);
            keep_arn(&mut v, by_purpose(prior.get("policies"), purpose));
            policy_arns.insert(purpose.as_str(), v.get("arn").clone());
            v
        })
        .collect();
    let alarms = desired
        .alarms
        .iter()
        .map(|(purpose, a)| {
            let actions = match policy_arns.get(purpose.as_str()) {
                Some(Value::String(arn)) => Value::List(vec![Value::from(arn.as_str())]),
                _ => Value::Unknown,
            };
            let mut v = alarm_value(purpose, a, Value::Unknown, actions);
            keep_arn(&mut v, by_purpose(prior.get("alarms"), purpose));
            v
        })
        .collect();
    (Value::List(policies), Value::List(alarms))
}

fn keep_arn(planned: &mut Value, before: Option<&Value>) {
    if let Some(b) = before
        && same_config(b, planned)
        && let Some(arn) = b.get("arn").as_str()
    {
        planned.set("arn", Value::from(arn));
    }
}

/// The alarm ARN CloudWatch gives `name`, from the partition, region and account of a
/// policy ARN in the same region (PutMetricAlarm does not return it).
pub fn alarm_arn(policy_arn: &str, name: &str) -> String {
    let parts: Vec<&str> = policy_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, partition, _, region, account, ..] => {
            format!("arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}")
        }
        _ => String::new(),
    }
}

/// Checks, before anything is created, that none of the alarm names is taken (alarm names
/// are unique per account and region, and PutMetricAlarm would silently take over an
/// existing alarm). One DescribeAlarms call.
///
/// # Errors
/// `Err(())` after reporting, at `name`, the names taken or the failed call.
pub async fn check_alarm_names_free(
    client: &Clients,
    desired: &Desired,
    diags: &mut Diagnostics,
) -> Result<(), ()> {
    let names: Vec<String> = desired.alarms.iter().map(|(_, a)| a.name.clone()).collect();
    match cw::find_alarms_by_names(&client.cloudwatch, &names).await {
        Ok(existing) if existing.is_empty() => Ok(()),
        Ok(existing) => {
            let taken: Vec<&str> = existing.iter().map(|a| a.alarm.name.as_str()).collect();
            diags.error_at(
                crate::tfplugin::AttrPath::root("name"),
                "Alarm names already taken",
                format!(
                    "Alarm {} already exists in region {}: alarm names are unique per account \
                     and region. Choose another name, or import the existing resource with its \
                     CLUSTER/SERVICE/NAME.",
                    taken.join(", "),
                    client.region
                ),
            );
            Err(())
        }
        Err(e) => {
            aws_error(diags, &e);
            Err(())
        }
    }
}

/// Tags before and after.
#[derive(Debug, Clone, Copy)]
pub struct Tags<'a> {
    /// What the objects carry now.
    pub had: &'a BTreeMap<String, String>,
    /// What they should carry.
    pub want: &'a BTreeMap<String, String>,
}

/// Writes what the plan marks as to be written — policies, then the alarms invoking them
/// (tagged at creation, re-tagged when tags change), then removes objects no longer
/// wanted, or left under an old name after a rename (alarms before policies) — recording
/// in `out` what exists after every step.
///
/// # Errors
/// `Err(())` after reporting the failure in `diags`; `out` then lists what exists.
pub async fn write(
    client: &Clients,
    desired: &Desired,
    state: &Value,
    planned: &Value,
    tags: Tags<'_>,
    out: &mut Value,
    diags: &mut Diagnostics,
) -> Result<(), ()> {
    let new_tags = tags.had != tags.want;
    let policy_keys: Vec<(&str, &str)> = desired
        .policies
        .iter()
        .map(|(p, x)| (p.as_str(), x.name.as_str()))
        .collect();
    let alarm_keys: Vec<(&str, &str)> = desired
        .alarms
        .iter()
        .map(|(p, x)| (p.as_str(), x.name.as_str()))
        .collect();

    let mut policies: Vec<Value> = Vec::new();
    let mut policy_arns: BTreeMap<&str, String> = BTreeMap::new();
    for (purpose, policy) in &desired.policies {
        let before = recorded_entry(state.get("policies"), purpose, &policy.name);
        let planned_arn = arn_of(by_purpose(planned.get("policies"), purpose));
        if let (Some(arn), Some(b)) = (planned_arn, before)
            && arn_of(Some(b)) == Some(arn)
        {
            policy_arns.insert(purpose, arn.to_owned());
            policies.push(b.clone());
            continue;
        }
        match aas::put_scaling_policy(&client.aas, &client.stop, policy).await {
            Ok(observed) => {
                policy_arns.insert(purpose, observed.arn.clone());
                policies.push(policy_value(purpose, policy, Value::from(observed.arn)));
            }
            Err(e) => {
                aws_error(diags, &e);
                keep_unwritten(&mut policies, state.get("policies"));
                out.set("policies", Value::List(policies));
                return Err(());
            }
        }
    }
    let stale_policies: Vec<Value> = state
        .get("policies")
        .elements()
        .iter()
        .filter(|e| !wanted(&policy_keys, e))
        .cloned()
        .collect();
    out.set(
        "policies",
        Value::List(policies.iter().chain(&stale_policies).cloned().collect()),
    );

    let mut alarms: Vec<Value> = Vec::new();
    for (purpose, alarm) in &desired.alarms {
        let Some(policy_arn) = policy_arns.get(purpose.as_str()) else {
            continue;
        };
        let mut alarm = alarm.clone();
        alarm.actions = vec![policy_arn.clone()];
        let actions = Value::List(vec![Value::from(policy_arn.as_str())]);
        let before = recorded_entry(state.get("alarms"), purpose, &alarm.name);
        let unchanged = arn_of(by_purpose(planned.get("alarms"), purpose)).is_some()
            && before.is_some_and(|b| {
                same_config(
                    b,
                    &alarm_value(purpose, &alarm, Value::Null, actions.clone()),
                )
            });
        if !unchanged
            && let Err(e) = cw::put_metric_alarm(&client.cloudwatch, &alarm, tags.want).await
        {
            aws_error(diags, &e);
            keep_unwritten(&mut alarms, state.get("alarms"));
            out.set("alarms", Value::List(alarms));
            return Err(());
        }
        let arn = arn_of(before).map_or_else(|| alarm_arn(policy_arn, &alarm.name), str::to_owned);
        let existed = arn_of(before).is_some();
        alarms.push(alarm_value(
            purpose,
            &alarm,
            Value::from(arn.as_str()),
            actions,
        ));
        // A new alarm got its tags from PutMetricAlarm; an existing one keeps its old ones.
        if existed
            && new_tags
            && let Err(e) = cw::sync_tags(&client.cloudwatch, &arn, tags.had, tags.want).await
        {
            aws_error(diags, &e);
            keep_unwritten(&mut alarms, state.get("alarms"));
            out.set("alarms", Value::List(alarms));
            return Err(());
        }
    }
    let stale_alarms: Vec<String> = state
        .get("alarms")
        .elements()
        .iter()
        .filter(|e| !wanted(&alarm_keys, e))
        .filter_map(|e| e.get("name").as_str().map(str::to_owned))
        .collect();
    if !stale_alarms.is_empty()
        && let Err(e) = cw::delete_alarms(&client.cloudwatch, &stale_alarms).await
    {
        aws_error(diags, &e);
        keep_unwritten(&mut alarms, state.get("alarms"));
        out.set("alarms", Value::List(alarms));
        return Err(());
    }
    out.set("alarms", Value::List(alarms));
    for (i, stale) in stale_policies.iter().enumerate() {
        if let Some(name) = stale.get("name").as_str() {
            let r = aas::delete_scaling_policy(&client.aas, &desired.resource_id, name).await;
            if let Err(e) = aws::ignore_not_found(r) {
                aws_error(diags, &e);
                let left = policies
                    .iter()
                    .chain(&stale_policies[i..])
                    .cloned()
                    .collect();
                out.set("policies", Value::List(left));
                return Err(());
            }
        }
    }
    out.set("policies", Value::List(policies));
    Ok(())
}

/// The recorded entry for an object of this purpose *and* name: after a rename, the entry
/// under the old name is another object (deleted once the new one exists).
fn recorded_entry<'a>(list: &'a Value, purpose: &str, name: &str) -> Option<&'a Value> {
    by_purpose(list, purpose).filter(|e| e.get("name").as_str() == Some(name))
}

/// Whether a recorded entry is one of the wanted (purpose, name) objects.
fn wanted(keys: &[(&str, &str)], entry: &Value) -> bool {
    let key = (entry.get("purpose").as_str(), entry.get("name").as_str());
    keys.iter().any(|(p, n)| key == (Some(p), Some(n)))
}

/// After a failed write, adds the recorded entries (what exists) of every object not
/// written yet — those due for deletion, or renamed, included — so state still lists all
/// of them.
fn keep_unwritten(done: &mut Vec<Value>, recorded: &Value) {
    for e in recorded.elements() {
        let key = (e.get("purpose"), e.get("name"));
        if !done
            .iter()
            .any(|d| (d.get("purpose"), d.get("name")) == key)
        {
            done.push(e.clone());
        }
    }
}

/// What a read found.
#[derive(Debug, Default)]
pub struct Observed {
    /// The `policies` list for state (missing objects keep their entry, ARN null).
    pub policies: Vec<Value>,
    /// The `alarms` list for state, likewise.
    pub alarms: Vec<Value>,
    /// The policies AWS holds.
    pub found_policies: Vec<aas::ObservedPolicy>,
    /// The alarms CloudWatch holds.
    pub found_alarms: Vec<cw::ObservedAlarm>,
}

impl Observed {
    /// Whether any object exists.
    pub fn any(&self) -> bool {
        !self.found_policies.is_empty() || !self.found_alarms.is_empty()
    }
}

/// Reads the named policies and alarms: one call each. `policies` and `alarms` are
/// (purpose, name) pairs; `state` supplies the entries of objects that have gone.
///
/// # Errors
/// API errors.
pub async fn read(
    client: &Clients,
    resource_id: &str,
    policies: &[(String, String)],
    alarms: &[(String, String)],
    state: &Value,
) -> Result<Observed, AwsError> {
    let names: Vec<String> = policies.iter().map(|(_, n)| n.clone()).collect();
    let found_policies = aas::find_scaling_policies(&client.aas, resource_id, &names).await?;
    let names: Vec<String> = alarms.iter().map(|(_, n)| n.clone()).collect();
    let found_alarms = cw::find_alarms_by_names(&client.cloudwatch, &names).await?;
    let gone = |list: &str, purpose: &str| {
        by_purpose(state.get(list), purpose).map(|e| {
            let mut e = e.clone();
            e.set("arn", Value::Null);
            e
        })
    };
    let mut out = Observed::default();
    for (purpose, name) in policies {
        match found_policies.iter().find(|o| &o.policy.name == name) {
            Some(o) => out.policies.push(policy_value(
                purpose,
                &o.policy,
                Value::from(o.arn.as_str()),
            )),
            None => out.policies.extend(gone("policies", purpose)),
        }
    }
    for (purpose, name) in alarms {
        match found_alarms.iter().find(|o| &o.alarm.name == name) {
            Some(o) => {
                let actions = Value::List(
                    o.alarm
                        .actions
                        .iter()
                        .map(|a| Value::from(a.as_str()))
                        .collect(),
                );
                out.alarms.push(alarm_value(
                    purpose,
                    &o.alarm,
                    Value::from(o.arn.as_str()),
                    actions,
                ));
            }
            None => out.alarms.extend(gone("alarms", purpose)),
        }
    }
    out.found_policies = found_policies;
    out.found_alarms = found_alarms;
    Ok(out)
}

/// The (purpose, name) pairs of a state list, for [`read`].
pub fn recorded(state: &Value, list: &str) -> Vec<(String, String)> {
    state
        .get(list)
        .elements()
        .iter()
        .filter_map(|e| {
            Some((
                e.get("purpose").as_str()?.to_owned(),
                e.get("name").as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Deletes the alarms of `state`, then — unless the caller deregisters the target, which
/// takes its policies with it — its policies. Objects already gone are fine.
pub async fn delete(
    client: &Clients,
    resource_id: &str,
    state: &Value,
    delete_policies: bool,
    diags: &mut Diagnostics,
) -> Result<(), ()> {
    let alarms: Vec<String> = recorded(state, "alarms")
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    if let Err(e) = cw::delete_alarms(&client.cloudwatch, &alarms).await {
        aws_error(diags, &e);
        return Err(());
    }
    if delete_policies {
        for (_, name) in recorded(state, "policies") {
            let r = aas::delete_scaling_policy(&client.aas, resource_id, &name).await;
            if let Err(e) = aws::ignore_not_found(r) {
                aws_error(diags, &e);
                return Err(());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_arns_come_from_the_policy_arn() {
        let p = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:abc:resource/ecs/service/c/s:policyName/p";
        assert_eq!(
            alarm_arn(p, "a"),
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"
        );
    }
}
