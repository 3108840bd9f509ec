//! Who made an object: the owner tag every alarm and every scalable target this provider
//! registers carries, and the claims one provider process holds on object names while
//! Terraform plans and applies its resources in parallel.
//!
//! Alarm names are unique per account and region, scaling-policy names per scalable
//! target, and PutMetricAlarm, PutScalingPolicy and RegisterScalableTarget are upserts: a
//! second writer silently takes an object over. Two defences keep objects from being
//! shared:
//! - **Claims** (one process, exact): every resource claims the names it will write when
//!   it is planned; a second resource claiming a name already held by another owner gets an
//!   error at plan, before anything is written.
//! - **The owner tag** (across processes and workspaces): objects carry
//!   `queuescale:owner = <type> <service resource id> [name=<name>]`. Before writing an
//!   object that state does not record, the resource reads the tag: its own (a write whose
//!   reply was lost) is adopted, any other owner is an error naming both. After creating an
//!   object the tag is read again, and every refresh checks it, so a takeover by another
//!   workspace shows at once.
//!
//! # Assumptions
//! The owner is the configuration's identity (type, service, name), not a random id, so
//! that an interrupted apply recognises its own objects. Two configurations with the same
//! type, service and name in *different* workspaces therefore look like one resource to
//! AWS; within one Terraform run they are caught by the claims. Scaling policies cannot be
//! tagged (Application Auto Scaling tags only scalable targets): a policy is recognised by
//! its name on its service and by the owner tag of the alarm that invokes it.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;

/// The tag key that records an object's owner.
pub const OWNER_TAG: &str = "queuescale:owner";

/// On a backlog policy's alarms: how its target was given (`BacklogTarget::tag_value`),
/// which import reads back.
pub const INPUTS_TAG: &str = "queuescale:inputs";

/// Tag keys starting with this are the provider's own; users cannot set them and they are
/// never shown in `tags` or `tags_all`.
pub const RESERVED_PREFIX: &str = "queuescale:";

/// The identity of the resource configuration that made an object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Owner(String);

impl Owner {
    /// The owner `type_name` on `resource_id` (`service/CLUSTER/SERVICE`), with the
    /// resource's `name` when it has one.
    pub fn new(type_name: &str, resource_id: &str, name: Option<&str>) -> Owner {
        match name {
            Some(n) => Owner(format!("{type_name} {resource_id} name={n}")),
            None => Owner(format!("{type_name} {resource_id}")),
        }
    }

    /// The owner recorded in an object's tags, if any.
    pub fn from_tags(tags: &BTreeMap<String, String>) -> Option<Owner> {
        tags.get(OWNER_TAG).map(|v| Owner(v.clone()))
    }

    /// The tag value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `tags` with this owner's tag added.
    pub fn tagged(&self, tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut all = tags.clone();
        all.insert(OWNER_TAG.to_owned(), self.0.clone());
        all
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Tags without the provider's reserved ones.
pub fn user_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with(RESERVED_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What an object is, for claims and messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    /// A CloudWatch alarm (names unique per account and region).
    Alarm(String),
    /// A scaling policy: (resource id, name).
    Policy(String, String),
    /// The scalable target of a service, registered and deregistered by its owner.
    Target(String),
    /// An EventBridge Scheduler schedule (names unique per account, region and group).
    Schedule(String),
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Alarm(n) => write!(f, "alarm {n:?}"),
            Object::Policy(id, n) => write!(f, "scaling policy {n:?} on {id}"),
            Object::Target(id) => write!(f, "scalable target {id}"),
            Object::Schedule(n) => write!(f, "schedule {n:?}"),
        }
    }
}

/// An object another owner holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.sentence())]
pub struct Clash {
    /// The object.
    pub object: Object,
    /// Who holds it (`None`: an object this provider did not make).
    pub holder: Option<Owner>,
    /// Who wanted it.
    pub wanted_by: Owner,
}

