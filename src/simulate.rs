//! The `simulate` command: a policy's arguments (JSON with the resource's attribute
//! names) are planned by the resource itself — its schema defaults, its validation, its
//! compiler — and the objects the plan holds are run by [`crate::sim`] on a trace.
//!
//! A thin shell: it reads the files it is given and formats the result; everything it
//! simulates is what `terraform plan` shows for the same arguments.

use std::path::PathBuf;

use crate::resources::sqs_backlog_scaling_policy::{self, SqsBacklogScalingPolicy};
use crate::resources::step_scaling_policy::{self, StepScalingPolicy};
use crate::scaling::model::{
    Alarm, AlarmMetric, MetricStat, Policy, QuerySource, Suspension, Target,
    parse_service_resource_id, service_resource_id,
};
use crate::sim::trace::{self, Trace};
use crate::sim::{self, Names, Objects, Processing, Scenario};
use crate::tfplugin::json::{self, UnknownAttributes};
use crate::tfplugin::{Diagnostics, PlannedChange, Resource, Severity, Value, plan};

/// The arguments of `simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// The policy: a JSON object with the arguments of `queuescale_sqs_backlog_scaling_policy`
    /// or `queuescale_step_scaling_policy` (attribute names as in HCL, blocks as objects or
    /// lists), as a file name or inline when it starts with `{`.
    #[arg(long)]
    pub policy: String,
    /// A reference trace (burst, diurnal, sparse, spiky, trickle) or a CSV file of
    /// `seconds,messages` lines.
    #[arg(long)]
    pub trace: String,
    /// Play the trace this many times back to back.
    #[arg(long, default_value_t = 1)]
    pub repeat: u32,
    /// Seconds to simulate (default: the trace's length).
    #[arg(long)]
    pub duration: Option<u32>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 2)]
    pub seed: u64,
    /// Mean processing time per message, seconds (default: `average_processing_seconds`,
    /// else 1).
    #[arg(long)]
    pub processing_seconds: Option<f64>,
    /// Processing-time distribution around that mean.
    #[arg(long, value_enum, default_value_t = Distribution::Exponential)]
    pub processing: Distribution,
    /// Fewest and most seconds from launching a task to its running, `MIN-MAX`.
    #[arg(long, default_value = "30-90", value_parser = parse_range)]
    pub start_latency: (u32, u32),
    /// Tasks running at the start (default: the minimum capacity).
    #[arg(long)]
    pub initial_tasks: Option<i32>,
    /// Seconds after a minute ends before SQS's datapoints can be read.
    #[arg(long, default_value_t = 20)]
    pub sqs_metric_delay: u32,
    /// Seconds by which ECS metrics arrive later than SQS's.
    #[arg(long, default_value_t = 0)]
    pub ecs_metric_lag: u32,
    /// The service publishes no `AWS/ECS CPUUtilization` (EC2 without telemetry).
    #[arg(long)]
    pub no_cpu_metric: bool,
    /// Workers hold ECS task scale-in protection while they process a message.
    #[arg(long)]
    pub protect: bool,
    /// The queue's visibility timeout, seconds.
    #[arg(long, default_value_t = 30)]
    pub visibility_timeout: u32,
    /// An API call on the queue every so many seconds, keeping it active.
    #[arg(long)]
    pub keep_queue_active_every: Option<u32>,
    /// Capacity range `MIN-MAX` for a policy that does not own its scalable target.
    #[arg(long, value_parser = parse_range)]
    pub capacity: Option<(u32, u32)>,
    /// Queue name for a step policy whose metrics do not name one.
    #[arg(long)]
    pub queue_name: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Include the per-minute timeline in the JSON report.
    #[arg(long)]
    pub timeline: bool,
    /// Draw tasks, visible and in-flight messages and the oldest message's wait over time
    /// into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
}

/// Processing-time distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Distribution {
    /// Every message takes the mean.
    Fixed,
    /// Exponential around the mean.
    Exponential,
    /// Uniform from half to one and a half times the mean.
    Uniform,
}

fn parse_range(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?}: expected MIN-MAX"))?;
    let (a, b): (u32, u32) = (
        a.trim()
            .parse()
            .map_err(|_| format!("{a:?} is not a whole number"))?,
        b.trim()
            .parse()
            .map_err(|_| format!("{b:?} is not a whole number"))?,
    );
    if a > b {
        return Err(format!("{s:?}: MIN is above MAX"));
    }
    Ok((a, b))
}

