//! `queuescale_sqs_backlog_scaling_policy`: scales an ECS service on its SQS backlog,
//! to zero and back. Compiles a few attributes (see `scaling::backlog_policy`) into a
//! scalable target (unless attached to one), a target-tracking policy, two step policies
//! and two metric-math alarms, and reconciles AWS towards them.
//!
//! API calls: create about 14 (queue check; the ownership checks: alarms and policies
//! already there, the target and its owner tag; the target; 3 policies; 2 alarms; the
//! owner tags of the new target and alarms read back; other policies on the service, for
//! a warning); refresh 4 to 5 (target, its tags, policies, alarms, the first alarm's tags;
//! issued together where they do not depend on each other); update writes only what
//! changed; destroy about 6 when the target is owned (who owns it and what else is on it,
//! leftovers of an interrupted apply, alarms, target — AWS deletes its policies).

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::ownership::{INPUTS_TAG, Object, Owner, user_tags};
use super::reconcile::{self, Release};
use super::scalable_target::{
    own_tags_from, report_register_error, suspended_block, suspension_from, suspension_value,
};
use super::support::{
    aws_error, decimal, int_at, null_object, validate_ecs_name, validate_object_name,
};
use super::tags;
use super::{keep_active, notify, objects, support};
use crate::aws::{self, app_autoscaling as aas, cloudwatch as cw};
use crate::provider::Clients;
use crate::scaling::backlog::{self, BacklogInput};
use crate::scaling::backlog_policy::{
    BacklogSpec, BacklogTarget, Compiled, KEEP_ACTIVE_SUFFIX, KeepActive, MAX_NAME_LEN,
    MAX_NAME_LEN_WITH_SCHEDULE, Purpose, TaskCountSource, compile,
};
use crate::scaling::model::{AlarmMetric, PolicyKind, QuerySource, service_resource_id};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, PlannedChange, Resource, Schema,
    Type, Value,
};

/// The resource type.
pub struct SqsBacklogScalingPolicy;

/// The resource type name.
pub const TYPE_NAME: &str = "queuescale_sqs_backlog_scaling_policy";

/// Defaults of the optional settings.
const DEFAULT_SCALE_OUT_COOLDOWN: i64 = 60;
const DEFAULT_SCALE_IN_COOLDOWN: i64 = 300;
const DEFAULT_IDLE_MINUTES: i64 = 15;

fn schema() -> Schema {
    let [alarm_actions, ok_actions] = notify::attributes(
        "the wake and drain alarms (when the service wakes from zero, and when it drains to \
         zero)",
    );
    let int_default = |name: &str, v: i64, text: &str| {
        Attribute::with_default(name, Type::Number, Value::int(v)).describe(text)
    };
    let bool_default = |name: &str, v: bool, text: &str| {
        Attribute::with_default(name, Type::Bool, Value::Bool(v)).describe(text)
    };
    Schema::new(
        Block::new(vec![
            Attribute::computed("id", Type::String)
                .use_state_for_unknown()
                .describe("`CLUSTER/SERVICE/NAME`, the import id."),
            Attribute::required("name", Type::String).describe(
                "Base of every policy and alarm name (`NAME-backlog-per-task`, \
                 `NAME-wake-from-zero`, `NAME-drain-to-zero`). Alarm names are unique per \
                 account and region, so this must be too. Letters, digits, `.`, `_`, `-`. \
                 Renaming writes the objects under the new names, then deletes the old ones.",
            ),
            Attribute::required("queue_name", Type::String).describe(
                "Name of the SQS queue whose backlog drives scaling (FIFO queues end in `.fifo`).",
            ),
            Attribute::optional("dead_letter_queue_name", Type::String).describe(
                "Name of the queue's dead-letter queue. Its messages never count as backlog; \
                 an alarm `NAME-dead-letters` goes into ALARM while any is there and tells \
                 `alarm_actions` (and `ok_actions` once it is empty again).",
            ),
            Attribute::required("cluster_name", Type::String)
                .requires_replace()
                .describe("ECS cluster of the service."),
            Attribute::required("service_name", Type::String)
                .requires_replace()
                .describe("ECS service to scale."),
            Attribute::optional("scalable_target_id", Type::String).describe(
                "Attach to a scalable target managed elsewhere (`queuescale_scalable_target.x.id`) \
                 instead of owning one. Then `min_capacity`/`max_capacity` are not set here.",
            ),
            Attribute::optional("min_capacity", Type::Number).describe(
                "Fewest tasks (`0` enables scaling to zero). Required unless `scalable_target_id` \
                 is set.",
            ),
            Attribute::optional("max_capacity", Type::Number)
                .describe("Most tasks. Required unless `scalable_target_id` is set."),
            Attribute::optional("target_backlog_per_task", Type::Number).describe(
                "Messages one task may have waiting. Give this, or \
                 `acceptable_latency_seconds` with `average_processing_seconds`.",
            ),
            Attribute::optional("acceptable_latency_seconds", Type::Number).describe(
                "The longest time, in seconds, a message may wait before a task starts on it \
                 (at least `average_processing_seconds`); with `average_processing_seconds` it \
                 sets the target as latency ÷ processing time.",
            ),
            Attribute::optional("average_processing_seconds", Type::Number)
                .describe("Average time one task takes per message, in seconds."),
            Attribute::computed("target_value", Type::Number)
                .describe("The backlog per task the target-tracking policy keeps."),
            bool_default(
                "include_in_flight",
                true,
                "Count messages being processed (received, not yet deleted) as backlog.",
            ),
            bool_default(
                "include_delayed",
                false,
                "Count delayed messages as backlog (and as waiting, for waking).",
            ),
            int_default(
                "scale_out_cooldown",
                DEFAULT_SCALE_OUT_COOLDOWN,
                "Seconds after a scale-out before the next one.",
            ),
            int_default(
                "scale_in_cooldown",
                DEFAULT_SCALE_IN_COOLDOWN,
                "Seconds after a scale-in before the next one.",
            ),
            bool_default(
                "disable_scale_in",
                false,
                "Never remove tasks: target tracking only scales out and there is no drain \
                 to zero.",
            ),
            int_default(
                "wake_threshold",
                1,
                "Messages waiting that wake the service when no task runs (at least 1).",
            ),
            int_default(
                "wake_tasks",
                1,
                "Tasks started when waking from zero (at least 1).",
            ),
            int_default(
                "idle_minutes",
                DEFAULT_IDLE_MINUTES,
                "Minutes with nothing visible, in flight, delayed or received before draining \
                 to zero (1 to 1440).",
            ),
            Attribute::with_default(
                "task_count_source",
                Type::String,
                Value::from(TaskCountSource::CpuSampleCount.as_str()),
            )
            .describe(
                "Where the running-task count comes from: `cpu_sample_count` (free: the \
                 `SampleCount` of `AWS/ECS CPUUtilization`) or `container_insights` \
                 (`RunningTaskCount`; needs Container Insights, billed as custom metrics).",
            ),
            Attribute::optional("tags", Type::map(Type::String))
                .describe("Tags for the alarms and the owned scalable target."),
            alarm_actions,
            ok_actions,
            Attribute::computed("tags_all", Type::map(Type::String))
                .describe("Tags including the provider's `default_tags`."),
            Attribute::computed("scalable_target_arn", Type::String)
                .describe("ARN of the owned scalable target (null when attached)."),
            objects::policies_attribute(
                "The objects as AWS holds them, by purpose: `backlog-per-task` (target \
                 tracking), and `wake-from-zero` and `drain-to-zero` (step policies with the \
                 metric-math alarms that invoke them).",
            ),
            objects::metrics_attribute(),
            Attribute::computed("keep_queue_active_schedule_arn", Type::String).describe(
                "ARN of the EventBridge Scheduler schedule `NAME-keep-queue-active` (null \
                 without `keep_queue_active`).",
            ),
        ])
        .with_blocks(vec![
            suspended_block_of_owned_target(),
            NestedBlock::new(
                "keep_queue_active",
                Nesting::Single,
                Block::new(vec![
                    Attribute::required("role_arn", Type::String).describe(
                        "IAM role EventBridge Scheduler assumes to call the queue: trusted by \
                     `scheduler.amazonaws.com`, allowed `sqs:GetQueueAttributes` on it.",
                    ),
                    Attribute::optional("every_hours", Type::Number).describe(
                        "Hours between calls, 1 to 5 (SQS counts a queue inactive after up to six \
                     hours). Default 5.",
                    ),
                ])
                .describe(
                    "Keeps the queue active while it is idle: an EventBridge Scheduler schedule \
                 (`NAME-keep-queue-active`, owned by this resource) calls \
                 `sqs:GetQueueAttributes` on it every few hours. Without it, after six idle \
                 hours SQS stops publishing the queue's metrics and the first message's arrive \
                 up to 15 minutes late, so waking from zero takes that long. Costs one \
                 scheduler invocation every few hours.",
                ),
            ),
        ])
        .describe(
            "Scales an ECS service on the backlog of its SQS queue: target tracking on \
             backlog per running task, waking from zero tasks when messages arrive, and \
             draining to zero when the queue has been idle. One resource instead of a target, \
             three policies and two alarms; see the guide *How it scales*.",
        ),
    )
}