impl Clash {
    fn sentence(&self) -> String {
        let held = match &self.holder {
            Some(o) => format!("belongs to {o}"),
            None => "exists and was not made by this provider (no queuescale:owner tag)".into(),
        };
        format!(
            "The {} {held}; this resource is {}. Two resources must never share an object: \
             AWS would keep only the last one's settings. Give one of them another name, or \
             remove the other one first. To manage an existing object with this resource, \
             import it.",
            self.object, self.wanted_by
        )
    }
}

/// Names claimed in one provider process (shared by every resource it serves), and the
/// resources planned to scale each service.
#[derive(Debug, Default)]
pub struct Claims {
    held: Mutex<HashMap<Object, Owner>>,
    scalers: Mutex<HashMap<String, Vec<Owner>>>,
}

impl Claims {
    /// Claims every object for `owner`, all or nothing. Claiming again what one already
    /// holds is fine.
    ///
    /// # Errors
    /// The first object another owner holds.
    pub fn claim(&self, objects: &[Object], owner: &Owner) -> Result<(), Clash> {
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((object, holder)) = objects
            .iter()
            .find_map(|o| held.get(o).filter(|h| *h != owner).map(|h| (o, h)))
        {
            return Err(Clash {
                object: object.clone(),
                holder: Some(holder.clone()),
                wanted_by: owner.clone(),
            });
        }
        for o in objects {
            held.insert(o.clone(), owner.clone());
        }
        Ok(())
    }

    /// Records that `owner` scales `resource_id` and returns the other resources planned
    /// to scale it in this process so far.
    pub fn note_scaler(&self, resource_id: &str, owner: &Owner) -> Vec<Owner> {
        let mut scalers = self
            .scalers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let list = scalers.entry(resource_id.to_owned()).or_default();
        if !list.contains(owner) {
            list.push(owner.clone());
        }
        list.iter().filter(|o| *o != owner).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(service: &str) -> Owner {
        Owner::new(
            "queuescale_sqs_backlog_scaling_policy",
            &format!("service/main/{service}"),
            Some("dup"),
        )
    }

    #[test]
    fn a_second_owner_of_a_name_is_refused_and_named() {
        let claims = Claims::default();
        let alarm = Object::Alarm("dup-wake-from-zero".into());
        claims
            .claim(std::slice::from_ref(&alarm), &owner("a"))
            .unwrap();
        claims
            .claim(std::slice::from_ref(&alarm), &owner("a"))
            .unwrap();
        let clash = claims
            .claim(&[Object::Alarm("x".into()), alarm.clone()], &owner("b"))
            .unwrap_err();
        assert_eq!(clash.object, alarm);
        assert_eq!(clash.holder, Some(owner("a")));
        let text = clash.to_string();
        assert!(text.contains("service/main/a name=dup"), "{text}");
        assert!(text.contains("service/main/b name=dup"), "{text}");
        // All or nothing: the free name was not taken by the refused claim.
        claims
            .claim(&[Object::Alarm("x".into())], &owner("c"))
            .unwrap();
    }

    #[test]
    fn scalers_of_one_service_see_each_other() {
        let claims = Claims::default();
        assert!(claims.note_scaler("service/main/a", &owner("a")).is_empty());
        assert!(claims.note_scaler("service/main/a", &owner("a")).is_empty());
        let step = Owner::new(
            "queuescale_step_scaling_policy",
            "service/main/a",
            Some("s"),
        );
        assert_eq!(claims.note_scaler("service/main/a", &step), [owner("a")]);
        assert!(claims.note_scaler("service/main/b", &owner("b")).is_empty());
    }

    #[test]
    fn owner_tags_round_trip_and_are_hidden_from_user_tags() {
        let o = owner("a");
        let tags = o.tagged(&BTreeMap::from([("team".into(), "jobs".into())]));
        assert_eq!(Owner::from_tags(&tags), Some(o));
        assert_eq!(
            user_tags(&tags),
            BTreeMap::from([("team".to_string(), "jobs".to_string())])
        );
    }
}