/// What a policy's arguments plan to, ready to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The compiled objects, as the plan shows them.
    pub objects: Objects,
    /// Where the simulated metrics are published.
    pub names: Names,
    /// `average_processing_seconds`, when the policy has one.
    pub average_processing: Option<f64>,
    /// Seconds between the calls of its `keep_queue_active` schedule, when it has one.
    pub keep_queue_active_every: Option<u32>,
}

fn diagnostics(d: &Diagnostics) -> Vec<String> {
    d.iter()
        .filter(|x| x.severity == Severity::Error)
        .map(|x| match &x.attribute {
            Some(path) => format!("{path}: {}: {}", x.summary, x.detail),
            None => format!("{}: {}", x.summary, x.detail),
        })
        .collect()
}

/// The resource whose arguments a policy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyResource {
    /// `queuescale_sqs_backlog_scaling_policy`.
    Backlog,
    /// `queuescale_step_scaling_policy`.
    Step,
}

impl PolicyResource {
    /// The resource itself: its schema, validation and plan.
    pub fn resource(self) -> Box<dyn Resource<crate::provider::Clients>> {
        match self {
            PolicyResource::Backlog => Box::new(SqsBacklogScalingPolicy),
            PolicyResource::Step => Box::new(StepScalingPolicy),
        }
    }
}

/// Plans `policy_json` with the resource it belongs to (by its attributes:
/// `queue_name` is the backlog policy, `step` the step policy) and returns the compiled
/// objects. `capacity` gives the range of a policy attached to a target it does not own.
///
/// # Errors
/// One line per problem: invalid JSON, unknown attributes, and every validation error the
/// resource reports, each at its attribute.
pub fn plan_policy(
    policy_json: &str,
    capacity: Option<(u32, u32)>,
    queue_name: Option<&str>,
) -> Result<Planned, Vec<String>> {
    let raw: serde_json::Value =
        serde_json::from_str(policy_json).map_err(|e| vec![format!("policy JSON: {e}")])?;
    let kind = if raw.get("queue_name").is_some() {
        PolicyResource::Backlog
    } else if raw.get("step").is_some() {
        PolicyResource::Step
    } else {
        return Err(vec![
            "policy JSON: give the arguments of queuescale_sqs_backlog_scaling_policy \
             (with queue_name) or of queuescale_step_scaling_policy (with step blocks)"
                .into(),
        ]);
    };
    let config = json::decode(
        policy_json.as_bytes(),
        &kind.resource().schema().value_type(),
        UnknownAttributes::Reject,
    )
    .map_err(|e| vec![format!("policy JSON: {e}")])?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| vec![format!("cannot start a runtime: {e}")])?;
    runtime
        .block_on(plan_config(kind, config, capacity, queue_name))
        .map_err(|d| diagnostics(&d))
}

/// Plans `config`, a value of the resource's schema type, as `terraform plan` does —
/// the resource's validation, its schema defaults, its plan hook with its compiler — and
/// reads the compiled objects back from the planned `policies` and `alarms`.
///
/// # Errors
/// The resource's error diagnostics, each at its attribute, or one diagnostic without an
/// attribute when the plan cannot be simulated (no policy, no capacity range, no queue).
pub async fn plan_config(
    kind: PolicyResource,
    config: Value,
    capacity: Option<(u32, u32)>,
    queue_name: Option<&str>,
) -> Result<Planned, Diagnostics> {
    let resource = kind.resource();
    let schema = resource.schema();
    let mut diags = Diagnostics::new();
    resource.validate(&config, &mut diags);
    if diags.has_errors() {
        return Err(diags);
    }
    let planned = plan::plan(&schema, &Value::Null, &config, &config).planned;
    let mut change = PlannedChange {
        prior: Value::Null,
        config,
        planned,
        requires_replace: Vec::new(),
    };
    resource.modify_plan(None, &mut change, &mut diags).await;
    if diags.has_errors() {
        return Err(diags);
    }
    objects_of(kind, &change, capacity, queue_name).map_err(|lines| {
        let mut d = Diagnostics::new();
        for l in lines {
            d.error("Cannot simulate the policy", l);
        }
        d
    })
}