/// The standalone target's `suspended_state` block, for the owned one.
fn suspended_block_of_owned_target() -> NestedBlock {
    let mut b = suspended_block();
    b.block.description = "Suspends kinds of scaling on the owned scalable target, e.g. \
                           during an incident (not with `scalable_target_id`: suspend that \
                           target instead). Omitted: nothing is suspended."
        .to_owned();
    b
}

/// A known number attribute as f64.
fn num(v: &Value, attr: &str) -> Option<f64> {
    v.get(attr).as_f64()
}

/// The target from configuration, when its inputs are known and complete.
fn target_from(v: &Value) -> Option<BacklogTarget> {
    match (
        num(v, "target_backlog_per_task"),
        num(v, "acceptable_latency_seconds"),
        num(v, "average_processing_seconds"),
    ) {
        (Some(t), None, None) => Some(BacklogTarget::Explicit(t)),
        (None, Some(latency), Some(processing)) => Some(BacklogTarget::Latency {
            latency,
            processing,
        }),
        _ => None,
    }
}

/// The spec from a plan or state whose inputs are all known.
fn spec_from(v: &Value) -> Option<BacklogSpec> {
    let s = |a: &str| v.get(a).as_str().map(str::to_owned);
    let attached = !v.get("scalable_target_id").is_null();
    if v.get("scalable_target_id").is_unknown() {
        return None;
    }
    Some(BacklogSpec {
        name: s("name")?,
        queue_name: s("queue_name")?,
        cluster: s("cluster_name")?,
        service: s("service_name")?,
        owned_capacity: if attached {
            None
        } else {
            Some((int_at(v, "min_capacity")?, int_at(v, "max_capacity")?))
        },
        target: target_from(v)?,
        include_in_flight: v.get("include_in_flight").as_bool()?,
        include_delayed: v.get("include_delayed").as_bool()?,
        scale_out_cooldown: int_at(v, "scale_out_cooldown")?,
        scale_in_cooldown: int_at(v, "scale_in_cooldown")?,
        disable_scale_in: v.get("disable_scale_in").as_bool()?,
        wake_threshold: num(v, "wake_threshold")?,
        wake_tasks: int_at(v, "wake_tasks")?,
        idle_minutes: int_at(v, "idle_minutes")?,
        task_count: TaskCountSource::parse(v.get("task_count_source").as_str()?)?,
        notify: notify::from(v)?,
        keep_active: keep_active_from(v.get("keep_queue_active"))?,
        dead_letter_queue: match v.get("dead_letter_queue_name") {
            Value::Null => None,
            d => Some(d.as_str()?.to_owned()),
        },
        suspension: suspension_from(v),
    })
}

/// The `keep_queue_active` block: `Some(None)` when absent, `None` while unknown.
fn keep_active_from(block: &Value) -> Option<Option<KeepActive>> {
    if block.is_null() {
        return Some(None);
    }
    let every_hours = match block.get("every_hours") {
        Value::Null => KeepActive::DEFAULT_EVERY_HOURS,
        n => u32::try_from(n.as_i64()?).ok()?,
    };
    Some(Some(KeepActive {
        role_arn: block.get("role_arn").as_str()?.to_owned(),
        every_hours,
    }))
}

fn err(diags: &mut Diagnostics, attr: &str, summary: &str, detail: String) {
    diags.error_at(AttrPath::root(attr), summary, detail);
}

/// A known whole number in `[lo, hi]`, or a diagnostic at `attr`.
fn check_whole(config: &Value, attr: &str, lo: i64, hi: i64, diags: &mut Diagnostics) {
    if let Some(n) = num(config, attr)
        && !(n.fract() == 0.0 && n >= lo as f64 && n <= hi as f64)
    {
        err(
            diags,
            attr,
            &format!("Invalid {attr}"),
            format!("{attr} must be a whole number from {lo} to {hi}, not {n}."),
        );
    }
}

/// Checks the configuration, every problem at its attribute; unknown values are skipped.
fn validate(config: &Value, diags: &mut Diagnostics) {
    validate_object_name(config, MAX_NAME_LEN, "policy and alarm", diags);
    notify::validate(config, diags);
    validate_keep_active(config, diags);
    for attr in ["queue_name", "dead_letter_queue_name"] {
        validate_queue_name(config, attr, diags);
    }
    if let (Some(q), Some(d)) = (
        config.get("queue_name").as_str(),
        config.get("dead_letter_queue_name").as_str(),
    ) && q == d
    {
        err(
            diags,
            "dead_letter_queue_name",
            "The queue is its own dead-letter queue",
            format!("{q:?} is both queue_name and dead_letter_queue_name."),
        );
    }
    validate_ecs_name(config, "cluster_name", diags);
    validate_ecs_name(config, "service_name", diags);
    validate_target(config, diags);
    validate_capacity(config, diags);
    for attr in ["scale_out_cooldown", "scale_in_cooldown"] {
        check_whole(config, attr, 0, 86_400, diags);
    }
    check_whole(config, "idle_minutes", 1, 1440, diags);
    check_whole(config, "wake_tasks", 1, 1_000_000, diags);
    if let Some(t) = num(config, "wake_threshold")
        && !(t.is_finite() && t >= 1.0)
    {
        err(
            diags,
            "wake_threshold",
            "Invalid wake_threshold",
            format!("wake_threshold must be at least 1 message, not {t}."),
        );
    }
    if let Some(s) = config.get("task_count_source").as_str()
        && TaskCountSource::parse(s).is_none()
    {
        err(
            diags,
            "task_count_source",
            "Invalid task_count_source",
            format!("{s:?}: use \"cpu_sample_count\" or \"container_insights\"."),
        );
    }
    if let Some(t) = config.get("tags").entries() {
        tags::validate(t, &AttrPath::root("tags"), diags);
    }
}

/// An SQS queue name: up to 80 letters, digits, `-` and `_`, optionally ending in `.fifo`
/// (SQS developer guide, queue quotas).
fn validate_queue_name(config: &Value, attr: &str, diags: &mut Diagnostics) {
    let Some(q) = config.get(attr).as_str() else {
        return;
    };
    let base = q.strip_suffix(".fifo").unwrap_or(q);
    let ok = !base.is_empty()
        && q.len() <= 80
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        err(
            diags,
            attr,
            &format!("Invalid {attr}"),
            format!(
                "{q:?} is not an SQS queue name: up to 80 letters, digits, '-' and '_', \
                 optionally ending in .fifo (give the name, not the URL or ARN)."
            ),
        );
    }
}

