//! `queuescale_scaling_simulation`: what a `queuescale_sqs_backlog_scaling_policy` would do
//! on a trace of messages, computed at plan time by the simulator (`crate::sim`).
//!
//! The policy arguments are the resource's own (its schema, descriptions and defaults), and
//! they are planned by the resource itself through [`crate::simulate::plan_config`], the
//! path `simulate` takes: the simulation runs the objects `terraform plan` would show. It
//! reads nothing from AWS and works with an unconfigured provider.

use async_trait::async_trait;

use crate::provider::Clients;
use crate::scaling::model::PolicyKind;
use crate::sim;
use crate::simulate::{self, Distribution, PolicyResource, Workload};
use crate::tfplugin::{
    AttrPath, AttrType, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value,
};

/// The data source.
pub struct ScalingSimulation;

/// Resource arguments the data source does not take: the simulation owns its capacity
/// range, and tags change nothing it models.
const NOT_TAKEN: [&str; 2] = ["scalable_target_id", "tags"];

/// Resource arguments that only name the simulated objects; optional here.
const NAMES: [&str; 4] = ["name", "queue_name", "cluster_name", "service_name"];

/// What the names default to.
const DEFAULT_NAME: &str = "simulated";

/// Resource arguments the simulation cannot do without.
const CAPACITY: [&str; 2] = ["min_capacity", "max_capacity"];

const TRACE: &str = "trace";
const REPEAT: &str = "repeat";
const DURATION: &str = "duration_seconds";
const SEED: &str = "seed";
const PROCESSING: &str = "processing_seconds";
const DISTRIBUTION: &str = "processing_distribution";
const START_MIN: &str = "task_start_min_seconds";
const START_MAX: &str = "task_start_max_seconds";
const INITIAL: &str = "initial_tasks";
const SQS_DELAY: &str = "sqs_metric_delay_seconds";
const ECS_LAG: &str = "ecs_metric_lag_seconds";
const CPU: &str = "cpu_metric";
const PROTECT: &str = "protect_busy_tasks";
const VISIBILITY: &str = "visibility_timeout_seconds";
const KEEP_ACTIVE: &str = "keep_queue_active_every_seconds";

/// The figures the data source returns, with their descriptions.
const RESULTS: [(&str, &str); 15] = [
    ("messages_arrived", "Messages the trace sent."),
    ("messages_processed", "Messages processed and deleted."),
    (
        "messages_still_queued",
        "Messages visible, delayed or in flight when the simulation ends.",
    ),
    (
        "task_minutes",
        "Minutes of tasks from launch to stop, starting tasks included (what Fargate bills).",
    ),
    (
        "wait_p50_seconds",
        "Median wait, in seconds, from sending a message to the start of the processing that \
         completed it.",
    ),
    ("wait_p95_seconds", "95th percentile of that wait, seconds."),
    ("wait_max_seconds", "Longest such wait, seconds."),
    (
        "wakes",
        "Times a message arrived while no task was running.",
    ),
    (
        "wake_latency_max_seconds",
        "Longest time, in seconds, from such a message to the first running task; null when \
         the service never woke from zero.",
    ),
    (
        "wake_latency_mean_seconds",
        "Mean of those times, seconds; null when the service never woke from zero.",
    ),
    ("scale_out_events", "Changes of the desired count upwards."),
    ("scale_in_events", "Changes of the desired count downwards."),
    ("peak_tasks", "Most tasks running at once."),
    (
        "busy_tasks_stopped",
        "Tasks stopped by a scale-in while they held a message.",
    ),
    (
        "messages_redelivered",
        "Messages that became visible again because their task was stopped.",
    ),
];

/// Whole-number workload arguments: attribute, smallest, largest.
const WHOLE: [(&str, f64, f64); 9] = [
    (REPEAT, 1.0, 1000.0),
    (DURATION, 1.0, 366.0 * 86_400.0),
    (SEED, 0.0, 9_007_199_254_740_991.0),
    (START_MIN, 0.0, 3600.0),
    (START_MAX, 0.0, 3600.0),
    (INITIAL, 0.0, 1_000_000.0),
    (SQS_DELAY, 0.0, 3600.0),
    (ECS_LAG, 0.0, 3600.0),
    (VISIBILITY, 0.0, 43_200.0),
];