/// The compiled objects of a planned backlog or step policy: what its plan shows and
/// apply writes (the resource's own compiler, through the same `Desired` its plan uses).
fn objects_of(
    kind: PolicyResource,
    change: &PlannedChange,
    capacity: Option<(u32, u32)>,
    queue_name: Option<&str>,
) -> Result<Planned, Vec<String>> {
    let backlog = kind == PolicyResource::Backlog;
    let p = &change.planned;
    let (desired, keep_queue_active_every) = match kind {
        PolicyResource::Backlog => sqs_backlog_scaling_policy::planned_objects(p),
        PolicyResource::Step => {
            step_scaling_policy::planned_objects(p, &change.config).map(|d| (d, None))
        }
    }
    .ok_or_else(|| vec!["some inputs of the policy are not known".to_owned()])?;
    // Alarms that only notify (no policy of their purpose) act on nothing: not simulated.
    let alarms: Vec<Alarm> = desired
        .alarms
        .into_iter()
        .filter(|(p, _)| desired.policies.iter().any(|(q, _)| q == p))
        .map(|(_, a)| a)
        .collect();
    let policies: Vec<Policy> = desired.policies.into_iter().map(|(_, p)| p).collect();
    if policies.is_empty() {
        return Err(vec!["the policy compiles to no scaling policy".into()]);
    }
    let int = |a: &str| p.get(a).as_i64().and_then(|n| i32::try_from(n).ok());
    let (cluster, service) = if backlog {
        (
            p.get("cluster_name")
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            p.get("service_name")
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    } else {
        let id = p.get("scalable_target_id").as_str().unwrap_or_default();
        let (c, s) = parse_service_resource_id(id).ok_or_else(|| {
            vec![format!(
                "scalable_target_id {id:?} is not service/CLUSTER/SERVICE"
            )]
        })?;
        (c.to_owned(), s.to_owned())
    };
    let resource_id = service_resource_id(&cluster, &service);
    let policies: Vec<Policy> = policies
        .into_iter()
        .map(|p| Policy {
            resource_id: resource_id.clone(),
            ..p
        })
        .collect();
    let owned = match (int("min_capacity"), int("max_capacity")) {
        (Some(min), Some(max)) if backlog && p.get("scalable_target_id").is_null() => {
            Some((min, max))
        }
        _ => None,
    };
    let (min, max) = match (owned, capacity) {
        (_, Some((a, b))) => (
            i32::try_from(a).unwrap_or(i32::MAX),
            i32::try_from(b).unwrap_or(i32::MAX),
        ),
        (Some(range), None) => range,
        (None, None) => {
            return Err(vec![
                "the policy attaches to a scalable target it does not own: give its range \
                 with --capacity MIN-MAX"
                    .into(),
            ]);
        }
    };
    let queue = match p.get("queue_name").as_str().or(queue_name) {
        Some(q) => q.to_owned(),
        None => alarms
            .iter()
            .find_map(|a| queue_of(&a.metric))
            .ok_or_else(|| {
                vec!["no metric names an SQS queue: give it with --queue-name".to_owned()]
            })?,
    };
    Ok(Planned {
        objects: Objects {
            target: Target {
                resource_id,
                min_capacity: min,
                max_capacity: max,
                suspension: Suspension::default(),
            },
            policies,
            alarms,
        },
        names: Names {
            queue,
            cluster,
            service,
        },
        average_processing: p.get("average_processing_seconds").as_f64(),
        keep_queue_active_every,
    })
}

fn queue_of(metric: &AlarmMetric) -> Option<String> {
    let stats: Vec<&MetricStat> = match metric {
        AlarmMetric::Single(ms) => vec![ms],
        AlarmMetric::Math(qs) => qs
            .iter()
            .filter_map(|q| match &q.source {
                QuerySource::Metric(ms) => Some(ms),
                QuerySource::Expression(_) => None,
            })
            .collect(),
    };
    stats
        .iter()
        .find_map(|ms| ms.metric.dimensions.get("QueueName").cloned())
}

/// Simulated time from which a run shows a progress bar (on a terminal only).
const PROGRESS_FROM_SECONDS: u32 = 7 * 86_400;

/// Runs the simulation, with a progress bar on stderr for long runs when stderr is a
/// terminal (never in pipes, files or CI logs).
fn run_showing_progress(objects: &Objects, sc: &Scenario) -> Result<sim::Report, sim::SimError> {
    use std::io::IsTerminal as _;
    if sc.duration < PROGRESS_FROM_SECONDS || !std::io::stderr().is_terminal() {
        return sim::run(objects, sc);
    }
    let bar = indicatif::ProgressBar::new(u64::from(sc.duration / 3600));
    bar.set_style(
        indicatif::ProgressStyle::with_template("simulating {bar:40} {pos}/{len} hours")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report =
        sim::run_with_progress(objects, sc, &mut |t| bar.set_position(u64::from(t / 3600)));
    bar.finish_and_clear();
    report
}

/// The trace `text` gives: a reference trace's name, or inline `seconds,messages` CSV.
///
/// # Errors
/// Neither a reference trace nor CSV, or a bad CSV line.
pub fn trace_from_text(text: &str) -> Result<Trace, String> {
    if let Some(t) = trace::reference(text.trim()) {
        return Ok(t);
    }
    if !text.contains(',') {
        let names: Vec<&str> = trace::REFERENCE.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "{:?} is neither a reference trace ({}) nor `seconds,messages` CSV",
            text.trim(),
            names.join(", ")
        ));
    }
    Trace::from_csv(text).map_err(|e| e.to_string())
}