/// `keep_queue_active`: a whole `every_hours` from 1 to 5, a role ARN, and a `name` that
/// leaves room for the schedule's (EventBridge Scheduler names: at most 64 characters).
fn validate_keep_active(config: &Value, diags: &mut Diagnostics) {
    let block = config.get("keep_queue_active");
    if block.is_null() || block.is_unknown() {
        return;
    }
    let at = |attr: &str| AttrPath::root("keep_queue_active").attr(attr);
    if let Some(n) = block.get("every_hours").as_f64()
        && !(n.fract() == 0.0 && (1.0..=f64::from(KeepActive::MAX_EVERY_HOURS)).contains(&n))
    {
        diags.error_at(
            at("every_hours"),
            "Invalid every_hours",
            format!(
                "every_hours must be a whole number from 1 to {}: SQS counts a queue inactive \
                 after up to six hours without an action on it; got {n}.",
                KeepActive::MAX_EVERY_HOURS
            ),
        );
    }
    if let Some(role) = block.get("role_arn").as_str()
        && !(role.starts_with("arn:") && role.split(':').nth(2) == Some("iam"))
    {
        diags.error_at(
            at("role_arn"),
            "Not an IAM role ARN",
            format!("{role:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."),
        );
    }
    if let Some(name) = config.get("name").as_str()
        && name.len() > MAX_NAME_LEN_WITH_SCHEDULE
    {
        diags.error_at(
            AttrPath::root("name"),
            "Name too long for keep_queue_active",
            format!(
                "With keep_queue_active the schedule is named {name}{KEEP_ACTIVE_SUFFIX}, and \
                 EventBridge Scheduler takes at most 64 characters: keep name to {} or fewer.",
                MAX_NAME_LEN_WITH_SCHEDULE
            ),
        );
    }
}

fn validate_target(config: &Value, diags: &mut Diagnostics) {
    let given = |a: &str| !config.get(a).is_null();
    let explicit = given("target_backlog_per_task");
    let (latency, processing) = (
        given("acceptable_latency_seconds"),
        given("average_processing_seconds"),
    );
    if explicit && (latency || processing) {
        err(
            diags,
            "target_backlog_per_task",
            "Conflicting targets",
            "Give either target_backlog_per_task, or acceptable_latency_seconds with \
             average_processing_seconds, not both."
                .into(),
        );
        return;
    }
    if !explicit && !latency && !processing {
        err(
            diags,
            "target_backlog_per_task",
            "Missing target",
            "Give target_backlog_per_task, or acceptable_latency_seconds with \
             average_processing_seconds."
                .into(),
        );
        return;
    }
    if latency != processing && !explicit {
        let missing = if latency {
            "average_processing_seconds"
        } else {
            "acceptable_latency_seconds"
        };
        err(
            diags,
            missing,
            &format!("Missing {missing}"),
            "acceptable_latency_seconds and average_processing_seconds go together.".into(),
        );
        return;
    }
    if let Some(t) = num(config, "target_backlog_per_task")
        && let Err(why) = backlog::check_target(t)
    {
        err(
            diags,
            "target_backlog_per_task",
            "Invalid target_backlog_per_task",
            format!("target_backlog_per_task {why}."),
        );
    }
    let attribute = |input| match input {
        BacklogInput::AverageProcessing => "average_processing_seconds",
        BacklogInput::AcceptableLatency | BacklogInput::Parallelism => "acceptable_latency_seconds",
    };
    let l = num(config, "acceptable_latency_seconds");
    let p = num(config, "average_processing_seconds");
    let mut inputs_valid = true;
    for (input, value) in [
        (BacklogInput::AcceptableLatency, l),
        (BacklogInput::AverageProcessing, p),
    ] {
        if let Some(v) = value
            && let Err(e) = backlog::check_seconds(input, v)
        {
            inputs_valid = false;
            let attr = attribute(input);
            err(
                diags,
                attr,
                &format!("Invalid {attr}"),
                format!("{attr} {}.", e.message),
            );
        }
    }
    if inputs_valid
        && let (Some(l), Some(p)) = (l, p)
        && let Err(e) = backlog::target_backlog_per_task(l, p, 1.0)
    {
        let attr = attribute(e.input);
        let summary = if l < p {
            "Latency shorter than processing time".to_owned()
        } else {
            format!("Invalid {attr}")
        };
        err(diags, attr, &summary, format!("{attr} {}.", e.message));
    }
}

fn validate_capacity(config: &Value, diags: &mut Diagnostics) {
    let sti = config.get("scalable_target_id");
    let min = config.get("min_capacity");
    let max = config.get("max_capacity");
    if sti.is_unknown() {
        return;
    }
    if let Some(id) = sti.as_str() {
        if !config.get("suspended_state").is_null() {
            err(
                diags,
                "suspended_state",
                "suspended_state with scalable_target_id",
                "The attached scalable target owns its suspended state; set suspended_state on \
                 it, not here."
                    .to_owned(),
            );
        }
        for (attr, v) in [("min_capacity", min), ("max_capacity", max)] {
            if !v.is_null() {
                err(
                    diags,
                    attr,
                    &format!("{attr} with scalable_target_id"),
                    format!(
                        "The attached scalable target owns the capacities; set {attr} on it, not \
                         here."
                    ),
                );
            }
        }
        if let (Some(c), Some(s)) = (
            config.get("cluster_name").as_str(),
            config.get("service_name").as_str(),
        ) && id != service_resource_id(c, s)
        {
            err(
                diags,
                "scalable_target_id",
                "Scalable target of another service",
                format!(
                    "scalable_target_id {id:?} is not the target of service {s:?} in cluster \
                     {c:?} (expected {:?}).",
                    service_resource_id(c, s)
                ),
            );
        }
        return;
    }
    for (attr, v) in [("min_capacity", min), ("max_capacity", max)] {
        if v.is_null() {
            err(
                diags,
                attr,
                &format!("Missing {attr}"),
                format!(
                    "{attr} is required unless scalable_target_id attaches this policy to a \
                     target managed elsewhere."
                ),
            );
        }
    }
    super::scalable_target::validate_capacities(config, diags);
    if let (Some(w), Some(m)) = (num(config, "wake_tasks"), num(config, "max_capacity"))
        && w > m
    {
        err(
            diags,
            "wake_tasks",
            "wake_tasks above max_capacity",
            format!("wake_tasks ({w}) cannot exceed max_capacity ({m})."),
        );
    }
    if num(config, "max_capacity") == Some(0.0) {
        err(
            diags,
            "max_capacity",
            "max_capacity of 0",
            "With max_capacity = 0 the service can never run a task, so its queue is never \
             drained. Give it at least 1."
                .to_owned(),
        );
    }
    if let Some(min) = num(config, "min_capacity")
        && min > 0.0
    {
        diags.warning_at(
            AttrPath::root("min_capacity"),
            "The service never scales to zero",
            format!(
                "With min_capacity = {min} the service always runs tasks: the wake-from-zero \
                 alarm never fires, and the drain-to-zero policy lowers the count only to \
                 min_capacity after idle_minutes. Use min_capacity = 0 to scale to zero."
            ),
        );
    }
    if config.get("disable_scale_in").as_bool() == Some(true)
        && !config.get("idle_minutes").is_null()
    {
        diags.warning_at(
            AttrPath::root("idle_minutes"),
            "idle_minutes has no effect",
            "disable_scale_in = true removes the drain to zero, so idle_minutes is not used.",
        );
    }
}

