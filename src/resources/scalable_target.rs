//! `queuescale_scalable_target`: registers an ECS service with Application Auto Scaling
//! (min/max task count, suspended scaling, tags).
//!
//! Create: one ECS check, one RegisterScalableTarget (tags included). Read: one
//! DescribeScalableTargets, plus one ListTagsForResource when the resource manages tags.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::ownership::{Object, Owner, user_tags};
use super::reconcile::{self, Release};
use super::support::{aws_error, int_at, null_object, validate_ecs_name, whole_number_at_least};
use super::tags;
use crate::aws::{self, app_autoscaling as aas};
use crate::provider::Clients;
use crate::scaling::model::{Suspension, Target, parse_service_resource_id, service_resource_id};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, PlannedChange, Resource, Schema,
    Type, Value,
};

/// The resource type.
pub struct ScalableTarget;

/// The resource type name.
pub const TYPE_NAME: &str = "queuescale_scalable_target";

const SUSPENDED: [(&str, &str); 3] = [
    (
        "dynamic_scaling_in_suspended",
        "Suspend scale-in by scaling policies.",
    ),
    (
        "dynamic_scaling_out_suspended",
        "Suspend scale-out by scaling policies.",
    ),
    ("scheduled_scaling_suspended", "Suspend scheduled actions."),
];

fn schema() -> Schema {
    Schema::new(
        Block::new(vec![
            Attribute::computed("id", Type::String)
                .use_state_for_unknown()
                .describe("The Application Auto Scaling resource id, `service/CLUSTER/SERVICE`. Other resources take it as `scalable_target_id`."),
            Attribute::computed("arn", Type::String)
                .use_state_for_unknown()
                .describe("ARN of the scalable target."),
            Attribute::required("cluster_name", Type::String)
                .requires_replace()
                .describe("Name of the ECS cluster."),
            Attribute::required("service_name", Type::String)
                .requires_replace()
                .describe("Name of the ECS service."),
            Attribute::required("min_capacity", Type::Number)
                .describe("Fewest tasks scaling may leave running; `0` allows scaling to zero."),
            Attribute::required("max_capacity", Type::Number)
                .describe("Most tasks scaling may start. At least `min_capacity`."),
            Attribute::optional("tags", Type::map(Type::String))
                .describe("Tags for the scalable target."),
            Attribute::computed("tags_all", Type::map(Type::String))
                .describe("All tags of the target: the provider's `default_tags` merged with `tags`."),
        ])
        .with_blocks(vec![suspended_block()])
        .describe(
            "Registers an ECS service with Application Auto Scaling: the range of task counts \
             scaling policies may choose from. Scaling policies (such as \
             `queuescale_step_scaling_policy`) attach to it through its `id`.",
        ),
    )
}

/// The `suspended_state` block, shared with the backlog policy's owned target.
pub(crate) fn suspended_block() -> NestedBlock {
    NestedBlock::new(
        "suspended_state",
        Nesting::Single,
        Block::new(
            SUSPENDED
                .iter()
                .map(|(n, d)| {
                    Attribute::with_default(n, Type::Bool, Value::Bool(false)).describe(d)
                })
                .collect(),
        )
        .describe(
            "Suspends kinds of scaling, e.g. during an incident. Omitted: nothing is suspended.",
        ),
    )
}

/// What `v`'s `suspended_state` block suspends (nothing when it is absent).
pub(crate) fn suspension_from(v: &Value) -> Suspension {
    let s = v.get("suspended_state");
    let flag = |n: &str| s.get(n).as_bool().unwrap_or(false);
    Suspension {
        dynamic_in: flag(SUSPENDED[0].0),
        dynamic_out: flag(SUSPENDED[1].0),
        scheduled: flag(SUSPENDED[2].0),
    }
}

/// The `suspended_state` value for state: null when nothing is suspended and `prior` had
/// no block (as configuration without one reads), else the three flags.
pub(crate) fn suspension_value(s: Suspension, prior: &Value) -> Value {
    let suspended = [s.dynamic_in, s.dynamic_out, s.scheduled];
    if prior.get("suspended_state").is_null() && suspended.iter().all(|b| !b) {
        Value::Null
    } else {
        Value::object(
            SUSPENDED
                .iter()
                .zip(suspended)
                .map(|((n, _), b)| (*n, Value::Bool(b))),
        )
    }
}

/// The desired target from a planned state.
fn desired(v: &Value) -> Option<Target> {
    Some(Target {
        resource_id: service_resource_id(
            v.get("cluster_name").as_str()?,
            v.get("service_name").as_str()?,
        ),
        min_capacity: int_at(v, "min_capacity")?,
        max_capacity: int_at(v, "max_capacity")?,
        suspension: suspension_from(v),
    })
}