/// The trace `arg` names: a reference trace, else a CSV file.
///
/// # Errors
/// An unreadable file or a bad line.
pub fn load_trace(arg: &str) -> Result<Trace, String> {
    if let Some(t) = trace::reference(arg) {
        return Ok(t);
    }
    let path = PathBuf::from(arg);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let names: Vec<&str> = trace::REFERENCE.iter().map(|(n, _)| *n).collect();
        format!(
            "trace {arg:?}: not a reference trace ({}) and not a readable file: {e}",
            names.join(", ")
        )
    })?;
    Trace::from_csv(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The trace played `times` times back to back.
pub fn repeated(t: Trace, times: u32) -> Trace {
    let times = times.max(1);
    let mut pairs = Vec::with_capacity(t.arrivals.len() * times as usize);
    for k in 0..times {
        let shift = k.saturating_mul(t.duration);
        pairs.extend(
            t.arrivals
                .iter()
                .map(|(s, n)| (s.saturating_add(shift), *n)),
        );
    }
    Trace::new(pairs, t.duration.saturating_mul(times))
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    summary: &'a sim::Summary,
    events: &'a [sim::ScalingEvent],
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<&'a [sim::Minute]>,
}

/// How the queue and the service behave in a simulation: what `simulate`'s options and
/// the data source's workload arguments set.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Seed of every random draw.
    pub seed: u64,
    /// Seconds to simulate (`None`: the trace's length).
    pub duration: Option<u32>,
    /// Mean processing time per message, seconds (`None`: `average_processing_seconds`,
    /// else 1).
    pub processing_seconds: Option<f64>,
    /// The processing-time distribution around that mean.
    pub processing: Distribution,
    /// Fewest and most seconds from launching a task to its running.
    pub start_latency: (u32, u32),
    /// Tasks running at the start (`None`: the minimum capacity).
    pub initial_tasks: Option<i32>,
    /// Seconds after a minute ends before SQS's datapoints can be read.
    pub sqs_metric_delay: u32,
    /// Seconds by which ECS metrics arrive later than SQS's.
    pub ecs_metric_lag: u32,
    /// The service publishes `AWS/ECS CPUUtilization`.
    pub cpu_metric: bool,
    /// Workers hold task scale-in protection while they process a message.
    pub protect: bool,
    /// The queue's visibility timeout, seconds.
    pub visibility_timeout: u32,
    /// An API call on the queue every so many seconds.
    pub keep_queue_active_every: Option<u32>,
}

impl Default for Workload {
    fn default() -> Self {
        let sqs = sim::SqsOptions::default();
        Workload {
            seed: 2,
            duration: None,
            processing_seconds: None,
            processing: Distribution::Exponential,
            start_latency: (30, 90),
            initial_tasks: None,
            sqs_metric_delay: sqs.metric_delay,
            ecs_metric_lag: 0,
            cpu_metric: true,
            protect: false,
            visibility_timeout: sqs.visibility_timeout,
            keep_queue_active_every: None,
        }
    }
}

impl Workload {
    /// The mean processing time this workload uses for `planned`.
    pub fn mean_processing(&self, planned: &Planned) -> f64 {
        self.processing_seconds
            .or(planned.average_processing)
            .unwrap_or(1.0)
    }