/// Who the objects of the resource on `cluster`/`service` called `name` belong to.
fn owner(cluster: &str, service: &str, name: &str) -> Owner {
    Owner::new(
        TYPE_NAME,
        &service_resource_id(cluster, service),
        Some(name),
    )
}

/// The owner recorded by a state or plan, when its names are known.
fn owner_of(v: &Value) -> Option<Owner> {
    Some(owner(
        v.get("cluster_name").as_str()?,
        v.get("service_name").as_str()?,
        v.get("name").as_str()?,
    ))
}

/// The compiled policies and alarms by purpose, as the shared reconciler takes them.
fn desired(spec: &BacklogSpec, compiled: &Compiled) -> reconcile::Desired {
    reconcile::Desired {
        resource_id: service_resource_id(&spec.cluster, &spec.service),
        owner: owner(&spec.cluster, &spec.service, &spec.name),
        policies: compiled
            .policies
            .iter()
            .map(|(p, x)| (p.as_str().to_owned(), x.clone()))
            .collect(),
        alarms: compiled
            .alarms
            .iter()
            .map(|(p, x)| (p.as_str().to_owned(), x.clone()))
            .collect(),
    }
}

/// The objects a plan (or state) whose inputs are known compiles to, as modify_plan plans
/// them and apply writes them, and the seconds between the calls of its
/// `keep_queue_active` schedule, if any; for the simulator.
pub(crate) fn planned_objects(planned: &Value) -> Option<(reconcile::Desired, Option<u32>)> {
    let spec = spec_from(planned)?;
    let compiled = compile(&spec);
    let keep_active_every = compiled
        .keep_active
        .as_ref()
        .map(|k| k.keep.every_hours.saturating_mul(3600));
    Some((desired(&spec, &compiled), keep_active_every))
}

/// The import id.
fn import_id(v: &Value) -> Option<String> {
    Some(format!(
        "{}/{}/{}",
        v.get("cluster_name").as_str()?,
        v.get("service_name").as_str()?,
        v.get("name").as_str()?
    ))
}

/// Why a plan could not be applied (see [`support::incomplete`]).
fn incomplete(planned: &Value, diags: &mut Diagnostics) {
    support::incomplete(planned, validate, diags);
}

#[async_trait]
impl Resource<Clients> for SqsBacklogScalingPolicy {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate(config, diags);
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
        let prior = change.prior.clone();
        let p = &mut change.planned;
        if let Some(id) = import_id(p) {
            p.set("id", Value::from(id));
        }
        if let Some(t) = target_from(p) {
            p.set("target_value", Value::number(t.value()));
        }
        let attached = p.get("scalable_target_id");
        if attached.is_unknown() {
            p.set("scalable_target_arn", Value::Unknown);
        } else if !attached.is_null() {
            p.set("scalable_target_arn", Value::Null);
        } else {
            // Owned: an existing target keeps its ARN (capacities change in place); a
            // missing one, or one taken over from elsewhere, is registered.
            let before = prior.get("scalable_target_arn");
            let keeps = before.as_str().is_some() && prior.get("scalable_target_id").is_null();
            p.set(
                "scalable_target_arn",
                if keeps {
                    before.clone()
                } else {
                    Value::Unknown
                },
            );
        }
        match spec_from(p) {
            Some(spec) => {
                let compiled = compile(&spec);
                let desired = desired(&spec, &compiled);
                if let Some(client) = client {
                    reconcile::warn_other_scalers(client, &desired, diags);
                    let mut objects = desired.objects();
                    if compiled.target.is_some() {
                        objects.push(Object::Target(desired.resource_id.clone()));
                    }
                    if let Err(c) = client.claims.claim(&objects, &desired.owner) {
                        reconcile::report_clash(diags, &c);
                    }
                }
                let lists = reconcile::plan(&desired, &prior);
                objects::store(p, &lists);
            }
            None => {
                let plan_of = |v: &Value| {
                    let spec = spec_from(v)?;
                    Some(reconcile::plan(&desired(&spec, &compile(&spec)), &prior))
                };
                match objects::plan_with_unknowns(&schema(), p, plan_of) {
                    Some(lists) => objects::store(p, &lists),
                    None => objects::store_unknown(p),
                }
            }
        }
        keep_active::plan(p, &prior);
        tags::plan_tags_all(client.map(|c| &c.default_tags), p);
    }

    async fn create(&self, client: &Clients, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(spec) = spec_from(planned) else {
            incomplete(planned, diags);
            return Value::Null;
        };
        let queues = std::iter::once(("queue_name", &spec.queue_name)).chain(
            spec.dead_letter_queue
                .iter()
                .map(|d| ("dead_letter_queue_name", d)),
        );
        for (attr, queue) in queues {
            if let Err(e) = aws::sqs::find_queue(&client.sqs, queue).await {
                if e.is_not_found() {
                    err(
                        diags,
                        attr,
                        "SQS queue not found",
                        format!(
                            "Queue {queue:?} does not exist in region {}. Create it first, or \
                             check the name.",
                            client.region
                        ),
                    );
                } else {
                    aws_error(diags, &e);
                }
                return Value::Null;
            }
        }
        let compiled = compile(&spec);
        let mut skeleton = planned.clone();
        skeleton.set("scalable_target_arn", Value::Null);
        objects::store_none(&mut skeleton);
        skeleton.set(keep_active::BLOCK, Value::Null);
        skeleton.set(keep_active::ARN, Value::Null);
        skeleton.set("tags_all", Value::Map(BTreeMap::new()));
        let state = reconcile(client, &spec, &compiled, &skeleton, planned, diags).await;
        if !diags.has_errors() {
            reconcile::warn_other_policies(client, &desired(&spec, &compiled), diags).await;
        }
        let created_anything =
            state.get("scalable_target_arn").as_str().is_some() || !objects::is_empty(&state);
        if created_anything { state } else { Value::Null }
    }

    async fn read(&self, client: &Clients, state: &Value, diags: &mut Diagnostics) -> Value {
        match observe(client, state).await {
            Ok(v) => v,
            Err(e) => {
                reconcile::report(diags, &e);
                state.clone()
            }
        }
    }

    async fn update(
        &self,
        client: &Clients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(spec) = spec_from(planned) else {
            incomplete(planned, diags);
            return prior.clone();
        };
        if prior.get("queue_name") != planned.get("queue_name")
            && let Err(e) = aws::sqs::find_queue(&client.sqs, &spec.queue_name).await
        {
            if e.is_not_found() {
                err(
                    diags,
                    "queue_name",
                    "SQS queue not found",
                    format!(
                        "Queue {:?} does not exist in region {}.",
                        spec.queue_name, client.region
                    ),
                );
            } else {
                aws_error(diags, &e);
            }
            return prior.clone();
        }
        let compiled = compile(&spec);
        reconcile(client, &spec, &compiled, prior, planned, diags).await
    }

    async fn delete(&self, client: &Clients, state: &Value, diags: &mut Diagnostics) {
        let (Some(cluster), Some(service)) = (
            state.get("cluster_name").as_str(),
            state.get("service_name").as_str(),
        ) else {
            return;
        };
        let resource_id = service_resource_id(cluster, service);
        let owned = state.get("scalable_target_id").is_null();
        // Deregistering an owned target deletes its policies with it; it is decided before
        // anything is deleted, and never done while other resources' policies are on it
        // or after another resource took it over.
        let Some(owner) = owner_of(state) else {
            return;
        };
        let name = state.get("name").as_str().unwrap_or_default();
        // Its own policies: those state records, and any under its names that an
        // interrupted apply wrote before state recorded them.
        let (policy_names, alarm_names) = (
            Purpose::names(name, Purpose::has_policy),
            Purpose::names(name, Purpose::has_alarm),
        );
        let (mut ours, _) = reconcile::recorded_names(state);
        ours.extend(policy_names.iter().cloned());
        let release = if owned {
            match reconcile::release_target(client, &resource_id, &owner, &ours).await {
                Ok(r) => r,
                Err(e) => {
                    reconcile::report(diags, &e);
                    return;
                }
            }
        } else {
            Release::Leave
        };
        let deregister = release == Release::Deregister;
        if let Err(e) = keep_active::delete(client, state, &owner).await {
            aws_error(diags, &e);
            return;
        }
        let unrecorded = reconcile::Unrecorded {
            alarms: alarm_names,
            policies: policy_names,
        };
        if reconcile::delete(
            client,
            &owner,
            &resource_id,
            state,
            &unrecorded,
            !deregister,
            diags,
        )
        .await
        .is_err()
            || !deregister
        {
            return;
        }
        let r = aas::deregister_scalable_target(&client.aas, &resource_id).await;
        if let Err(e) = aws::ignore_not_found(r) {
            aws_error(diags, &e);
        }
    }

    async fn import(&self, client: &Clients, id: &str, diags: &mut Diagnostics) -> Value {
        let Some((cluster, service, name, attached)) = parse_import_id(id) else {
            diags.error(
                "Invalid import id",
                format!(
                    "{id:?} is not CLUSTER/SERVICE/NAME (also accepted: \
                     service/CLUSTER/SERVICE/NAME, the scalable target's id followed by the \
                     name). Add /attached when the policy is attached to a \
                     queuescale_scalable_target, e.g. main/worker/worker/attached."
                ),
            );
            return Value::Null;
        };
        if let Err(e) = check_import(client, cluster, service, name, attached).await {
            diags.error("Cannot import", e);
            return Value::Null;
        }
        let mut state = null_object(&schema());
        state.set("cluster_name", Value::from(cluster));
        state.set("service_name", Value::from(service));
        state.set("name", Value::from(name));
        state.set("id", Value::from(format!("{cluster}/{service}/{name}")));
        if attached {
            state.set(
                "scalable_target_id",
                Value::from(service_resource_id(cluster, service)),
            );
        }
        state
    }
}

