//! The schema-driven part of planning: defaults, "known after apply", kept state and
//! replacement, applied before a resource's own plan modification.
//!
//! Owns the rules Terraform holds providers to (see `docs/plugin-protocol` in Terraform):
//! non-computed values equal configuration; computed attributes with null configuration
//! become unknown only when the object changes, so an unchanged resource plans no diff.

use super::diag::AttrPath;
use super::schema::{AttrType, Block, Nesting, Schema};
use super::value::Value;

/// The schema-driven plan of a resource change.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaPlan {
    /// The planned new state (null when the resource is to be destroyed).
    pub planned: Value,
    /// Top-level attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
}

/// Plans a change from `prior` (null on create) towards `proposed` (Terraform's merge of
/// configuration and prior state; null on destroy).
///
/// # Guarantees
/// - Attributes with a default get it where configuration is null.
/// - When the planned object equals the prior one, the plan is exactly the prior state.
/// - Otherwise computed attributes with null configuration (and no default) become
///   unknown, except where `use_state_for_unknown` keeps a known prior value.
/// - `requires_replace` lists top-level attributes so marked whose planned value differs
///   from the prior one; empty on create and destroy.
pub fn plan(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> SchemaPlan {
    if proposed.is_null() {
        return SchemaPlan {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    let mut planned = proposed.clone();
    follow_config_for_single_blocks(&schema.block, &mut planned, config);
    apply_defaults(&schema.block, &mut planned, config);
    if prior.is_null() || !planned.semantically_equal(prior) {
        mark_computed_unknown(&schema.block, &mut planned, config);
    }
    let mut requires_replace = Vec::new();
    if !prior.is_null() {
        for attr in &schema.block.attributes {
            let slot = planned.get(&attr.name).clone();
            let before = prior.get(&attr.name);
            if attr.use_state_for_unknown && slot.is_unknown() && !before.is_null() {
                planned.set(&attr.name, before.clone());
            }
            if attr.requires_replace && !planned.get(&attr.name).semantically_equal(before) {
                requires_replace.push(AttrPath::root(&attr.name));
            }
        }
    }
    SchemaPlan {
        planned,
        requires_replace,
    }
}

/// Blocks are never computed, so a single nested block exists in the plan exactly when it
/// exists in configuration. (Terraform 1.0 proposes the prior block even after it was
/// removed from configuration.)
fn follow_config_for_single_blocks(block: &Block, value: &mut Value, config: &Value) {
    for nb in &block.blocks {
        if nb.nesting == Nesting::Single && config.get(&nb.name).is_null() && !config.is_unknown() {
            value.set(&nb.name, Value::Null);
        }
    }
}

/// Sets defaults where configuration is null, through nested blocks.
pub fn apply_defaults(block: &Block, value: &mut Value, config: &Value) {
    if !matches!(value, Value::Object(_)) {
        return;
    }
    for attr in &block.attributes {
        if let Some(default) = &attr.default
            && config.get(&attr.name).is_null()
        {
            value.set(&attr.name, default.clone());
        }
    }
    for nb in &block.blocks {
        let cfg = config.get(&nb.name);
        let Some(slot) = value.get_mut(&nb.name) else {
            continue;
        };
        for_each_nested(nb.nesting, slot, cfg, |v, c| {
            apply_defaults(&nb.block, v, c)
        });
    }
}

fn mark_computed_unknown(block: &Block, value: &mut Value, config: &Value) {
    if !matches!(value, Value::Object(_)) {
        return;
    }
    for attr in &block.attributes {
        let cfg = config.get(&attr.name);
        if attr.computed && attr.default.is_none() && cfg.is_null() {
            value.set(&attr.name, Value::Unknown);
        } else if let AttrType::Nested {
            nesting,
            attributes,
        } = &attr.ty
        {
            let nested = Block::new(attributes.clone());
            if let Some(slot) = value.get_mut(&attr.name) {
                for_each_nested(*nesting, slot, cfg, |v, c| {
                    mark_computed_unknown(&nested, v, c)
                });
            }
        }
    }
    for nb in &block.blocks {
        let cfg = config.get(&nb.name);
        let Some(slot) = value.get_mut(&nb.name) else {
            continue;
        };
        for_each_nested(nb.nesting, slot, cfg, |v, c| {
            mark_computed_unknown(&nb.block, v, c)
        });
    }
}

/// Calls `f` on each nested object of `slot` with the matching configuration object
/// (lists by index, maps by key, single objects directly; set elements cannot be matched
/// to configuration and are left alone).
fn for_each_nested(
    nesting: Nesting,
    slot: &mut Value,
    cfg: &Value,
    mut f: impl FnMut(&mut Value, &Value),
) {
    match (nesting, slot) {
        (Nesting::Single | Nesting::Group, v @ Value::Object(_)) => f(v, cfg),
        (Nesting::List, Value::List(items)) => {
            let cfgs = cfg.elements();
            for (i, item) in items.iter_mut().enumerate() {
                f(item, cfgs.get(i).unwrap_or(&Value::Null));
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (k, item) in items.iter_mut() {
                let c = cfg.entries().and_then(|m| m.get(k)).unwrap_or(&Value::Null);
                f(item, c);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tfplugin::schema::{Attribute, NestedBlock};
    use crate::tfplugin::types::Type;

    fn schema() -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required("name", Type::String).requires_replace(),
                Attribute::optional("size", Type::Number),
                Attribute::with_default("mode", Type::String, Value::from("fast")),
                Attribute::computed("arn", Type::String).use_state_for_unknown(),
                Attribute::computed("revision", Type::Number),
            ])
            .with_blocks(vec![NestedBlock::new(
                "step",
                Nesting::List,
                Block::new(vec![
                    Attribute::optional("lower", Type::Number),
                    Attribute::with_default("weight", Type::Number, Value::int(1)),
                ]),
            )]),
        )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let mut base = Value::object([
            ("name", Value::Null),
            ("size", Value::Null),
            ("mode", Value::Null),
            ("arn", Value::Null),
            ("revision", Value::Null),
            ("step", Value::List(vec![])),
        ]);
        for (k, v) in pairs {
            base.set(k, v.clone());
        }
        base
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let config = obj(&[("name", Value::from("a"))]);
        let p = plan(&schema(), &Value::Null, &config, &config);
        assert_eq!(p.planned.get("mode"), &Value::from("fast"));
        assert!(p.planned.get("arn").is_unknown());
        assert!(p.planned.get("revision").is_unknown());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn unchanged_object_plans_exactly_the_prior_state() {
        let config = obj(&[("name", Value::from("a"))]);
        let prior = obj(&[
            ("name", Value::from("a")),
            ("mode", Value::from("fast")),
            ("arn", Value::from("arn:x")),
            ("revision", Value::int(3)),
        ]);
        // Terraform's proposed state carries computed values over from the prior state.
        let proposed = obj(&[
            ("name", Value::from("a")),
            ("arn", Value::from("arn:x")),
            ("revision", Value::int(3)),
        ]);
        let p = plan(&schema(), &prior, &proposed, &config);
        assert_eq!(p.planned, prior);
    }

    #[test]
    fn update_keeps_state_where_asked_and_unknowns_the_rest() {
        let config = obj(&[("name", Value::from("a")), ("size", Value::int(2))]);
        let prior = obj(&[
            ("name", Value::from("a")),
            ("mode", Value::from("fast")),
            ("arn", Value::from("arn:x")),
            ("revision", Value::int(3)),
        ]);
        let proposed = obj(&[
            ("name", Value::from("a")),
            ("size", Value::int(2)),
            ("arn", Value::from("arn:x")),
            ("revision", Value::int(3)),
        ]);
        let p = plan(&schema(), &prior, &proposed, &config);
        assert_eq!(p.planned.get("arn"), &Value::from("arn:x"));
        assert!(p.planned.get("revision").is_unknown());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn changing_a_replace_attribute_requests_replacement() {
        let config = obj(&[("name", Value::from("b"))]);
        let prior = obj(&[("name", Value::from("a")), ("mode", Value::from("fast"))]);
        let p = plan(&schema(), &prior, &config, &config);
        assert_eq!(p.requires_replace, vec![AttrPath::root("name")]);
    }

    #[test]
    fn defaults_reach_into_nested_blocks() {
        let config = obj(&[
            ("name", Value::from("a")),
            (
                "step",
                Value::List(vec![Value::object([
                    ("lower", Value::int(1)),
                    ("weight", Value::Null),
                ])]),
            ),
        ]);
        let p = plan(&schema(), &Value::Null, &config, &config);
        assert_eq!(
            p.planned.get("step").elements()[0].get("weight"),
            &Value::int(1)
        );
    }

    #[test]
    fn a_removed_single_block_is_planned_absent_even_when_proposed() {
        let schema = Schema::new(
            Block::new(vec![Attribute::optional("a", Type::String)]).with_blocks(vec![
                NestedBlock::new(
                    "opts",
                    Nesting::Single,
                    Block::new(vec![Attribute::with_default(
                        "on",
                        Type::Bool,
                        Value::Bool(false),
                    )]),
                ),
            ]),
        );
        let prior = Value::object([
            ("a", Value::Null),
            ("opts", Value::object([("on", Value::Bool(true))])),
        ]);
        let config = Value::object([("a", Value::Null), ("opts", Value::Null)]);
        let p = plan(&schema, &prior, &prior, &config);
        assert!(p.planned.get("opts").is_null());
    }

    #[test]
    fn destroy_plans_null() {
        let prior = obj(&[("name", Value::from("a"))]);
        let p = plan(&schema(), &prior, &Value::Null, &Value::Null);
        assert!(p.planned.is_null());
    }
}