/// Who a target registered by this resource type belongs to.
fn owner(resource_id: &str) -> Owner {
    Owner::new(TYPE_NAME, resource_id, None)
}

/// `CLUSTER/SERVICE`, or the target's own id `service/CLUSTER/SERVICE` as users paste it.
pub fn parse_import_id(id: &str) -> Option<(&str, &str)> {
    parse_service_resource_id(id).or_else(|| {
        id.split_once('/')
            .filter(|(c, s)| !c.is_empty() && !s.is_empty() && !s.contains('/'))
    })
}

/// The tags the resource itself asks for.
fn own_tags(v: &Value) -> BTreeMap<String, String> {
    v.get("tags").as_string_map()
}

/// Checks min/max and names; shared with resources that own a target.
pub fn validate_capacities(config: &Value, diags: &mut Diagnostics) {
    let min = whole_number_at_least(config, "min_capacity", 0, diags);
    let max = whole_number_at_least(config, "max_capacity", 0, diags);
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        diags.error_at(
            AttrPath::root("min_capacity"),
            "min_capacity is greater than max_capacity",
            format!("min_capacity ({min}) must not exceed max_capacity ({max})."),
        );
    }
}

/// Writes the observed target into a state object (keeping what AWS does not report).
fn state_from(
    prior: &Value,
    observed: &aas::ObservedTarget,
    tags_all: Option<BTreeMap<String, String>>,
    defaults: &BTreeMap<String, String>,
) -> Value {
    let mut state = prior.clone();
    let t = &observed.target;
    if let Some((cluster, service)) = parse_service_resource_id(&t.resource_id) {
        state.set("cluster_name", Value::from(cluster));
        state.set("service_name", Value::from(service));
    }
    state.set("id", Value::from(t.resource_id.as_str()));
    state.set("arn", Value::from(observed.arn.as_str()));
    state.set("min_capacity", Value::int(t.min_capacity.into()));
    state.set("max_capacity", Value::int(t.max_capacity.into()));
    state.set("suspended_state", suspension_value(t.suspension, prior));
    if let Some(all) = tags_all {
        state.set(
            "tags",
            own_tags_from(&all, defaults, prior.get("tags"), prior.get("tags_all")),
        );
        state.set("tags_all", Value::string_map(&all));
    }
    state
}