/// The policy arguments: the resource's configurable attributes, names optional, the
/// capacity range required.
fn policy_attributes() -> Vec<Attribute> {
    PolicyResource::Backlog
        .resource()
        .schema()
        .block
        .attributes
        .into_iter()
        .filter(|a| (a.required || a.optional) && !NOT_TAKEN.contains(&a.name.as_str()))
        .map(|a| {
            if NAMES.contains(&a.name.as_str()) {
                let ty = match &a.ty {
                    AttrType::Plain(t) => t.clone(),
                    AttrType::Nested { .. } => Type::String,
                };
                Attribute::with_default(&a.name, ty, Value::from(DEFAULT_NAME)).describe(&format!(
                    "Names the simulated objects only, as `{}` does in the resource.",
                    a.name
                ))
            } else if CAPACITY.contains(&a.name.as_str()) {
                let description = if a.name == "min_capacity" {
                    "Fewest tasks (`0` scales to zero)."
                } else {
                    "Most tasks."
                };
                Attribute::required(&a.name, Type::Number).describe(description)
            } else {
                a
            }
        })
        .collect()
}

fn workload_attributes() -> Vec<Attribute> {
    let int_default = |name: &str, v: i64, text: &str| {
        Attribute::with_default(name, Type::Number, Value::int(v)).describe(text)
    };
    let defaults = Workload::default();
    let names: Vec<&str> = sim::trace::REFERENCE.iter().map(|(n, _)| *n).collect();
    vec![
        Attribute::required(TRACE, Type::String).describe(&format!(
            "The messages sent: a reference trace ({}) or `seconds,messages` CSV text, one \
             line per second with messages (a non-numeric first line is a header, `#` starts a \
             comment), e.g. `file(\"traffic.csv\")`.",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        int_default(REPEAT, 1, "Play the trace this many times back to back."),
        Attribute::optional(DURATION, Type::Number)
            .describe("Seconds to simulate. Defaults to the length of the (repeated) trace."),
        int_default(
            SEED,
            i64::try_from(defaults.seed).unwrap_or(0),
            "Seed of every random draw: the same arguments give the same figures.",
        ),
        Attribute::optional(PROCESSING, Type::Number)
            .and_computed()
            .describe(
                "Mean time, in seconds, a task takes per message. Defaults to \
                 `average_processing_seconds`, else 1.",
            ),
        Attribute::with_default(DISTRIBUTION, Type::String, Value::from("exponential")).describe(
            "How processing times spread around the mean: `fixed`, `exponential` or \
             `uniform` (from half to one and a half times the mean).",
        ),
        int_default(
            START_MIN,
            i64::from(defaults.start_latency.0),
            "Fewest seconds from launching a task to its running (drawn uniformly up to \
             `task_start_max_seconds`).",
        ),
        int_default(
            START_MAX,
            i64::from(defaults.start_latency.1),
            "Most seconds from launching a task to its running.",
        ),
        Attribute::optional(INITIAL, Type::Number)
            .describe("Tasks running at the start. Defaults to `min_capacity`."),
        int_default(
            SQS_DELAY,
            i64::from(defaults.sqs_metric_delay),
            "Seconds after a minute ends before SQS's datapoints for it can be read.",
        ),
        int_default(
            ECS_LAG,
            i64::from(defaults.ecs_metric_lag),
            "Seconds by which ECS's metrics (CPUUtilization, RunningTaskCount) arrive later \
             than SQS's.",
        ),
        Attribute::with_default(CPU, Type::Bool, Value::Bool(defaults.cpu_metric)).describe(
            "The service publishes `AWS/ECS CPUUtilization` (false: EC2 tasks without \
             telemetry).",
        ),
        Attribute::with_default(PROTECT, Type::Bool, Value::Bool(defaults.protect)).describe(
            "Workers hold ECS task scale-in protection while they process a message, so a \
             scale-in never stops a busy task.",
        ),
        int_default(
            VISIBILITY,
            i64::from(defaults.visibility_timeout),
            "The queue's visibility timeout: seconds before the message of a stopped task is \
             visible again.",
        ),
        Attribute::optional(KEEP_ACTIVE, Type::Number).describe(
            "An API call on the queue every so many seconds, which keeps SQS from treating it \
             as inactive (an inactive queue's metrics are late).",
        ),
    ]
}

fn result_attributes() -> Vec<Attribute> {
    let mut out = vec![
        Attribute::computed("target_value", Type::Number)
            .describe("The backlog per task the policy's target tracking keeps."),
    ];
    out.extend(
        RESULTS
            .iter()
            .map(|(name, text)| Attribute::computed(name, Type::Number).describe(text)),
    );
    out
}

/// The attributes of the configuration that the resource reads, as a value of the
/// resource's schema type; the names default as the data source says.
fn resource_config(config: &Value) -> Value {
    let schema = PolicyResource::Backlog.resource().schema();
    Value::object(schema.block.attributes.iter().map(|a| {
        let v = match config.get(&a.name) {
            Value::Null if NAMES.contains(&a.name.as_str()) => Value::from(DEFAULT_NAME),
            v => v.clone(),
        };
        (a.name.clone(), v)
    }))
}

fn whole(config: &Value, attr: &str) -> Option<u64> {
    config.get(attr).as_f64().map(|n| n as u64)
}

fn u32_of(config: &Value, attr: &str, default: u32) -> u32 {
    whole(config, attr)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(default)
}

/// Checks the workload arguments that are known, each at its attribute.
fn validate_workload(config: &Value, diags: &mut Diagnostics) {
    for (attr, lo, hi) in WHOLE {
        if let Some(n) = config.get(attr).as_f64()
            && !(n.fract() == 0.0 && n >= lo && n <= hi)
        {
            diags.error_at(
                AttrPath::root(attr),
                format!("Invalid {attr}"),
                format!("{attr} must be a whole number from {lo} to {hi}, not {n}."),
            );
        }
    }
    if let Some(n) = config.get(KEEP_ACTIVE).as_f64()
        && !(n.fract() == 0.0 && (1.0..=86_400.0).contains(&n))
    {
        diags.error_at(
            AttrPath::root(KEEP_ACTIVE),
            format!("Invalid {KEEP_ACTIVE}"),
            format!("{KEEP_ACTIVE} must be a whole number of seconds from 1 to 86400, not {n}."),
        );
    }
    let defaults = Workload::default().start_latency;
    let or_default = |attr: &str, d: u32| match config.get(attr) {
        Value::Null => Some(f64::from(d)),
        v => v.as_f64(),
    };
    if let (Some(lo), Some(hi)) = (
        or_default(START_MIN, defaults.0),
        or_default(START_MAX, defaults.1),
    ) && lo > hi
    {
        diags.error_at(
            AttrPath::root(START_MAX),
            format!("Invalid {START_MAX}"),
            format!("{START_MAX} ({hi}) must be at least {START_MIN} ({lo})."),
        );
    }
    if let Some(p) = config.get(PROCESSING).as_f64()
        && !(p.is_finite() && p > 0.0)
    {
        diags.error_at(
            AttrPath::root(PROCESSING),
            format!("Invalid {PROCESSING}"),
            format!("{PROCESSING} must be above 0 seconds, not {p}."),
        );
    }
    if let Some(d) = config.get(DISTRIBUTION).as_str()
        && distribution(d).is_none()
    {
        diags.error_at(
            AttrPath::root(DISTRIBUTION),
            format!("Invalid {DISTRIBUTION}"),
            format!("{d:?}: use \"fixed\", \"exponential\" or \"uniform\"."),
        );
    }
    if let Some(t) = config.get(TRACE).as_str()
        && let Err(e) = simulate::trace_from_text(t)
    {
        diags.error_at(AttrPath::root(TRACE), "Invalid trace", format!("{e}."));
    }
}

fn distribution(s: &str) -> Option<Distribution> {
    match s {
        "fixed" => Some(Distribution::Fixed),
        "exponential" => Some(Distribution::Exponential),
        "uniform" => Some(Distribution::Uniform),
        _ => None,
    }
}

/// The workload the known configuration describes.
fn workload(config: &Value) -> Workload {
    let d = Workload::default();
    Workload {
        seed: whole(config, SEED).unwrap_or(d.seed),
        duration: whole(config, DURATION).and_then(|n| u32::try_from(n).ok()),
        processing_seconds: config.get(PROCESSING).as_f64(),
        processing: config
            .get(DISTRIBUTION)
            .as_str()
            .and_then(distribution)
            .unwrap_or(d.processing),
        start_latency: (
            u32_of(config, START_MIN, d.start_latency.0),
            u32_of(config, START_MAX, d.start_latency.1),
        ),
        initial_tasks: whole(config, INITIAL).and_then(|n| i32::try_from(n).ok()),
        sqs_metric_delay: u32_of(config, SQS_DELAY, d.sqs_metric_delay),
        ecs_metric_lag: u32_of(config, ECS_LAG, d.ecs_metric_lag),
        cpu_metric: config.get(CPU).as_bool().unwrap_or(d.cpu_metric),
        protect: config.get(PROTECT).as_bool().unwrap_or(d.protect),
        visibility_timeout: u32_of(config, VISIBILITY, d.visibility_timeout),
        keep_queue_active_every: whole(config, KEEP_ACTIVE).and_then(|n| u32::try_from(n).ok()),
    }
}

/// The figures of `summary` by attribute name.
fn results(summary: &sim::Summary) -> Vec<(&'static str, Value)> {
    let opt = |x: Option<f64>| x.map_or(Value::Null, Value::number);
    let n = |x: u64| Value::number(x as f64);
    vec![
        ("messages_arrived", n(summary.messages_arrived)),
        ("messages_processed", n(summary.messages_processed)),
        ("messages_still_queued", n(summary.messages_still_queued)),
        (
            "task_minutes",
            Value::number((summary.task_minutes * 10.0).round() / 10.0),
        ),
        ("wait_p50_seconds", Value::number(summary.wait_p50_seconds)),
        ("wait_p95_seconds", Value::number(summary.wait_p95_seconds)),
        ("wait_max_seconds", Value::number(summary.wait_max_seconds)),
        ("wakes", n(u64::from(summary.wakes))),
        (
            "wake_latency_max_seconds",
            opt(summary.wake_latency_max_seconds.map(f64::from)),
        ),
        (
            "wake_latency_mean_seconds",
            opt(summary
                .wake_latency_mean_seconds
                .map(|m| (m * 10.0).round() / 10.0)),
        ),
        ("scale_out_events", n(u64::from(summary.scale_out_events))),
        ("scale_in_events", n(u64::from(summary.scale_in_events))),
        ("peak_tasks", n(u64::from(summary.peak_tasks))),
        ("busy_tasks_stopped", n(summary.busy_tasks_stopped)),
        ("messages_redelivered", n(summary.messages_redelivered)),
    ]
}

/// `config` with every null attribute that has a default set to it.
fn with_defaults(schema: &Schema, config: &Value) -> Value {
    let mut out = config.clone();
    for a in &schema.block.attributes {
        if let Some(d) = &a.default
            && out.get(&a.name).is_null()
        {
            out.set(&a.name, d.clone());
        }
    }
    out
}

#[async_trait]
impl DataSource<Clients> for ScalingSimulation {
    fn type_name(&self) -> &'static str {
        "queuescale_scaling_simulation"
    }

    fn schema(&self) -> Schema {
        let mut attributes = policy_attributes();
        attributes.extend(workload_attributes());
        attributes.extend(result_attributes());
        Schema::new(Block::new(attributes).describe(
            "Simulates a `queuescale_sqs_backlog_scaling_policy` on a trace of messages at \
             plan time: the policy arguments are planned by the resource itself and the \
             objects it would create (target tracking, the wake and drain alarms and policies) \
             run against a model of SQS, ECS, CloudWatch and Application Auto Scaling. Reads \
             nothing from AWS. Use the figures in a `check` block or a `postcondition` to hold \
             a policy to a service-level objective; see the guide *Simulating a scaling \
             policy* for what is modelled and what is assumed.",
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        PolicyResource::Backlog
            .resource()
            .validate(&resource_config(config), diags);
        validate_workload(config, diags);
    }

    async fn read(
        &self,
        _client: Option<&Clients>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        self.validate(config, diags);
        if diags.has_errors() {
            return Value::Null;
        }
        let planned = match simulate::plan_config(
            PolicyResource::Backlog,
            resource_config(config),
            None,
            None,
        )
        .await
        {
            Ok(p) => p,
            Err(d) => {
                diags.extend(d);
                return Value::Null;
            }
        };
        let trace = match config.get(TRACE).as_str().map(simulate::trace_from_text) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                diags.error_at(AttrPath::root(TRACE), "Invalid trace", e);
                return Value::Null;
            }
            None => {
                diags.error_at(AttrPath::root(TRACE), "Missing trace", "Give a trace.");
                return Value::Null;
            }
        };
        let trace = simulate::repeated(trace, u32_of(config, REPEAT, 1));
        let work = workload(config);
        let scenario = match work.scenario(&planned, trace) {
            Ok(s) => s,
            Err(e) => {
                diags.error("Cannot simulate the policy", e);
                return Value::Null;
            }
        };
        let objects = planned.objects.clone();
        // A long trace takes a while: off the runtime's worker threads.
        let run = tokio::task::spawn_blocking(move || sim::run(&objects, &scenario)).await;
        let report = match run {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                diags.error("Cannot simulate the policy", e.to_string());
                return Value::Null;
            }
            Err(e) => {
                diags.error("The simulation stopped", e.to_string());
                return Value::Null;
            }
        };
        for w in &report.warnings {
            diags.warning("Simulation warning", w.clone());
        }
        let mut state = with_defaults(&self.schema(), config);
        state.set(PROCESSING, Value::number(work.mean_processing(&planned)));
        let target = planned.objects.policies.iter().find_map(|p| match &p.kind {
            PolicyKind::TargetTracking(t) => Some(t.target_value),
            PolicyKind::Step(_) => None,
        });
        state.set("target_value", target.map_or(Value::Null, Value::number));
        for (name, v) in results(&report.summary) {
            state.set(name, v);
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration with every attribute null but those given.
    fn config(given: &[(&str, Value)]) -> Value {
        let schema = ScalingSimulation.schema();
        let mut c = Value::object(
            schema
                .block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null)),
        );
        for (k, v) in given {
            c.set(k, v.clone());
        }
        c
    }

    fn default_policy(trace: &str) -> Value {
        config(&[
            ("min_capacity", Value::int(0)),
            ("max_capacity", Value::int(50)),
            ("acceptable_latency_seconds", Value::int(10)),
            ("average_processing_seconds", Value::number(0.1)),
            (TRACE, Value::from(trace)),
        ])
    }

    #[test]
    fn the_policy_arguments_are_the_resources() {
        let ours = ScalingSimulation.schema();
        let resource = PolicyResource::Backlog.resource().schema();
        for a in &resource.block.attributes {
            let configurable = a.required || a.optional;
            let here = ours.block.attribute(&a.name);
            if configurable && !NOT_TAKEN.contains(&a.name.as_str()) {
                let here = here.unwrap_or_else(|| panic!("{} is missing", a.name));
                assert_eq!(here.value_type(), a.value_type(), "{}", a.name);
                if !NAMES.contains(&a.name.as_str()) && !CAPACITY.contains(&a.name.as_str()) {
                    assert_eq!(here, a, "{} is the resource's attribute", a.name);
                }
            }
        }
        assert!(ours.block.attribute("tags").is_none());
        assert!(ours.block.attribute("name").is_some_and(|a| a.optional));
        assert!(
            ours.block
                .attribute("min_capacity")
                .is_some_and(|a| a.required)
        );
    }

    #[test]
    fn the_burst_gives_the_simulators_figures() {
        let c = default_policy("burst");
        let mut diags = Diagnostics::new();
        let state = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(ScalingSimulation.read(None, &c, &mut diags));
        assert!(!diags.has_errors(), "{diags:?}");
        assert_eq!(state.get("messages_arrived"), &Value::int(1500));
        assert_eq!(state.get("target_value"), &Value::int(100));
        assert_eq!(state.get("wakes"), &Value::int(1));
        assert_eq!(state.get("queue_name"), &Value::from(DEFAULT_NAME));
        assert_eq!(state.get("idle_minutes"), &Value::int(15));
        assert_eq!(state.get(PROCESSING), &Value::number(0.1));
        // The same run through the `simulate` path.
        let p = simulate::plan_policy(
            r#"{"name": "simulated", "queue_name": "simulated", "cluster_name": "simulated",
                "service_name": "simulated", "min_capacity": 0, "max_capacity": 50,
                "acceptable_latency_seconds": 10, "average_processing_seconds": 0.1}"#,
            None,
            None,
        )
        .expect("plans");
        let sc = Workload::default()
            .scenario(&p, sim::trace::reference("burst").expect("burst"))
            .expect("scenario");
        let r = sim::run(&p.objects, &sc).expect("runs");
        assert_eq!(
            state.get("wait_p95_seconds").as_f64(),
            Some(r.summary.wait_p95_seconds)
        );
        assert_eq!(
            state.get("peak_tasks").as_f64(),
            Some(f64::from(r.summary.peak_tasks))
        );
        assert_eq!(
            state.get("wake_latency_max_seconds").as_f64(),
            r.summary.wake_latency_max_seconds.map(f64::from)
        );
        assert!(r.summary.wake_latency_max_seconds.is_some());
    }

    #[tokio::test]
    async fn an_inline_csv_trace_and_the_workload_knobs_are_used() {
        let mut c = default_policy("seconds,messages\n0,10\n600,10\n");
        c.set(PROTECT, Value::Bool(true));
        c.set(DURATION, Value::int(3600));
        c.set(PROCESSING, Value::int(2));
        let mut diags = Diagnostics::new();
        let state = ScalingSimulation.read(None, &c, &mut diags).await;
        assert!(!diags.has_errors(), "{diags:?}");
        assert_eq!(state.get("messages_arrived"), &Value::int(20));
        assert_eq!(state.get("busy_tasks_stopped"), &Value::int(0));
        assert_eq!(state.get(PROCESSING), &Value::int(2));
        assert_eq!(state.get(DURATION), &Value::int(3600));
    }

    fn error_paths(c: &Value) -> Vec<String> {
        let mut diags = Diagnostics::new();
        ScalingSimulation.validate(c, &mut diags);
        diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect()
    }

    #[test]
    fn bad_input_is_reported_at_its_attribute() {
        let mut c = default_policy("no-such-trace");
        assert_eq!(error_paths(&c), [TRACE]);
        c.set(TRACE, Value::from("0,1\nx,2\n"));
        assert_eq!(error_paths(&c), [TRACE]);
        let mut c = default_policy("burst");
        c.set("max_capacity", Value::int(-1));
        c.set("idle_minutes", Value::int(0));
        c.set(START_MIN, Value::int(100));
        c.set(DISTRIBUTION, Value::from("normal"));
        c.set(PROCESSING, Value::int(0));
        c.set(REPEAT, Value::number(1.5));
        let paths = error_paths(&c);
        for attr in [
            "max_capacity",
            "idle_minutes",
            START_MAX,
            DISTRIBUTION,
            PROCESSING,
            REPEAT,
        ] {
            assert!(paths.iter().any(|p| p == attr), "{attr} in {paths:?}");
        }
    }

    #[tokio::test]
    async fn read_reports_errors_without_a_state() {
        let mut c = default_policy("burst");
        c.set("acceptable_latency_seconds", Value::Null);
        let mut diags = Diagnostics::new();
        let state = ScalingSimulation.read(None, &c, &mut diags).await;
        assert!(state.is_null());
        assert!(diags.has_errors());
    }

    #[test]
    fn unknown_values_are_not_judged_yet() {
        let mut c = default_policy("burst");
        c.set(TRACE, Value::Unknown);
        c.set("max_capacity", Value::Unknown);
        assert!(error_paths(&c).is_empty());
    }
}
