//! Reconciling a resource's scaling policies and alarms with AWS, shared by the
//! scaling-policy resources: planning which objects will be written, writing them in
//! order (policies, then the alarms that invoke them, then removals), reading them back,
//! and deleting them.
//!
//! Every object is identified by a *purpose* label (e.g. `wake-from-zero`, `lower`); an
//! alarm invokes the policy with the same purpose. What exists is recorded in the
//! `policies` state map (see `objects.rs`): an ARN that is null means the object does not
//! exist. An object is written when what state records of it differs from what is
//! wanted; it keeps its ARN when it keeps its name.
//!
//! No object is ever shared with another resource (see `ownership.rs`): names are claimed
//! at plan, objects state does not record are checked before anything is written, and the
//! owner tag of new alarms is checked again after writing and at every refresh.

use std::collections::BTreeMap;

use super::objects::{
    self, Detail, Lists, alarm_value, arn_of, by_purpose, detail_differs, observed_alarm_value,
    policy_value, same_config,
};
use super::ownership::{Clash, Object, Owner, user_tags};
use super::support::aws_error;
use crate::aws::{self, AwsError, app_autoscaling as aas, cloudwatch as cw};
use crate::provider::Clients;
use crate::scaling::model::{Alarm, Policy};
use crate::tfplugin::{AttrPath, Diagnostics, Value};

/// The objects a resource wants, by purpose. Alarms invoke the policy of their purpose.
#[derive(Debug, Clone)]
pub struct Desired {
    /// `service/CLUSTER/SERVICE` of the target the policies belong to.
    pub resource_id: String,
    /// Who the objects belong to.
    pub owner: Owner,
    /// Policies in write order.
    pub policies: Vec<(String, Policy)>,
    /// Alarms in write order.
    pub alarms: Vec<(String, Alarm)>,
}

impl Desired {
    /// Every object, for claims.
    pub fn objects(&self) -> Vec<Object> {
        let alarms = self
            .alarms
            .iter()
            .map(|(_, a)| Object::Alarm(a.name.clone()));
        let policies = self
            .policies
            .iter()
            .map(|(_, p)| Object::Policy(self.resource_id.clone(), p.name.clone()));
        alarms.chain(policies).collect()
    }
}

/// Why objects could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// An object belongs to another resource.
    #[error(transparent)]
    Clash(#[from] Clash),
    /// Deregistering a target would delete scaling policies other resources manage.
    #[error(
        "{resource_id} still has scaling policies this resource did not make: {}. \
         Deregistering a scalable target deletes its policies, so they would vanish while \
         Terraform believes they exist. Remove or replace them in the same apply (for \
         example with `lifecycle {{ replace_triggered_by = [...] }}` on each policy \
         resource), or delete them first.",
        policies.join(", ")
    )]
    TargetInUse {
        /// The target.
        resource_id: String,
        /// The other policies on it.
        policies: Vec<String>,
    },
}

/// What deleting a resource that registered a target does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Not registered any more: nothing to do.
    Gone,
    /// Still ours and only our policies on it: deregister (which deletes them too).
    Deregister,
    /// Another resource has taken it over: leave it registered.
    Leave,
}

/// Decides, before anything is deleted, what to do with `owner`'s target: deregister it
/// only when it still carries `owner`'s tag (or none: written by an earlier version) and no
/// policy but `own_policies` is on it.
///
/// # Errors
/// [`ObjectError::TargetInUse`] when other policies are on it; API errors.
pub async fn release_target(
    client: &Clients,
    resource_id: &str,
    owner: &Owner,
    own_policies: &[String],
) -> Result<Release, ObjectError> {
    let Some(t) = aws::optional(aas::find_scalable_target(&client.aas, resource_id).await)? else {
        return Ok(Release::Gone);
    };
    let tags = aas::list_tags(&client.aas, &t.arn).await?;
    if let Some(holder) = Owner::from_tags(&tags).filter(|h| h != owner) {
        tracing::warn!(resource_id, %holder, "scalable target now belongs to another resource; leaving it registered");
        return Ok(Release::Leave);
    }
    let others: Vec<String> = aas::list_scaling_policies(&client.aas, resource_id)
        .await?
        .into_iter()
        .map(|p| p.policy.name)
        .filter(|n| !own_policies.contains(n))
        .collect();
    if others.is_empty() {
        Ok(Release::Deregister)
    } else {
        Err(ObjectError::TargetInUse {
            resource_id: resource_id.to_owned(),
            policies: others,
        })
    }
}

