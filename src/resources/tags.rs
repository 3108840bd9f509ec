//! Tags: validation against AWS limits and merging with the provider's default tags.

use std::collections::BTreeMap;

use crate::tfplugin::{AttrPath, Diagnostics, Value};

/// Checks tag keys and values against AWS limits (key 1–128 characters, value at most
/// 256, no `aws:` prefix, at most 50 tags), each problem at its tag's path.
pub fn validate(tags: &BTreeMap<String, Value>, at: &AttrPath, diags: &mut Diagnostics) {
    if tags.len() > 50 {
        diags.error_at(
            at.clone(),
            "Too many tags",
            format!("AWS allows 50 tags, not {}.", tags.len()),
        );
    }
    for (k, v) in tags {
        let path = at.clone().key(k);
        if k.is_empty() || k.chars().count() > 128 {
            diags.error_at(
                path.clone(),
                "Invalid tag key",
                "Tag keys have 1 to 128 characters.",
            );
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            diags.error_at(
                path.clone(),
                "Reserved tag key",
                format!("{k:?}: keys starting with \"aws:\" are reserved by AWS."),
            );
        }
        if k.starts_with(super::ownership::RESERVED_PREFIX) {
            diags.error_at(
                path.clone(),
                "Reserved tag key",
                format!(
                    "{k:?}: keys starting with {:?} are this provider's own (it records which \
                     resource made an object in {:?}).",
                    super::ownership::RESERVED_PREFIX,
                    super::ownership::OWNER_TAG
                ),
            );
        }
        if v.as_str().is_some_and(|s| s.chars().count() > 256) {
            diags.error_at(
                path,
                "Invalid tag value",
                "Tag values have at most 256 characters.",
            );
        }
    }
}

/// The tags to apply: the provider's defaults overridden by the resource's own.
pub fn merged(
    defaults: &BTreeMap<String, String>,
    own: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut all = defaults.clone();
    all.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// Sets `tags_all` in a plan to the provider's default tags merged with the resource's
/// `tags`, when both are known (without a configured client the value stays as planned).
pub fn plan_tags_all(defaults: Option<&BTreeMap<String, String>>, planned: &mut Value) {
    let tags = planned.get("tags");
    if let Some(defaults) = defaults
        && tags.is_wholly_known()
    {
        let all = merged(defaults, &tags.as_string_map());
        planned.set("tags_all", Value::string_map(&all));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_tags_win_over_defaults() {
        let d = BTreeMap::from([("team".into(), "a".into()), ("env".into(), "dev".into())]);
        let own = BTreeMap::from([("env".into(), "prod".into())]);
        let m = merged(&d, &own);
        assert_eq!(m["env"], "prod");
        assert_eq!(m["team"], "a");
    }

    #[test]
    fn bad_tags_are_reported_at_their_key() {
        let mut diags = Diagnostics::new();
        let tags = BTreeMap::from([
            ("aws:x".to_string(), Value::from("v")),
            (String::new(), Value::from("v")),
        ]);
        validate(&tags, &AttrPath::root("tags"), &mut diags);
        assert_eq!(diags.0.len(), 2);
        assert!(
            diags
                .iter()
                .all(|d| d.attribute.as_ref().is_some_and(|p| p.0.len() == 2))
        );
    }
}