/// Splits an import id: `[service/]CLUSTER/SERVICE/NAME[/attached]`.
fn parse_import_id(id: &str) -> Option<(&str, &str, &str, bool)> {
    let mut parts: Vec<&str> = id.split('/').collect();
    // The target's own id pasted in front: `service/CLUSTER/SERVICE/NAME[/attached]`.
    if parts.first() == Some(&"service")
        && (parts.len() == 5 || (parts.len() == 4 && parts[3] != "attached"))
    {
        parts.remove(0);
    }
    let (c, s, n, attached) = match parts.as_slice() {
        [c, s, n] => (*c, *s, *n, false),
        [c, s, n, "attached"] => (*c, *s, *n, true),
        _ => return None,
    };
    [c, s, n]
        .iter()
        .all(|p| !p.is_empty())
        .then_some((c, s, n, attached))
}

/// Before import: the target-tracking policy named for `name` must exist on the service,
/// its alarms must invoke that service's policies and carry no other resource's owner tag,
/// and `/attached` must match who registered the target.
///
/// # Errors
/// A sentence saying what does not match.
async fn check_import(
    client: &Clients,
    cluster: &str,
    service: &str,
    name: &str,
    attached: bool,
) -> Result<(), String> {
    let resource_id = service_resource_id(cluster, service);
    let owner = owner(cluster, service, name);
    let named = |keep| Purpose::names(name, keep);
    let policies =
        aas::find_scaling_policies(&client.aas, &resource_id, &named(Purpose::has_policy))
            .await
            .map_err(|e| e.to_string())?;
    let tt = Purpose::BacklogPerTask.object_name(name);
    if !policies.iter().any(|p| p.policy.name == tt) {
        return Err(format!(
            "No backlog scaling policy named {name:?} on {resource_id} in region {}: its \
             target-tracking policy {tt:?} does not exist. The id is CLUSTER/SERVICE/NAME \
             with the resource's `name`.",
            client.region
        ));
    }
    reconcile::check_import_alarms(client, &resource_id, &owner, &named(Purpose::has_alarm))
        .await?;
    let target = aws::optional(aas::find_scalable_target(&client.aas, &resource_id).await)
        .map_err(|e| e.to_string())?;
    if let Some(t) = target {
        let tags = aas::list_tags(&client.aas, &t.arn)
            .await
            .map_err(|e| e.to_string())?;
        match Owner::from_tags(&tags) {
            Some(h) if h == owner && attached => {
                return Err(format!(
                    "{resource_id} was registered by this policy itself: import it without \
                     /attached ({cluster}/{service}/{name})."
                ));
            }
            Some(h) if h != owner && !attached => {
                return Err(format!(
                    "{resource_id} is registered by {h}: this policy is attached to it. \
                     Import it as {cluster}/{service}/{name}/attached."
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Makes AWS match `compiled`, starting from what `state` records, and returns the state
/// of what exists afterwards — also when a call fails half way.
async fn reconcile(
    client: &Clients,
    spec: &BacklogSpec,
    compiled: &Compiled,
    state: &Value,
    planned: &Value,
    diags: &mut Diagnostics,
) -> Value {
    let mut out = state.clone();
    // Configuration attributes are recorded as planned; what exists is recorded by the
    // computed objects, so a partial failure still shows up as a difference next plan.
    for attr in [
        "name",
        "queue_name",
        "cluster_name",
        "service_name",
        "scalable_target_id",
        "target_backlog_per_task",
        "acceptable_latency_seconds",
        "average_processing_seconds",
        "target_value",
        "include_in_flight",
        "include_delayed",
        "scale_out_cooldown",
        "scale_in_cooldown",
        "disable_scale_in",
        "wake_threshold",
        "wake_tasks",
        "idle_minutes",
        "task_count_source",
        "tags",
        "dead_letter_queue_name",
        "alarm_actions",
        "ok_actions",
        "id",
    ] {
        out.set(attr, planned.get(attr).clone());
    }
    let want_tags = planned.get("tags_all").as_string_map();
    let had_tags = state.get("tags_all").as_string_map();
    let desired = desired(spec, compiled);

    // 0. Nothing is written unless every new object is free or already ours, and the
    // running-task metric the policies divide by will exist.
    if let Err(e) = reconcile::check_new_objects(client, &desired, state).await {
        reconcile::report(diags, &e);
        return out;
    }
    if spec.task_count == TaskCountSource::ContainerInsights
        && (objects::is_empty(state)
            || state.get("task_count_source") != planned.get("task_count_source")
            || state.get("cluster_name") != planned.get("cluster_name"))
        && !check_container_insights(client, &spec.cluster, diags).await
    {
        return out;
    }

    // 1. The owned scalable target.
    if let Some(target) = &compiled.target {
        let missing = state.get("scalable_target_arn").as_str().is_none();
        let was_attached = !state.get("scalable_target_id").is_null();
        let changed = state.get("min_capacity") != planned.get("min_capacity")
            || state.get("max_capacity") != planned.get("max_capacity")
            || suspension_from(state) != suspension_from(planned)
            || was_attached;
        if missing || changed {
            // A target state does not record must be free, ours already (an interrupted
            // apply), or the one this resource was attached to until now.
            let existing = if missing || was_attached {
                match reconcile::check_target_owner(
                    client,
                    &desired.resource_id,
                    &desired.owner,
                    was_attached,
                )
                .await
                {
                    Ok(x) => x,
                    Err(e) => {
                        reconcile::report(diags, &e);
                        return out;
                    }
                }
            } else {
                state.get("scalable_target_arn").as_str().map(str::to_owned)
            };
            let tagged = desired.owner.tagged(&want_tags);
            match aas::register_scalable_target(
                &client.aas,
                &client.ecs,
                &client.stop,
                target,
                &tagged,
            )
            .await
            {
                Ok(arn) => {
                    // Registration applies tags only to a new target: check ours got
                    // there; an adopted one gets them now.
                    let tags_done = if existing.is_none() {
                        reconcile::verify_target_owner(
                            client,
                            &desired.resource_id,
                            &arn,
                            &desired.owner,
                        )
                        .await
                    } else if missing || was_attached {
                        aas::sync_tags(&client.aas, &arn, &BTreeMap::new(), &tagged)
                            .await
                            .map_err(reconcile::ObjectError::from)
                    } else {
                        let before = owner_of(state).unwrap_or_else(|| desired.owner.clone());
                        aas::sync_tags(&client.aas, &arn, &before.tagged(&had_tags), &tagged)
                            .await
                            .map_err(reconcile::ObjectError::from)
                    };
                    out.set("scalable_target_arn", Value::from(arn));
                    if let Err(e) = tags_done {
                        reconcile::report(diags, &e);
                        return out;
                    }
                }
                Err(e) => {
                    report_register_error(diags, &e, &client.region);
                    return out;
                }
            }
        } else if let Some(arn) = state.get("scalable_target_arn").as_str() {
            // A rename changes the owner recorded on the target.
            let before = owner_of(state).unwrap_or_else(|| desired.owner.clone());
            let (had, want) = (before.tagged(&had_tags), desired.owner.tagged(&want_tags));
            if had != want
                && let Err(e) = aas::sync_tags(&client.aas, arn, &had, &want).await
            {
                aws_error(diags, &e);
                return out;
            }
        }
        out.set("min_capacity", planned.get("min_capacity").clone());
        out.set("max_capacity", planned.get("max_capacity").clone());
        out.set("suspended_state", planned.get("suspended_state").clone());
    } else {
        out.set("scalable_target_arn", Value::Null);
        out.set("min_capacity", Value::Null);
        out.set("max_capacity", Value::Null);
    }

    // 2. Policies and the alarms that invoke them. The alarms also carry how the target
    // was given, for import.
    let with_inputs = |tags: &BTreeMap<String, String>, spec: Option<&BacklogSpec>| {
        let mut all = tags.clone();
        if let Some(s) = spec {
            all.insert(INPUTS_TAG.to_owned(), s.target.tag_value());
        }
        all
    };
    let had_alarm_tags = with_inputs(&had_tags, spec_from(state).as_ref());
    let want_alarm_tags = with_inputs(&want_tags, Some(spec));
    let tags = reconcile::Tags {
        had: &had_alarm_tags,
        want: &want_alarm_tags,
    };
    if reconcile::write(client, &desired, state, tags, &mut out, diags)
        .await
        .is_err()
    {
        return out;
    }
    out.set("tags_all", Value::string_map(&want_tags));

    // 3. The schedule that keeps the queue active.
    if let Err(e) = keep_active::write(
        client,
        compiled.keep_active.as_ref(),
        &desired.owner,
        state,
        planned,
        &mut out,
    )
    .await
    {
        reconcile::report(diags, &e);
    }
    out
}

/// With `task_count_source = "container_insights"` the policies divide by Container
/// Insights' `RunningTaskCount`, which ECS publishes only for clusters with the setting on
/// (ECS developer guide, "Container Insights"); without it the service would never leave
/// `wake_tasks`. Reports the fix at `task_count_source` and returns false when it is off.
async fn check_container_insights(
    client: &Clients,
    cluster: &str,
    diags: &mut Diagnostics,
) -> bool {
    match aws::ecs::container_insights(&client.ecs, cluster).await {
        Ok(Some(v)) if v == "enabled" || v == "enhanced" => true,
        Ok(setting) => {
            err(
                diags,
                "task_count_source",
                "Container Insights is off on the cluster",
                format!(
                    "Cluster {cluster:?} has containerInsights = {}, so ECS never publishes \
                     RunningTaskCount and this policy would keep the service at wake_tasks. \
                     Turn it on (aws_ecs_cluster: setting {{ name = \"containerInsights\" \
                     value = \"enabled\" }}; or aws ecs update-cluster-settings), or use \
                     task_count_source = \"cpu_sample_count\".",
                    setting.as_deref().unwrap_or("(not set)")
                ),
            );
            false
        }
        Err(e) => {
            aws_error(diags, &e);
            false
        }
    }
}

/// Refreshes state from AWS: target (when owned), policies and alarms in one call each,
/// all three made together, and tags when the resource manages tags (each read after the
/// object it belongs to): two round trips. Returns null when nothing exists any more.
async fn observe(client: &Clients, state: &Value) -> Result<Value, reconcile::ObjectError> {
    let mut out = state.clone();
    let (Some(cluster), Some(service), Some(name)) = (
        state.get("cluster_name").as_str(),
        state.get("service_name").as_str(),
        state.get("name").as_str(),
    ) else {
        return Ok(out);
    };
    let owner = owner(cluster, service, name);
    let resource_id = service_resource_id(cluster, service);
    let importing = state.get("queue_name").is_null();
    let owned = state.get("scalable_target_id").is_null();
    let mut exists = false;
    let prior_all = state.get("tags_all");
    let wants_tags = prior_all.is_null() || prior_all.entries().is_some_and(|m| !m.is_empty());
    let wanted = spec_from(state).map(|spec| desired(&spec, &compile(&spec)));

    let (policies, alarms) = if importing {
        let pairs = |keep: fn(Purpose) -> bool| -> Vec<(String, String)> {
            Purpose::ALL
                .into_iter()
                .filter(|p| keep(*p))
                .map(|p| (p.as_str().to_owned(), p.object_name(name)))
                .collect()
        };
        (pairs(Purpose::has_policy), pairs(Purpose::has_alarm))
    } else {
        reconcile::recorded(state)
    };
    // The target (then its tags) and the objects (then the first alarm's tags) are read
    // together; errors are reported in the order of a sequential read.
    let target = async {
        if !owned {
            return Ok(None);
        }
        let Some(t) = aws::optional(aas::find_scalable_target(&client.aas, &resource_id).await)?
        else {
            return Ok(Some(None));
        };
        let tags = if wants_tags {
            Some(aas::list_tags(&client.aas, &t.arn).await)
        } else {
            None
        };
        Ok::<_, aws::AwsError>(Some(Some((t, tags))))
    };
    let (target, observed) = tokio::join!(
        target,
        reconcile::read(
            client,
            &owner,
            &resource_id,
            &policies,
            &alarms,
            state,
            wanted.as_ref()
        )
    );
    let mut target_tags = None;
    match target? {
        Some(Some((t, tags))) => {
            exists = true;
            out.set("scalable_target_arn", Value::from(t.arn.as_str()));
            out.set("min_capacity", Value::int(t.target.min_capacity.into()));
            out.set("max_capacity", Value::int(t.target.max_capacity.into()));
            out.set(
                "suspended_state",
                suspension_value(t.target.suspension, state),
            );
            target_tags = tags;
        }
        Some(None) => out.set("scalable_target_arn", Value::Null),
        None => {}
    }
    let observed = observed?;
    exists |= observed.any();
    objects::store(&mut out, &observed.lists);
    let (found, found_alarms) = (observed.found_policies, observed.found_alarms);
    let observed_inputs = observed.alarm_inputs;

    if !exists {
        tracing::warn!(
            name,
            "nothing of the backlog scaling policy is left; removing it from state"
        );
        return Ok(Value::Null);
    }
    if wants_tags {
        let observed = match (target_tags, observed.alarm_tags) {
            (Some(tags), _) => Some(user_tags(&tags?)),
            (None, Some((_, tags))) => Some(tags),
            (None, None) => None,
        };
        if let Some(all) = observed {
            out.set(
                "tags",
                own_tags_from(&all, &client.default_tags, state.get("tags"), prior_all),
            );
            out.set("tags_all", Value::string_map(&all));
        }
    } else {
        out.set("tags_all", Value::Map(BTreeMap::new()));
    }
    keep_active::read(
        client,
        state,
        &owner,
        state.get("queue_name").as_str(),
        importing,
        &mut out,
    )
    .await?;
    if importing {
        derive_inputs(&mut out, &found, &found_alarms, observed_inputs.as_deref());
    }
    Ok(out)
}

/// On import, recovers the configuration inputs from what AWS holds, so that a plan
/// after import is empty.
/// How the target was given comes from the alarms' `queuescale:inputs` tag, else from
/// the wake alarm's description (alarms written by 0.1), else it is the target value.
fn derive_inputs(
    out: &mut Value,
    policies: &[aas::ObservedPolicy],
    alarms: &[cw::ObservedAlarm],
    inputs_tag: Option<&str>,
) {
    let name = out.get("name").as_str().unwrap_or_default().to_owned();
    let tt = policies.iter().find_map(|o| match &o.policy.kind {
        PolicyKind::TargetTracking(t)
            if o.policy.name == Purpose::BacklogPerTask.object_name(&name) =>
        {
            Some(t)
        }
        _ => None,
    });
    let step = |p: Purpose| {
        policies.iter().find_map(|o| match &o.policy.kind {
            PolicyKind::Step(s) if o.policy.name == p.object_name(&name) => Some(s),
            _ => None,
        })
    };
    let alarm = |p: Purpose| {
        alarms
            .iter()
            .find(|a| a.alarm.name == p.object_name(&name))
            .map(|a| &a.alarm)
    };
    if let Some(t) = tt {
        let has = |id: &str| t.metrics.iter().any(|q| q.id == id);
        out.set("include_in_flight", Value::Bool(has("in_flight")));
        out.set("include_delayed", Value::Bool(has("delayed")));
        out.set("disable_scale_in", Value::Bool(t.disable_scale_in));
        out.set(
            "scale_out_cooldown",
            Value::int(t.scale_out_cooldown.unwrap_or(0).into()),
        );
        out.set(
            "scale_in_cooldown",
            Value::int(t.scale_in_cooldown.unwrap_or(0).into()),
        );
        out.set("target_value", Value::number(t.target_value));
        let source = t.metrics.iter().find_map(|q| match &q.source {
            QuerySource::Metric(ms) if q.id == "tasks" => Some(ms.metric.name.as_str()),
            _ => None,
        });
        let source = if source == Some("RunningTaskCount") {
            TaskCountSource::ContainerInsights
        } else {
            TaskCountSource::CpuSampleCount
        };
        out.set("task_count_source", Value::from(source.as_str()));
        out.set("target_backlog_per_task", decimal(t.target_value));
    }
    if let Some(w) = alarm(Purpose::WakeFromZero) {
        notify::set_from_alarm(out, w);
        out.set("wake_threshold", decimal(w.threshold));
        if let AlarmMetric::Math(queries) = &w.metric
            && let Some(q) = queries.iter().find_map(|q| match &q.source {
                QuerySource::Metric(ms) => ms.metric.dimensions.get("QueueName"),
                QuerySource::Expression(_) => None,
            })
        {
            out.set("queue_name", Value::from(q.as_str()));
        }
        let given = inputs_tag
            .and_then(BacklogTarget::from_tag_value)
            .or_else(|| BacklogTarget::parse(&w.description));
        if let Some(BacklogTarget::Latency {
            latency,
            processing,
        }) = given
        {
            out.set("target_backlog_per_task", Value::Null);
            out.set("acceptable_latency_seconds", decimal(latency));
            out.set("average_processing_seconds", decimal(processing));
        }
    }
    if let Some(s) = step(Purpose::WakeFromZero)
        && let Some(a) = s.steps.first()
    {
        out.set("wake_tasks", Value::int(a.scaling_adjustment.into()));
    }
    let dlq = alarm(Purpose::DeadLetters).and_then(|a| match &a.metric {
        AlarmMetric::Math(qs) => qs.iter().find_map(|q| match &q.source {
            QuerySource::Metric(ms) => ms.metric.dimensions.get("QueueName").cloned(),
            QuerySource::Expression(_) => None,
        }),
        AlarmMetric::Single(ms) => ms.metric.dimensions.get("QueueName").cloned(),
    });
    out.set("dead_letter_queue_name", Value::opt_string(dlq));
    let idle =
        alarm(Purpose::DrainToZero).map_or(DEFAULT_IDLE_MINUTES, |d| d.evaluation_periods.into());
    out.set("idle_minutes", Value::int(idle));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::objects::by_purpose;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut v = crate::resources::support::null_object(&schema());
        for (k, x) in [
            ("name", Value::from("worker")),
            ("queue_name", Value::from("jobs")),
            ("cluster_name", Value::from("main")),
            ("service_name", Value::from("worker")),
            ("min_capacity", Value::int(0)),
            ("max_capacity", Value::int(50)),
            ("acceptable_latency_seconds", Value::int(10)),
            ("average_processing_seconds", Value::number(0.1)),
        ] {
            v.set(k, x);
        }
        for (k, x) in pairs {
            v.set(k, x.clone());
        }
        v
    }

    fn errors_at(c: &Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        validate(c, &mut d);
        d.iter()
            .filter(|x| x.severity == crate::tfplugin::Severity::Error)
            .filter_map(|x| x.attribute.as_ref())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn inputs_that_defeat_the_design_are_named() {
        use crate::tfplugin::Severity;
        let diags = |pairs: &[(&str, Value)]| {
            let mut d = Diagnostics::new();
            validate(&config(pairs), &mut d);
            d.iter()
                .map(|x| {
                    let at = x.attribute.as_ref().map(ToString::to_string);
                    (at.unwrap_or_default(), x.severity)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            diags(&[("max_capacity", Value::int(0)), ("wake_tasks", Value::Null)]),
            [("max_capacity".to_string(), Severity::Error)]
        );
        assert_eq!(
            diags(&[("min_capacity", Value::int(2))]),
            [("min_capacity".to_string(), Severity::Warning)]
        );
        assert_eq!(
            diags(&[
                ("disable_scale_in", Value::Bool(true)),
                ("idle_minutes", Value::int(20))
            ]),
            [("idle_minutes".to_string(), Severity::Warning)]
        );
        assert!(diags(&[("disable_scale_in", Value::Bool(true))]).is_empty());
    }

    #[test]
    fn the_example_configuration_is_valid() {
        assert!(errors_at(&config(&[])).is_empty());
    }

    #[test]
    fn exactly_one_way_to_give_the_target() {
        assert_eq!(
            errors_at(&config(&[("target_backlog_per_task", Value::int(5))])),
            ["target_backlog_per_task"]
        );
        let none = config(&[
            ("acceptable_latency_seconds", Value::Null),
            ("average_processing_seconds", Value::Null),
        ]);
        assert_eq!(errors_at(&none), ["target_backlog_per_task"]);
        let half = config(&[("average_processing_seconds", Value::Null)]);
        assert_eq!(errors_at(&half), ["average_processing_seconds"]);
    }

    #[test]
    fn bad_values_are_reported_at_their_attribute() {
        let cases: [(&str, Value); 9] = [
            ("name", Value::from("has space")),
            (
                "queue_name",
                Value::from("https://sqs.us-east-1.amazonaws.com/1/jobs"),
            ),
            ("idle_minutes", Value::int(0)),
            ("idle_minutes", Value::int(1441)),
            ("scale_in_cooldown", Value::int(-1)),
            ("wake_threshold", Value::number(0.5)),
            ("wake_tasks", Value::int(0)),
            ("task_count_source", Value::from("guess")),
            ("acceptable_latency_seconds", Value::number(0.01)),
        ];
        for (attr, v) in cases {
            assert_eq!(
                errors_at(&config(&[(attr, v.clone())])),
                [attr],
                "{attr} = {v:?}"
            );
        }
        assert_eq!(
            errors_at(&config(&[
                ("min_capacity", Value::int(9)),
                ("max_capacity", Value::int(3))
            ])),
            ["min_capacity"]
        );
        assert_eq!(
            errors_at(&config(&[("wake_tasks", Value::int(60))])),
            ["wake_tasks"]
        );
        assert_eq!(
            errors_at(&config(&[
                ("target_backlog_per_task", Value::int(0)),
                ("acceptable_latency_seconds", Value::Null),
                ("average_processing_seconds", Value::Null)
            ])),
            ["target_backlog_per_task"]
        );
    }

    #[test]
    fn fifo_queue_names_are_accepted() {
        assert!(errors_at(&config(&[("queue_name", Value::from("jobs.fifo"))])).is_empty());
        assert_eq!(
            errors_at(&config(&[("queue_name", Value::from(".fifo"))])),
            ["queue_name"]
        );
        assert_eq!(
            errors_at(&config(&[("queue_name", Value::from("q".repeat(81)))])),
            ["queue_name"]
        );
    }

    #[test]
    fn an_attached_policy_takes_no_capacities_and_must_match_its_service() {
        let attached = config(&[
            ("scalable_target_id", Value::from("service/main/worker")),
            ("min_capacity", Value::Null),
            ("max_capacity", Value::Null),
        ]);
        assert!(errors_at(&attached).is_empty());
        let mut other = attached.clone();
        other.set("scalable_target_id", Value::from("service/main/other"));
        assert_eq!(errors_at(&other), ["scalable_target_id"]);
        let mut both = attached;
        both.set("min_capacity", Value::int(0));
        assert_eq!(errors_at(&both), ["min_capacity"]);
        let owned_without = config(&[("max_capacity", Value::Null)]);
        assert_eq!(errors_at(&owned_without), ["max_capacity"]);
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let c = config(&[
            ("queue_name", Value::Unknown),
            ("scalable_target_id", Value::Unknown),
            ("min_capacity", Value::Unknown),
        ]);
        assert!(errors_at(&c).is_empty());
    }

    #[test]
    fn an_apply_that_cannot_go_on_says_why() {
        // An input unknown at plan that turns out invalid: the validation error, at its
        // attribute, not "Incomplete plan".
        let mut d = Diagnostics::new();
        incomplete(&config(&[("max_capacity", Value::int(0))]), &mut d);
        let summaries: Vec<String> = d
            .iter()
            .map(|x| format!("{:?} {}", x.attribute, x.summary))
            .collect();
        assert!(
            summaries.iter().any(|s| s.contains("max_capacity"))
                && !summaries.iter().any(|s| s.contains("Incomplete")),
            "{summaries:?}"
        );
        let mut d = Diagnostics::new();
        incomplete(&config(&[]), &mut d);
        assert!(d.iter().any(|x| x.summary == "Incomplete plan"));
    }

    fn known_plan() -> Value {
        let mut planned = config(&[]);
        for (k, v) in [
            ("include_in_flight", Value::Bool(true)),
            ("include_delayed", Value::Bool(false)),
            ("scale_out_cooldown", Value::int(60)),
            ("scale_in_cooldown", Value::int(300)),
            ("disable_scale_in", Value::Bool(false)),
            ("wake_threshold", Value::int(1)),
            ("wake_tasks", Value::int(1)),
            ("idle_minutes", Value::int(15)),
            ("task_count_source", Value::from("cpu_sample_count")),
        ] {
            planned.set(k, v);
        }
        planned
    }

    fn planned_lists(planned: &Value, prior: &Value) -> objects::Lists {
        let spec = spec_from(planned).expect("known spec");
        reconcile::plan(&desired(&spec, &compile(&spec)), prior)
    }

    #[test]
    fn planned_objects_keep_their_arns_while_they_keep_their_names() {
        let planned = known_plan();
        let fresh = planned_lists(&planned, &Value::Null);
        assert!(
            fresh
                .policies
                .iter()
                .chain(&fresh.alarms)
                .all(|p| p.get("arn").is_unknown())
        );
        // Pretend everything exists as planned.
        let mut existing = fresh.clone();
        for e in existing.policies.iter_mut().chain(&mut existing.alarms) {
            let arn = format!("arn:{}", e.get("name").as_str().unwrap_or_default());
            e.set("arn", Value::from(arn));
        }
        let mut prior = planned.clone();
        objects::store(&mut prior, &existing);
        assert_eq!(planned_lists(&planned, &prior), existing);
        // A changed object keeps its ARN (it is updated in place); its text changes.
        let mut changed = planned.clone();
        changed.set("wake_tasks", Value::int(2));
        let after = planned_lists(&changed, &prior);
        let wake = by_purpose(&after.policies, "wake-from-zero").expect("wake");
        assert_eq!(wake.get("arn"), &Value::from("arn:worker-wake-from-zero"));
        assert_ne!(
            wake.get("text"),
            by_purpose(&existing.policies, "wake-from-zero")
                .expect("wake")
                .get("text")
        );
        // A renamed one is another object.
        let mut renamed = planned.clone();
        renamed.set("name", Value::from("other"));
        let after = planned_lists(&renamed, &prior);
        assert!(
            after
                .policies
                .iter()
                .chain(&after.alarms)
                .all(|p| p.get("arn").is_unknown())
        );
    }

    #[test]
    fn an_unknown_input_makes_unknown_only_what_depends_on_it() {
        let planned = known_plan();
        let plan_of = |v: &Value| {
            spec_from(v).map(|spec| reconcile::plan(&desired(&spec, &compile(&spec)), &Value::Null))
        };
        let whole = planned_lists(&planned, &Value::Null);
        // The capacity range belongs to the scalable target: every object stays known.
        let mut p = planned.clone();
        p.set("max_capacity", Value::Unknown);
        let lists = objects::plan_with_unknowns(&schema(), &p, plan_of).expect("planned");
        assert_eq!(lists, whole);
        // idle_minutes shapes the drain alarm alone.
        let mut p = planned.clone();
        p.set("idle_minutes", Value::Unknown);
        let lists = objects::plan_with_unknowns(&schema(), &p, plan_of).expect("planned");
        for e in lists.policies.iter().chain(&lists.alarms) {
            let drain_alarm = lists.alarms.iter().any(|a| a == e)
                && e.get("purpose").as_str() == Some("drain-to-zero");
            assert_eq!(
                e.get("text").is_unknown(),
                drain_alarm,
                "{:?}",
                e.get("name")
            );
            assert!(e.get("name").is_wholly_known());
        }
        // The queue is a dimension of the metrics: those are unknown, the texts are not.
        let mut p = planned.clone();
        p.set("queue_name", Value::Unknown);
        let lists = objects::plan_with_unknowns(&schema(), &p, plan_of).expect("planned");
        let wake = by_purpose(&lists.alarms, "wake-from-zero").expect("wake");
        assert!(wake.get("text").is_wholly_known());
        let metric = |id: &str| {
            wake.get("metrics")
                .entries()
                .and_then(|m| m.get(id))
                .cloned()
        };
        assert_eq!(metric("visible"), Some(Value::Unknown));
        assert!(metric("tasks").is_some_and(|t| t.is_wholly_known()));
        // The name names every object.
        let mut p = planned.clone();
        p.set("name", Value::Unknown);
        let lists = objects::plan_with_unknowns(&schema(), &p, plan_of).expect("planned");
        assert!(
            lists
                .policies
                .iter()
                .all(|e| e.get("name").is_unknown() && e.get("arn").is_unknown())
        );
    }
}