/// Checks, before registering `resource_id` for `owner`, who holds it: `Ok(None)` when it
/// is not registered, `Ok(Some(arn))` when it is ours, or when `may_take_over` (the
/// resource was attached to this very target and now owns it) — the caller then writes
/// its owner tag.
///
/// # Errors
/// A clash naming the holder (or saying it was registered outside this provider); API
/// errors.
pub async fn check_target_owner(
    client: &Clients,
    resource_id: &str,
    owner: &Owner,
    may_take_over: bool,
) -> Result<Option<String>, ObjectError> {
    let Some(t) = aws::optional(aas::find_scalable_target(&client.aas, resource_id).await)? else {
        return Ok(None);
    };
    let tags = aas::list_tags(&client.aas, &t.arn).await?;
    match Owner::from_tags(&tags) {
        Some(h) if &h == owner => Ok(Some(t.arn)),
        _ if may_take_over => Ok(Some(t.arn)),
        holder => Err(Clash {
            object: Object::Target(resource_id.to_owned()),
            holder,
            wanted_by: owner.clone(),
        }
        .into()),
    }
}

/// After registering a new target, checks that it carries `owner`'s tag (registration
/// applies tags only to a target it creates: another writer's tag means it got there
/// first).
///
/// # Errors
/// A clash; API errors.
pub async fn verify_target_owner(
    client: &Clients,
    resource_id: &str,
    arn: &str,
    owner: &Owner,
) -> Result<(), ObjectError> {
    let tags = aas::list_tags(&client.aas, arn).await?;
    match Owner::from_tags(&tags) {
        Some(h) if &h == owner => Ok(()),
        holder => Err(Clash {
            object: Object::Target(resource_id.to_owned()),
            holder,
            wanted_by: owner.clone(),
        }
        .into()),
    }
}

/// Reports `e`; a clash is reported at `name`, the attribute that picks object names.
pub fn report(diags: &mut Diagnostics, e: &ObjectError) {
    match e {
        ObjectError::Aws(e) => aws_error(diags, e),
        ObjectError::Clash(c) => report_clash(diags, c),
        ObjectError::TargetInUse { .. } => {
            diags.error("Scalable target still in use", e.to_string())
        }
    }
}

/// Reports a clash at `name`.
pub fn report_clash(diags: &mut Diagnostics, c: &Clash) {
    let summary = match (&c.object, &c.holder) {
        (Object::Target(_), Some(_)) => "Scalable target managed by another resource".to_owned(),
        (Object::Target(_), None) => "Scalable target registered outside this provider".to_owned(),
        (_, Some(_)) => "Name already used by another resource".to_owned(),
        (_, None) => "Name already used outside this provider".to_owned(),
    };
    let at = match c.object {
        Object::Target(_) => AttrPath::root("service_name"),
        _ => AttrPath::root("name"),
    };
    diags.error_at(at, summary, c.to_string());
}

/// Claims the desired objects in this provider process, so that two resources planned or
/// applied together can never share one. Returns whether the claim held (else the clash
/// is reported).
pub fn claim(client: &Clients, desired: &Desired, diags: &mut Diagnostics) -> bool {
    warn_other_scalers(client, desired, diags);
    match client.claims.claim(&desired.objects(), &desired.owner) {
        Ok(()) => true,
        Err(c) => {
            report_clash(diags, &c);
            false
        }
    }
}

/// The planned objects: each keeps its ARN when state records it under the same name
/// (PutScalingPolicy updates a policy in place and an alarm's ARN is its name); a new one's
/// is unknown.
pub fn plan(desired: &Desired, prior: &Value) -> Lists {
    let before = objects::lists(prior);
    let policies = desired
        .policies
        .iter()
        .map(|(purpose, p)| {
            let mut v = policy_value(purpose, p, Value::Unknown);
            keep_arn(&mut v, recorded_entry(&before.policies, purpose, &p.name));
            v
        })
        .collect();
    let alarms = desired
        .alarms
        .iter()
        .map(|(purpose, a)| {
            let mut v = alarm_value(purpose, a, Value::Unknown);
            keep_arn(&mut v, recorded_entry(&before.alarms, purpose, &a.name));
            v
        })
        .collect();
    Lists { policies, alarms }
}