    /// The scenario of `trace` under this workload, for `planned`'s names.
    ///
    /// # Errors
    /// A mean processing time that is not above 0, or a start latency range upside down.
    pub fn scenario(&self, planned: &Planned, trace: Trace) -> Result<Scenario, String> {
        let mut sc = self.scenario_for(planned.names.clone(), planned.average_processing, trace)?;
        // The policy's own schedule, unless the workload sets another.
        if sc.sqs.keep_active_every.is_none() {
            sc.sqs.keep_active_every = planned.keep_queue_active_every;
        }
        Ok(sc)
    }

    /// The scenario of `trace` under this workload, for a service published under `names`
    /// whose policy gives `average_processing` seconds per message, if anything.
    ///
    /// # Errors
    /// As [`Workload::scenario`].
    pub fn scenario_for(
        &self,
        names: Names,
        average_processing: Option<f64>,
        trace: Trace,
    ) -> Result<Scenario, String> {
        let mut sc = Scenario::new(names, trace);
        if let Some(d) = self.duration {
            sc.duration = d;
        }
        sc.seed = self.seed;
        sc.initial_tasks = self.initial_tasks;
        let mean = self
            .processing_seconds
            .or(average_processing)
            .unwrap_or(1.0);
        if !(mean.is_finite() && mean > 0.0) {
            return Err(format!("the processing time must be above 0, not {mean}"));
        }
        sc.ecs.processing = match self.processing {
            Distribution::Fixed => Processing::Fixed(mean),
            Distribution::Exponential => Processing::Exponential(mean),
            Distribution::Uniform => Processing::Uniform(mean * 0.5, mean * 1.5),
        };
        let (lo, hi) = self.start_latency;
        if lo > hi {
            return Err(format!("the task start latency {lo}-{hi} is upside down"));
        }
        sc.ecs.start_latency = self.start_latency;
        sc.sqs.metric_delay = self.sqs_metric_delay;
        let ecs_delay = self.sqs_metric_delay.saturating_add(self.ecs_metric_lag);
        sc.ecs.cpu_metric_delay = self.cpu_metric.then_some(ecs_delay);
        sc.ecs.container_insights_delay = Some(ecs_delay);
        sc.ecs.protect_while_busy = self.protect;
        sc.sqs.visibility_timeout = self.visibility_timeout;
        sc.sqs.keep_active_every = self.keep_queue_active_every;
        Ok(sc)
    }
}

impl SimulateArgs {
    /// The workload the options describe.
    pub fn workload(&self) -> Workload {
        Workload {
            seed: self.seed,
            duration: self.duration,
            processing_seconds: self.processing_seconds,
            processing: self.processing,
            start_latency: self.start_latency,
            initial_tasks: self.initial_tasks,
            sqs_metric_delay: self.sqs_metric_delay,
            ecs_metric_lag: self.ecs_metric_lag,
            cpu_metric: !self.no_cpu_metric,
            protect: self.protect,
            visibility_timeout: self.visibility_timeout,
            keep_queue_active_every: self.keep_queue_active_every,
        }
    }
}