/// The resource's own tags given all (user) tags on the object: a key is its own when the
/// resource set it before (`prior`, its previous own tags), or when it is new on the object
/// (not in `prior_all`) and `default_tags` does not supply that value. A key that only a
/// default supplied stays out of `tags` even after the default changes or goes away, so
/// changing `default_tags` plans a change of `tags_all` only. Null stays null when there
/// are none.
pub fn own_tags_from(
    all: &BTreeMap<String, String>,
    defaults: &BTreeMap<String, String>,
    prior: &Value,
    prior_all: &Value,
) -> Value {
    let had = |m: &Value, k: &str| m.entries().is_some_and(|m| m.contains_key(k));
    let own: BTreeMap<String, String> = all
        .iter()
        .filter(|(k, v)| had(prior, k) || (!had(prior_all, k) && defaults.get(*k) != Some(*v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if own.is_empty() && prior.is_null() {
        Value::Null
    } else {
        Value::string_map(&own)
    }
}

/// Reports a registration failure; a missing ECS service is named, at `service_name`.
pub fn report_register_error(diags: &mut Diagnostics, e: &aws::AwsError, region: &str) {
    if let aws::AwsError::NotFound {
        what: "ECS service",
        id,
    } = e
    {
        diags.error_at(
            AttrPath::root("service_name"),
            "ECS service not found",
            format!(
                "ECS service {id} does not exist (region {region}). Create the service first, \
                 or check the names."
            ),
        );
    } else {
        aws_error(diags, e);
    }
}

#[async_trait]
impl Resource<Clients> for ScalableTarget {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_ecs_name(config, "cluster_name", diags);
        validate_ecs_name(config, "service_name", diags);
        validate_capacities(config, diags);
        if let Some(t) = config.get("tags").entries() {
            tags::validate(t, &AttrPath::root("tags"), diags);
        }
    }

    async fn modify_plan(
        &self,
        client: Option<&Clients>,
        change: &mut PlannedChange,
        diags: &mut Diagnostics,
    ) {
        if change.is_destroy() {
            return;
        }
        let p = &mut change.planned;
        if let (Some(c), Some(s)) = (
            p.get("cluster_name").as_str(),
            p.get("service_name").as_str(),
        ) {
            let id = service_resource_id(c, s);
            if let Some(client) = client
                && let Err(c) = client
                    .claims
                    .claim(&[Object::Target(id.clone())], &owner(&id))
            {
                reconcile::report_clash(diags, &c);
            }
            p.set("id", Value::from(id));
        }
        tags::plan_tags_all(client.map(|c| &c.default_tags), p);
    }

    async fn create(&self, client: &Clients, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(target) = desired(planned) else {
            diags.error(
                "Incomplete plan",
                "cluster, service and capacities must be known at apply.",
            );
            return Value::Null;
        };
        let all_tags = tags::merged(&client.default_tags, &own_tags(planned));
        let owner = owner(&target.resource_id);
        // Registering is an upsert: a target that exists must be ours already (a
        // registration whose reply was lost), never another resource's.
        let existing =
            match reconcile::check_target_owner(client, &target.resource_id, &owner, false).await {
                Ok(x) => x,
                Err(e) => {
                    reconcile::report(diags, &e);
                    return Value::Null;
                }
            };
        let tagged = owner.tagged(&all_tags);
        match aas::register_scalable_target(
            &client.aas,
            &client.ecs,
            &client.stop,
            &target,
            &tagged,
        )
        .await
        {
            Ok(arn) => {
                let mut state = planned.clone();
                state.set("id", Value::from(target.resource_id.as_str()));
                state.set("arn", Value::from(arn.as_str()));
                state.set("tags_all", Value::string_map(&all_tags));
                let tags_done = match existing {
                    None => {
                        reconcile::verify_target_owner(client, &target.resource_id, &arn, &owner)
                            .await
                    }
                    Some(_) => aas::sync_tags(&client.aas, &arn, &BTreeMap::new(), &tagged)
                        .await
                        .map_err(reconcile::ObjectError::from),
                };
                if let Err(e) = tags_done {
                    reconcile::report(diags, &e);
                    state.set("tags_all", Value::Null);
                }
                state
            }
            Err(e) => {
                report_register_error(diags, &e, &client.region);
                Value::Null
            }
        }
    }

    async fn read(&self, client: &Clients, state: &Value, diags: &mut Diagnostics) -> Value {
        let Some(id) = state.get("id").as_str() else {
            diags.error(
                "State has no id",
                "The scalable target's id is missing from state.",
            );
            return state.clone();
        };
        let observed = match aws::optional(aas::find_scalable_target(&client.aas, id).await) {
            Ok(Some(o)) => o,
            Ok(None) => {
                tracing::warn!(id, "scalable target is gone; removing it from state");
                return Value::Null;
            }
            Err(e) => {
                aws_error(diags, &e);
                return state.clone();
            }
        };
        let prior_all = state.get("tags_all");
        let tags_all = if prior_all.is_null() || prior_all.entries().is_some_and(|m| !m.is_empty())
        {
            match aas::list_tags(&client.aas, &observed.arn).await {
                Ok(t) => Some(user_tags(&t)),
                Err(e) => {
                    aws_error(diags, &e);
                    return state.clone();
                }
            }
        } else {
            Some(BTreeMap::new())
        };
        state_from(state, &observed, tags_all, &client.default_tags)
    }

    async fn update(
        &self,
        client: &Clients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let (Some(want), Some(had)) = (desired(planned), desired(prior)) else {
            diags.error("Incomplete plan", "capacities must be known at apply.");
            return prior.clone();
        };
        let mut state = prior.clone();
        if want != had {
            let registered = aas::register_scalable_target(
                &client.aas,
                &client.ecs,
                &client.stop,
                &want,
                &BTreeMap::new(),
            )
            .await;
            if let Err(e) = registered {
                report_register_error(diags, &e, &client.region);
                return state;
            }
            for attr in ["min_capacity", "max_capacity", "suspended_state"] {
                state.set(attr, planned.get(attr).clone());
            }
        }
        let want_tags = planned.get("tags_all").as_string_map();
        let have_tags = prior.get("tags_all").as_string_map();
        if want_tags != have_tags {
            let arn = prior.get("arn").as_str().unwrap_or_default();
            if let Err(e) = aas::sync_tags(&client.aas, arn, &have_tags, &want_tags).await {
                aws_error(diags, &e);
                return state;
            }
        }
        state.set("tags", planned.get("tags").clone());
        state.set("tags_all", Value::string_map(&want_tags));
        state
    }

    async fn delete(&self, client: &Clients, state: &Value, diags: &mut Diagnostics) {
        let Some(id) = state.get("id").as_str() else {
            return;
        };
        match reconcile::release_target(client, id, &owner(id), &[]).await {
            Ok(Release::Deregister) => {}
            Ok(Release::Gone | Release::Leave) => return,
            Err(e) => {
                reconcile::report(diags, &e);
                return;
            }
        }
        if let Err(e) =
            aws::ignore_not_found(aas::deregister_scalable_target(&client.aas, id).await)
        {
            aws_error(diags, &e);
        }
    }

    async fn import(&self, client: &Clients, id: &str, diags: &mut Diagnostics) -> Value {
        let Some((cluster, service)) = parse_import_id(id) else {
            diags.error(
                "Invalid import id",
                format!(
                    "{id:?} is not CLUSTER/SERVICE or the target's own id service/CLUSTER/SERVICE \
                     (e.g. terraform import queuescale_scalable_target.web main/web)."
                ),
            );
            return Value::Null;
        };
        let resource_id = service_resource_id(cluster, service);
        // Import manages an existing registration; one another resource of this provider
        // manages stays with it.
        match reconcile::check_target_owner(client, &resource_id, &owner(&resource_id), false).await
        {
            Ok(Some(_)) => {}
            Ok(None) => {
                diags.error(
                    "Cannot import: scalable target not found",
                    format!(
                        "{resource_id} is not registered with Application Auto Scaling in \
                         region {}.",
                        client.region
                    ),
                );
                return Value::Null;
            }
            Err(reconcile::ObjectError::Clash(c)) if c.holder.is_none() => {}
            Err(e) => {
                reconcile::report(diags, &e);
                return Value::Null;
            }
        }
        let mut state = null_object(&schema());
        state.set("cluster_name", Value::from(cluster));
        state.set("service_name", Value::from(service));
        state.set("id", Value::from(resource_id));
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(min: f64, max: f64) -> Value {
        Value::object([
            ("cluster_name", Value::from("main")),
            ("service_name", Value::from("web")),
            ("min_capacity", Value::number(min)),
            ("max_capacity", Value::number(max)),
        ])
    }

    #[test]
    fn min_above_max_is_reported_at_min_capacity() {
        let mut d = Diagnostics::new();
        ScalableTarget.validate(&config(5.0, 2.0), &mut d);
        assert_eq!(d.0.len(), 1);
        assert_eq!(d.0[0].attribute, Some(AttrPath::root("min_capacity")));
    }

    #[test]
    fn negative_or_fractional_capacities_are_rejected() {
        let mut d = Diagnostics::new();
        ScalableTarget.validate(&config(-1.0, 2.5), &mut d);
        let at: Vec<String> = d
            .iter()
            .filter_map(|x| x.attribute.as_ref())
            .map(ToString::to_string)
            .collect();
        assert_eq!(at, ["min_capacity", "max_capacity"]);
    }

    #[test]
    fn an_arn_instead_of_a_name_gets_a_hint() {
        let mut d = Diagnostics::new();
        let mut c = config(0.0, 1.0);
        c.set(
            "cluster_name",
            Value::from("arn:aws:ecs:us-east-1:123456789012:cluster/main"),
        );
        ScalableTarget.validate(&c, &mut d);
        assert!(d.0[0].detail.contains("not the ARN"), "{}", d.0[0].detail);
    }

    #[test]
    fn own_tags_exclude_default_tags_with_the_same_value() {
        let all = BTreeMap::from([
            ("team".to_string(), "a".to_string()),
            ("app".to_string(), "x".to_string()),
        ]);
        let defaults = BTreeMap::from([("team".to_string(), "a".to_string())]);
        assert_eq!(
            own_tags_from(&all, &defaults, &Value::Null, &Value::Null),
            Value::string_map(&BTreeMap::from([("app".to_string(), "x".to_string())]))
        );
        let only_defaults = BTreeMap::from([("team".to_string(), "a".to_string())]);
        assert_eq!(
            own_tags_from(&only_defaults, &defaults, &Value::Null, &Value::Null),
            Value::Null
        );
    }

    #[test]
    fn a_default_tag_that_changes_or_goes_stays_out_of_own_tags() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };
        // Before: default owner=a, no own tags. Now AWS still has owner=a, but the
        // provider's default says owner=b (or nothing).
        let prior_all = Value::string_map(&map(&[("owner", "a")]));
        for defaults in [map(&[("owner", "b")]), map(&[])] {
            assert_eq!(
                own_tags_from(&map(&[("owner", "a")]), &defaults, &Value::Null, &prior_all),
                Value::Null
            );
        }
        // A tag added behind Terraform's back is the resource's own (drift to remove).
        assert_eq!(
            own_tags_from(
                &map(&[("owner", "a"), ("x", "1")]),
                &map(&[]),
                &Value::Null,
                &prior_all
            ),
            Value::string_map(&map(&[("x", "1")]))
        );
    }
}