fn keep_arn(planned: &mut Value, before: Option<&Value>) {
    if let Some(arn) = arn_of(before) {
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

/// Warns, at plan, when other resources planned in this run scale the same service: the
/// backlog policy and step policies all move one desired count, and when several act at
/// once Application Auto Scaling applies the one that gives the largest capacity
/// (Application Auto Scaling user guide, "Multiple scaling policies"), so a scale-in of one
/// is undone by the other and the service does not settle where either intends.
pub fn warn_other_scalers(client: &Clients, desired: &Desired, diags: &mut Diagnostics) {
    let others = client
        .claims
        .note_scaler(&desired.resource_id, &desired.owner);
    if others.is_empty() {
        return;
    }
    let list: Vec<String> = others.iter().map(|o| format!("- {o}")).collect();
    diags.warning(
        format!("Several scaling policies for {}", desired.resource_id),
        format!(
            "{} is planned together with other policies on the same service:\n{}\nAWS runs \
             them all and, when several act at once, applies the largest capacity: one \
             policy's scale-in is undone by another's, and the task count follows whichever \
             asks for more. Keep one policy per service unless they watch different signals \
             on purpose.",
            desired.owner,
            list.join("\n")
        ),
    );
}

/// Warns, at create, about scaling policies AWS already holds on the service that are not
/// this resource's (made by another resource, another tool or by hand, such as the CPU
/// target tracking CDK's QueueProcessingFargateService adds, aws-cdk#20706): AWS applies
/// the largest capacity any of them asks for. One DescribeScalingPolicies call; a failed
/// read only loses the warning.
pub async fn warn_other_policies(client: &Clients, desired: &Desired, diags: &mut Diagnostics) {
    let ours: Vec<&str> = desired
        .policies
        .iter()
        .map(|(_, p)| p.name.as_str())
        .collect();
    let Ok(all) = aas::list_scaling_policies(&client.aas, &desired.resource_id).await else {
        return;
    };
    let others: Vec<String> = all
        .iter()
        .filter(|p| !ours.contains(&p.policy.name.as_str()))
        .map(|p| format!("- {}", p.policy.name))
        .collect();
    if others.is_empty() {
        return;
    }
    diags.warning(
        format!("Other scaling policies on {}", desired.resource_id),
        format!(
            "AWS already holds scaling policies on {} besides {}'s:\n{}\nAWS runs them \
             all and, when several act at once, applies the largest capacity, so this \
             resource's scale-in can be undone by them. Remove the ones that should not \
             scale this service.",
            desired.resource_id,
            desired.owner,
            others.join("\n")
        ),
    );
}

/// Checks, before anything is written, every object `state` does not record: claimed by
/// no other resource in this process, and, when AWS already holds it, made by this
/// resource (a write whose reply was lost, or an interrupted apply: adopted) and not by
/// another one. One DescribeAlarms and one DescribeScalingPolicies call, plus one tag read
/// per alarm that already exists.
///
/// # Errors
/// A clash, naming both owners; API errors.
pub async fn check_new_objects(
    client: &Clients,
    desired: &Desired,
    state: &Value,
) -> Result<(), ObjectError> {
    client.claims.claim(&desired.objects(), &desired.owner)?;
    let recorded = objects::lists(state);
    let new_alarms: Vec<String> = desired
        .alarms
        .iter()
        .filter(|(p, a)| recorded_entry(&recorded.alarms, p, &a.name).is_none())
        .map(|(_, a)| a.name.clone())
        .collect();
    let ours: Vec<&str> = desired
        .alarms
        .iter()
        .map(|(_, a)| a.name.as_str())
        .collect();
    if !new_alarms.is_empty() {
        for found in cw::find_alarms_by_names(&client.cloudwatch, &new_alarms).await? {
            check_alarm_owner(client, desired, &found).await?;
        }
    }
    let new_policies: Vec<String> = desired
        .policies
        .iter()
        .filter(|(p, x)| recorded_entry(&recorded.policies, p, &x.name).is_none())
        .map(|(_, x)| x.name.clone())
        .collect();
    if !new_policies.is_empty() {
        let found =
            aas::find_scaling_policies(&client.aas, &desired.resource_id, &new_policies).await?;
        // A policy under one of our names is ours unless an alarm of someone else's
        // invokes it (target tracking's own `TargetTracking-` alarms aside).
        if let Some(p) = found.iter().find(|p| {
            p.alarm_names
                .iter()
                .any(|a| !ours.contains(&a.as_str()) && !a.starts_with("TargetTracking-"))
        }) {
            return Err(Clash {
                object: Object::Policy(desired.resource_id.clone(), p.policy.name.clone()),
                holder: None,
                wanted_by: desired.owner.clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// Checks that an alarm AWS holds carries this resource's owner tag.
async fn check_alarm_owner(
    client: &Clients,
    desired: &Desired,
    found: &cw::ObservedAlarm,
) -> Result<(), ObjectError> {
    let tags = cw::list_tags(&client.cloudwatch, &found.arn).await?;
    match Owner::from_tags(&tags) {
        Some(o) if o == desired.owner => Ok(()),
        holder => Err(Clash {
            object: Object::Alarm(found.alarm.name.clone()),
            holder,
            wanted_by: desired.owner.clone(),
        }
        .into()),
    }
}

/// For import: the alarms among `names` that exist must invoke policies of `resource_id`
/// and carry no owner tag but `owner`'s.
///
/// # Errors
/// A sentence saying which alarm does not match, or the failed call.
pub async fn check_import_alarms(
    client: &Clients,
    resource_id: &str,
    owner: &Owner,
    names: &[String],
) -> Result<(), String> {
    let arn_part = format!("resource/ecs/{resource_id}:");
    for a in cw::find_alarms_by_names(&client.cloudwatch, names)
        .await
        .map_err(|e| e.to_string())?
    {
        if a.alarm
            .actions
            .iter()
            .filter(|x| crate::scaling::model::is_scaling_policy_arn(x))
            .any(|x| !x.contains(&arn_part))
        {
            return Err(format!(
                "Alarm {:?} invokes policies of another service, not {resource_id}.",
                a.alarm.name
            ));
        }
        let tags = cw::list_tags(&client.cloudwatch, &a.arn)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(holder) = Owner::from_tags(&tags).filter(|h| h != owner) {
            return Err(format!(
                "Alarm {:?} belongs to {holder}, not to {owner}.",
                a.alarm.name
            ));
        }
    }
    Ok(())
}

/// Tags before and after.
#[derive(Debug, Clone, Copy)]
pub struct Tags<'a> {
    /// What the objects carry now.
    pub had: &'a BTreeMap<String, String>,
    /// What they should carry.
    pub want: &'a BTreeMap<String, String>,
}

/// Writes what differs from what state records — policies, then the alarms invoking them
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
    tags: Tags<'_>,
    out: &mut Value,
    diags: &mut Diagnostics,
) -> Result<(), ()> {
    let recorded = objects::lists(state);
    let mut done = Lists::default();
    let result = write_objects(client, desired, &recorded, tags, &mut done).await;
    if result.is_err() {
        keep_unwritten(&mut done.policies, &recorded.policies);
        keep_unwritten(&mut done.alarms, &recorded.alarms);
    }
    objects::store(out, &done);
    result.map_err(|e| report(diags, &e))
}

/// The steps of [`write`]; `done` lists what exists after each (objects due for removal
/// stay listed until they are gone).
async fn write_objects(
    client: &Clients,
    desired: &Desired,
    recorded: &Lists,
    tags: Tags<'_>,
    done: &mut Lists,
) -> Result<(), ObjectError> {
    let new_tags = tags.had != tags.want;
    let (had_tags, want_tags) = (
        desired.owner.tagged(tags.had),
        desired.owner.tagged(tags.want),
    );
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
    let stale_policies: Vec<Value> = recorded
        .policies
        .iter()
        .filter(|e| !wanted(&policy_keys, e))
        .cloned()
        .collect();

    let mut policy_arns: BTreeMap<&str, String> = BTreeMap::new();
    for (purpose, policy) in &desired.policies {
        let before = recorded_entry(&recorded.policies, purpose, &policy.name);
        let wanted_entry = policy_value(purpose, policy, Value::Null);
        if let Some(b) = before
            && let Some(arn) = arn_of(Some(b))
            && same_config(b, &wanted_entry)
        {
            policy_arns.insert(purpose, arn.to_owned());
            done.policies.push(b.clone());
            continue;
        }
        let observed = aas::put_scaling_policy(&client.aas, &client.stop, policy).await?;
        policy_arns.insert(purpose, observed.arn.clone());
        done.policies
            .push(policy_value(purpose, policy, Value::from(observed.arn)));
    }
    done.policies.extend(stale_policies.iter().cloned());

    for (purpose, alarm) in &desired.alarms {
        // An alarm invokes the policy of its purpose; one of a purpose without a policy
        // (a notification alone) invokes only its notifications.
        let has_policy = desired.policies.iter().any(|(p, _)| p == purpose);
        let policy_arn = policy_arns.get(purpose.as_str());
        if has_policy && policy_arn.is_none() {
            continue;
        }
        let Some(account_arn) = policy_arn.or_else(|| policy_arns.values().next()) else {
            continue;
        };
        let mut alarm = alarm.clone();
        if let Some(arn) = policy_arn {
            alarm.actions.insert(0, arn.clone());
        }
        let before = recorded_entry(&recorded.alarms, purpose, &alarm.name);
        let unchanged = before.is_some_and(|b| {
            arn_of(Some(b)).is_some() && same_config(b, &alarm_value(purpose, &alarm, Value::Null))
        });
        if !unchanged {
            cw::put_metric_alarm(&client.cloudwatch, &alarm, &want_tags).await?;
        }
        let arn = arn_of(before).map_or_else(|| alarm_arn(account_arn, &alarm.name), str::to_owned);
        let existed = arn_of(before).is_some();
        done.alarms
            .push(alarm_value(purpose, &alarm, Value::from(arn.as_str())));
        // A new alarm got its tags from PutMetricAlarm; an existing one keeps its old ones.
        // A new one must carry our owner tag: had another resource created it since the
        // check, PutMetricAlarm would have kept that resource's tags.
        if existed {
            if new_tags {
                cw::sync_tags(&client.cloudwatch, &arn, &had_tags, &want_tags).await?;
            }
        } else {
            let found = cw::ObservedAlarm {
                alarm: alarm.clone(),
                arn: arn.clone(),
            };
            check_alarm_owner(client, desired, &found).await?;
        }
    }
    let stale_alarms: Vec<String> = recorded
        .alarms
        .iter()
        .filter(|e| !wanted(&alarm_keys, e))
        .filter_map(|e| e.get("name").as_str().map(str::to_owned))
        .collect();
    if !stale_alarms.is_empty() {
        cw::delete_alarms(&client.cloudwatch, &stale_alarms).await?;
    }
    for stale in &stale_policies {
        if let Some(name) = stale.get("name").as_str() {
            let r = aas::delete_scaling_policy(&client.aas, &desired.resource_id, name).await;
            aws::ignore_not_found(r)?;
            done.policies.retain(|e| e != stale);
        }
    }
    Ok(())
}

/// The recorded entry for an object of this purpose *and* name: after a rename, the entry
/// under the old name is another object (deleted once the new one exists).
fn recorded_entry<'a>(list: &'a [Value], purpose: &str, name: &str) -> Option<&'a Value> {
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
fn keep_unwritten(done: &mut Vec<Value>, recorded: &[Value]) {
    for e in recorded {
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
    /// The entries for state (missing objects keep their entry, ARN null).
    pub lists: Lists,
    /// The policies AWS holds.
    pub found_policies: Vec<aas::ObservedPolicy>,
    /// The alarms CloudWatch holds.
    pub found_alarms: Vec<cw::ObservedAlarm>,
    /// The user tags (owner tag removed) of the first alarm found, with its ARN.
    pub alarm_tags: Option<(String, BTreeMap<String, String>)>,
    /// The `queuescale:inputs` tag of the first alarm found.
    pub alarm_inputs: Option<String>,
}

impl Observed {
    /// Whether any object exists.
    pub fn any(&self) -> bool {
        !self.found_policies.is_empty() || !self.found_alarms.is_empty()
    }
}

/// Reads the named policies and alarms (one call each, made together) and the tags of the
/// first alarm found (one more, once the alarms are known), checking that it is still
/// `owner`'s: two round trips. `policies` and `alarms` are (purpose, name) pairs; `state`
/// supplies the entries of objects that have gone. With `wanted` (what the recorded
/// inputs compile to), an object whose labels or description differ from it says so in
/// its text.
///
/// # Errors
/// API errors (the policies' before the alarms', as if read one after the other); a clash
/// when another resource's owner tag is on the alarm (an alarm without one was written by
/// an earlier version of this provider and counts as ours).
pub async fn read(
    client: &Clients,
    owner: &Owner,
    resource_id: &str,
    policies: &[(String, String)],
    alarms: &[(String, String)],
    state: &Value,
    wanted: Option<&Desired>,
) -> Result<Observed, ObjectError> {
    let policy_names: Vec<String> = policies.iter().map(|(_, n)| n.clone()).collect();
    let alarm_names: Vec<String> = alarms.iter().map(|(_, n)| n.clone()).collect();
    let alarms_and_tags = async {
        let found = cw::find_alarms_by_names(&client.cloudwatch, &alarm_names).await?;
        let tags = match found.first() {
            Some(first) => Some(cw::list_tags(&client.cloudwatch, &first.arn).await?),
            None => None,
        };
        Ok::<_, AwsError>((found, tags))
    };
    let (found_policies, alarms_and_tags) = tokio::join!(
        aas::find_scaling_policies(&client.aas, resource_id, &policy_names),
        alarms_and_tags
    );
    let found_policies = found_policies?;
    let (found_alarms, first_tags) = alarms_and_tags?;
    let alarm_inputs = first_tags
        .as_ref()
        .and_then(|t| t.get(super::ownership::INPUTS_TAG).cloned());
    let alarm_tags = match (found_alarms.first(), first_tags) {
        (Some(first), Some(tags)) => {
            if let Some(holder) = Owner::from_tags(&tags).filter(|h| h != owner) {
                return Err(Clash {
                    object: Object::Alarm(first.alarm.name.clone()),
                    holder: Some(holder),
                    wanted_by: owner.clone(),
                }
                .into());
            }
            Some((first.arn.clone(), user_tags(&tags)))
        }
        _ => None,
    };
    let recorded = objects::lists(state);
    let gone = |list: &[Value], purpose: &str, name: &str| {
        recorded_entry(list, purpose, name).map(|e| {
            let mut e = e.clone();
            e.set("arn", Value::Null);
            e
        })
    };
    let note = |entry: &mut Value, found: Detail<'_>, want: Option<Detail<'_>>| {
        if let Some(w) = want {
            let differs = detail_differs(&found, &w);
            if !differs.is_empty() {
                objects::append(
                    entry,
                    &format!(" — AWS holds other {}", differs.join(" and ")),
                );
            }
        }
    };
    let mut out = Observed::default();
    let mut policy_arns: BTreeMap<&str, &str> = BTreeMap::new();
    for (purpose, name) in policies {
        match found_policies.iter().find(|o| &o.policy.name == name) {
            Some(o) => {
                policy_arns.insert(purpose.as_str(), o.arn.as_str());
                let mut e = policy_value(purpose, &o.policy, Value::from(o.arn.as_str()));
                let want = wanted.and_then(|d| {
                    d.policies
                        .iter()
                        .find(|(p, x)| p == purpose && &x.name == name)
                });
                note(
                    &mut e,
                    Detail::Policy(&o.policy),
                    want.map(|(_, x)| Detail::Policy(x)),
                );
                out.lists.policies.push(e);
            }
            None => out
                .lists
                .policies
                .extend(gone(&recorded.policies, purpose, name)),
        }
    }
    for (purpose, name) in alarms {
        match found_alarms.iter().find(|o| &o.alarm.name == name) {
            Some(o) => {
                let expects_policy = policies.iter().any(|(p, _)| p == purpose);
                let mut e = if expects_policy {
                    observed_alarm_value(
                        purpose,
                        &o.alarm,
                        &o.arn,
                        policy_arns.get(purpose.as_str()).copied(),
                    )
                } else {
                    alarm_value(purpose, &o.alarm, Value::from(o.arn.as_str()))
                };
                let want = wanted.and_then(|d| {
                    d.alarms
                        .iter()
                        .find(|(p, x)| p == purpose && &x.name == name)
                });
                note(
                    &mut e,
                    Detail::Alarm(&o.alarm),
                    want.map(|(_, x)| Detail::Alarm(x)),
                );
                out.lists.alarms.push(e);
            }
            None => out
                .lists
                .alarms
                .extend(gone(&recorded.alarms, purpose, name)),
        }
    }
    out.found_policies = found_policies;
    out.found_alarms = found_alarms;
    out.alarm_tags = alarm_tags;
    out.alarm_inputs = alarm_inputs;
    Ok(out)
}

/// (purpose, name) pairs, as [`read`] takes them.
pub type Keys = Vec<(String, String)>;

/// The (purpose, name) pairs of the policies and of the alarms state records, for [`read`].
pub fn recorded(state: &Value) -> (Keys, Keys) {
    let pairs = |list: &[Value]| {
        list.iter()
            .filter_map(|e| {
                Some((
                    e.get("purpose").as_str()?.to_owned(),
                    e.get("name").as_str()?.to_owned(),
                ))
            })
            .collect()
    };
    let l = objects::lists(state);
    (pairs(&l.policies), pairs(&l.alarms))
}

/// The policy and alarm names state records.
pub fn recorded_names(state: &Value) -> (Vec<String>, Vec<String>) {
    let (p, a) = recorded(state);
    let names = |v: Keys| v.into_iter().map(|(_, n)| n).collect();
    (names(p), names(a))
}

/// The names of `names` not in `known`.
fn not_in(names: &[String], known: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| !known.contains(n))
        .cloned()
        .collect()
}

/// The names a resource may have written beyond what its state records: objects written
/// by an apply whose reply was lost, or that was interrupted, before state recorded them.
#[derive(Debug, Clone, Default)]
pub struct Unrecorded {
    /// Alarm names the resource compiles.
    pub alarms: Vec<String>,
    /// Policy names the resource compiles.
    pub policies: Vec<String>,
}

/// Deletes the alarms of `state`, then — unless the caller deregisters the target, which
/// takes its policies with it — its policies. Objects already gone are fine. Objects under
/// the resource's other names (`unrecorded`) are deleted too when they are its own: alarms
/// carrying `owner`'s tag, and policies under its names that no other alarm invokes, so
/// that destroy after an interrupted apply leaves nothing behind.
pub async fn delete(
    client: &Clients,
    owner: &Owner,
    resource_id: &str,
    state: &Value,
    unrecorded: &Unrecorded,
    delete_policies: bool,
    diags: &mut Diagnostics,
) -> Result<(), ()> {
    let result = async {
        let (mut policies, mut alarms) = recorded_names(state);
        let extra = not_in(&unrecorded.alarms, &alarms);
        if !extra.is_empty() {
            for found in cw::find_alarms_by_names(&client.cloudwatch, &extra).await? {
                let tags = cw::list_tags(&client.cloudwatch, &found.arn).await?;
                if Owner::from_tags(&tags).as_ref() == Some(owner) {
                    alarms.push(found.alarm.name);
                }
            }
        }
        cw::delete_alarms(&client.cloudwatch, &alarms).await?;
        if !delete_policies {
            return Ok(());
        }
        let extra = not_in(&unrecorded.policies, &policies);
        if !extra.is_empty() {
            for found in aas::find_scaling_policies(&client.aas, resource_id, &extra).await? {
                let foreign = found
                    .alarm_names
                    .iter()
                    .any(|a| !a.starts_with("TargetTracking-") && !alarms.contains(a));
                if !foreign {
                    policies.push(found.policy.name);
                }
            }
        }
        for name in policies {
            let r = aas::delete_scaling_policy(&client.aas, resource_id, &name).await;
            aws::ignore_not_found(r)?;
        }
        Ok::<(), AwsError>(())
    }
    .await;
    result.map_err(|e| aws_error(diags, &e))
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
