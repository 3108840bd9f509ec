//! AWS access, one module per service: finders (AWS "not found" becomes
//! [`AwsError::NotFound`] here, at the lowest level), idempotent writers, named retries
//! for eventual consistency, and request pacing under AWS's quotas (`limit.rs`). Speaks
//! `scaling::model`; knows nothing of Terraform.

pub mod app_autoscaling;
pub mod cloudwatch;
pub mod ecs;
pub mod error;
pub mod limit;
pub mod log;
pub mod retry;
pub mod scheduler;
pub mod sqs;
pub mod stop;

pub use error::{AwsError, ignore_not_found, optional};

use std::collections::BTreeMap;

/// What turns tags `have` into `want`: keys to remove, and keys to add or change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TagChanges {
    /// Keys present now and not wanted.
    pub remove: Vec<String>,
    /// Keys missing or with another value now.
    pub set: BTreeMap<String, String>,
}

/// The tag calls needed to get from `have` to `want` (empty when equal).
pub fn tag_changes(have: &BTreeMap<String, String>, want: &BTreeMap<String, String>) -> TagChanges {
    TagChanges {
        remove: have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect(),
        set: want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_changes_remove_what_is_gone_and_set_what_differs() {
        let have = BTreeMap::from([
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "2".to_string()),
        ]);
        let want = BTreeMap::from([
            ("b".to_string(), "3".to_string()),
            ("c".to_string(), "4".to_string()),
        ]);
        let c = tag_changes(&have, &want);
        assert_eq!(c.remove, ["a"]);
        assert_eq!(
            c.set,
            BTreeMap::from([
                ("b".to_string(), "3".to_string()),
                ("c".to_string(), "4".to_string())
            ])
        );
        assert_eq!(tag_changes(&want, &want), TagChanges::default());
    }
}