/// Runs `simulate` and returns what to print.
///
/// # Errors
/// What went wrong, one problem per line.
pub fn run(args: &SimulateArgs) -> Result<String, String> {
    let policy_json = if args.policy.trim_start().starts_with('{') {
        args.policy.clone()
    } else {
        std::fs::read_to_string(&args.policy)
            .map_err(|e| format!("policy {:?}: {e}", args.policy))?
    };
    let planned = plan_policy(&policy_json, args.capacity, args.queue_name.as_deref())
        .map_err(|lines| lines.join("\n"))?;
    let trace = repeated(load_trace(&args.trace)?, args.repeat);
    let sc = args.workload().scenario(&planned, trace)?;
    let report = run_showing_progress(&planned.objects, &sc).map_err(|e| e.to_string())?;
    if let Some(path) = &args.chart {
        let title = format!("{} on {}", planned.names.service, args.trace);
        let svg = sim::chart::svg(&report.timeline, &title)?;
        std::fs::write(path, svg).map_err(|e| format!("chart {}: {e}", path.display()))?;
    }
    if args.json {
        let out = JsonReport {
            summary: &report.summary,
            events: &report.events,
            warnings: &report.warnings,
            timeline: args.timeline.then_some(report.timeline.as_slice()),
        };
        return serde_json::to_string_pretty(&out)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string());
    }
    let mut out = report.summary.table();
    for w in &report.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKLOG: &str = r#"{
        "name": "worker", "queue_name": "jobs", "cluster_name": "main",
        "service_name": "worker", "min_capacity": 0, "max_capacity": 50,
        "acceptable_latency_seconds": 10, "average_processing_seconds": 0.1
    }"#;

    #[test]
    fn the_backlog_policy_plans_to_what_the_compiler_makes() {
        let p = plan_policy(BACKLOG, None, None).expect("plans");
        let spec = crate::scaling::backlog_policy::example_spec();
        let compiled = crate::scaling::backlog_policy::compile(&spec);
        let want = Objects::from_backlog(&compiled, None).expect("owned");
        assert_eq!(p.objects.policies, want.policies);
        assert_eq!(p.objects.alarms, want.alarms);
        assert_eq!(p.objects.target, want.target);
        assert_eq!(p.names.queue, "jobs");
        assert_eq!(p.average_processing, Some(0.1));
    }

    #[test]
    fn invalid_arguments_are_reported_at_their_attribute() {
        let bad = BACKLOG.replace("\"max_capacity\": 50", "\"max_capacity\": -1");
        let e = plan_policy(&bad, None, None).expect_err("invalid");
        assert!(e.iter().any(|l| l.starts_with("max_capacity")), "{e:?}");
        let e =
            plan_policy(r#"{"queue_name": "q", "colour": 1}"#, None, None).expect_err("unknown");
        assert!(e[0].contains("colour"), "{e:?}");
        let e = plan_policy("{}", None, None).expect_err("neither");
        assert!(e[0].contains("queue_name"), "{e:?}");
    }

    #[test]
    fn a_step_policy_needs_its_capacity_and_simulates() {
        let step = r#"{
            "name": "initial", "scalable_target_id": "service/main/worker",
            "metric": {"namespace": "AWS/SQS", "metric_name": "ApproximateNumberOfMessagesVisible",
                       "dimensions": {"QueueName": "jobs"}, "statistic": "Maximum",
                       "period_seconds": 300},
            "cooldown_seconds": 60,
            "step": [{"upper": 0, "change": -1}, {"lower": 1, "change": 1},
                     {"lower": 5, "change": 3}, {"lower": 10, "change": 5}]
        }"#;
        let e = plan_policy(step, None, None).expect_err("no range");
        assert!(e[0].contains("--capacity"), "{e:?}");
        let p = plan_policy(step, Some((0, 20)), None).expect("plans");
        assert_eq!(p.names.queue, "jobs");
        assert_eq!(p.objects.alarms.len(), 2);
        let mut sc = Scenario::new(p.names.clone(), Trace::new(vec![(0, 200)], 3600));
        sc.ecs.processing = Processing::Fixed(5.0);
        let r = sim::run(&p.objects, &sc).expect("runs");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(
            r.summary.messages_arrived,
            r.summary.messages_processed + r.summary.messages_still_queued
        );
        assert!(r.summary.scale_out_events > 0, "{:?}", r.events);
        assert!(r.events.iter().any(|e| e.policy == "initial-upper"));
    }

    /// Hardening issue, hole 3, through the resource's own plan: after 24 idle hours the
    /// first message's SQS datapoints are late (the queue went inactive after six), so
    /// waking takes over 15 minutes; with `keep_queue_active` (its schedule's calls every
    /// five hours) it takes about two.
    #[test]
    fn keep_queue_active_keeps_the_wake_after_a_day_idle_at_about_two_minutes() {
        let with = BACKLOG.replace(
            "\"average_processing_seconds\": 0.1",
            "\"average_processing_seconds\": 0.1, \"keep_queue_active\": \
             {\"role_arn\": \"arn:aws:iam::123456789012:role/keep\"}",
        );
        let wake_after_a_day = |policy: &str| {
            let p = plan_policy(policy, None, None).expect("plans");
            let mut sc =
                Scenario::new(p.names.clone(), Trace::new(vec![(24 * 3600, 1)], 25 * 3600));
            sc.ecs.start_latency = (60, 60);
            sc.sqs.keep_active_every = p.keep_queue_active_every;
            let r = sim::run(&p.objects, &sc).expect("runs");
            (
                p.keep_queue_active_every,
                r.summary.wake_latency_max_seconds.expect("woke"),
            )
        };
        let (none, late) = wake_after_a_day(BACKLOG);
        assert_eq!(none, None);
        assert!(late >= 15 * 60, "without: {late} s");
        let (every, kept) = wake_after_a_day(&with);
        assert_eq!(every, Some(5 * 3600), "the default: every five hours");
        assert!(kept <= 180, "with: {kept} s");
    }

    /// The example policy on `burst`, with the workload settings the tests share.
    fn burst_args() -> SimulateArgs {
        SimulateArgs {
            policy: BACKLOG.into(),
            trace: "burst".into(),
            repeat: 1,
            duration: None,
            seed: 2,
            processing_seconds: None,
            processing: Distribution::Exponential,
            start_latency: (30, 90),
            initial_tasks: None,
            sqs_metric_delay: 20,
            ecs_metric_lag: 0,
            no_cpu_metric: false,
            protect: false,
            visibility_timeout: 30,
            keep_queue_active_every: None,
            capacity: None,
            queue_name: None,
            json: false,
            timeline: false,
            chart: None,
        }
    }

    #[test]
    fn the_command_prints_a_table_or_json() {
        let mut args = burst_args();
        let table = run(&args).expect("runs");
        assert!(table.contains("messages processed     1500"), "{table}");
        args.json = true;
        let j: serde_json::Value = serde_json::from_str(&run(&args).expect("runs")).expect("json");
        assert_eq!(j["summary"]["messages_arrived"], 1500);
        assert!(j.get("timeline").is_none());
        args.trace = "no-such-trace".into();
        assert!(run(&args).expect_err("missing").contains("reference trace"));
    }

    /// Checks that `text` is well-formed XML with one root element, `svg`: every tag
    /// closed in order, attributes and text tokenized without error. Returns the text
    /// nodes, trimmed.
    fn assert_well_formed_svg(text: &str) -> Vec<String> {
        let mut texts = Vec::new();
        let mut open: Vec<String> = Vec::new();
        let mut roots = Vec::new();
        let mut pending: Option<String> = None;
        for token in xmlparser::Tokenizer::from(text) {
            match token.expect("well-formed XML") {
                xmlparser::Token::ElementStart { local, .. } => {
                    if open.is_empty() {
                        roots.push(local.as_str().to_owned());
                    }
                    pending = Some(local.as_str().to_owned());
                }
                xmlparser::Token::ElementEnd { end, .. } => match end {
                    xmlparser::ElementEnd::Open => {
                        open.push(pending.take().expect("an element was started"));
                    }
                    xmlparser::ElementEnd::Empty => {
                        pending.take().expect("an element was started");
                    }
                    xmlparser::ElementEnd::Close(_, name) => {
                        assert_eq!(
                            open.pop().as_deref(),
                            Some(name.as_str()),
                            "closed in order"
                        );
                    }
                },
                xmlparser::Token::Text { text } if !text.trim().is_empty() => {
                    texts.push(text.trim().to_owned());
                }
                _ => {}
            }
        }
        assert!(open.is_empty(), "unclosed: {open:?}");
        assert_eq!(roots, ["svg"], "one root element");
        texts
    }

    #[test]
    fn the_chart_is_written_as_well_formed_svg() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("burst.svg");
        let args = SimulateArgs {
            json: true,
            chart: Some(path.clone()),
            ..burst_args()
        };
        let out = run(&args).expect("runs");
        serde_json::from_str::<serde_json::Value>(&out).expect("stdout stays JSON");
        let svg = std::fs::read_to_string(&path).expect("the chart is written");
        let texts = assert_well_formed_svg(&svg);
        for t in [
            "worker on burst",
            "Tasks",
            "Messages",
            "visible",
            "in flight",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t} in {texts:?}");
        }
        // The burst's 1500 messages reach the messages panel's axis; 50 tasks the tasks'.
        assert!(texts.iter().any(|x| x == "1400"), "{texts:?}");
        assert!(texts.iter().any(|x| x == "50"), "{texts:?}");
        let mut bad = args;
        bad.chart = Some(dir.path().join("no-such-dir").join("x.svg"));
        assert!(run(&bad).expect_err("unwritable").starts_with("chart "));
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("30-90"), Ok((30, 90)));
        assert!(parse_range("90-30").is_err());
        assert!(parse_range("x").is_err());
    }

    #[test]
    fn repeating_shifts_each_copy_by_the_duration() {
        let t = repeated(Trace::new(vec![(1, 2)], 10), 3);
        assert_eq!(t.arrivals, [(1, 2), (11, 2), (21, 2)]);
        assert_eq!(t.duration, 30);
    }
}
