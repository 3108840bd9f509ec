//! What `queuescale_sqs_backlog_scaling_policy` puts into AWS, decided without I/O.
//!
//! Three regimes (see `docs/guides/how-it-scales.md`), each safe against metrics that
//! arrive late or not at all:
//! - **tasks > 0**: target tracking on backlog ÷ running tasks. The expression has a
//!   datapoint every minute a task is counted — also at an empty queue, where it is a
//!   sliver above 0 — so its alarms never re-evaluate stale datapoints after a backlog
//!   drains, and it never asks for 0 tasks. At 0 tasks it has no datapoint and no opinion.
//! - **no consumer at all and backlog ≥ wake threshold**: a step policy sets the capacity
//!   to exactly `wake_tasks`. "No consumer" needs three witnesses in the same minute: no
//!   task counted, nothing in flight and no `ReceiveMessage` call. The last two come from
//!   SQS, published with the backlog itself, so an ECS metric that lags SQS's (or a service
//!   that publishes none) cannot make a busy service look idle. An alarm in ALARM re-fires
//!   every minute, but "set to N" repeated is N: this path cannot run away.
//! - **nothing visible, in flight, delayed or received for `idle_minutes`**: a step policy
//!   sets the capacity to exactly 0 (clamped by AAS to the minimum capacity). CloudWatch decides on
//!   minutes already published, so a message received in the minute in progress can be in
//!   a task's hands: workers hold ECS task scale-in protection while they process one
//!   (`examples/worker/`).

use std::collections::BTreeMap;

use super::model::{
    Alarm, AlarmMetric, Comparison, Metric, MetricQuery, MetricStat, MissingData, Notify, Policy,
    PolicyKind, QuerySource, StepPolicy, Suspension, Target, TargetTrackingPolicy,
    service_resource_id,
};
use super::steps::{AdjustmentType, StepAdjustment};

/// Where the running-task count comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskCountSource {
    /// `AWS/ECS CPUUtilization` with statistic `SampleCount` (free; no data at 0 tasks).
    CpuSampleCount,
    /// `ECS/ContainerInsights RunningTaskCount` (needs Container Insights, billed).
    ContainerInsights,
}

impl TaskCountSource {
    /// The configuration spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            TaskCountSource::CpuSampleCount => "cpu_sample_count",
            TaskCountSource::ContainerInsights => "container_insights",
        }
    }

    /// Parses the configuration spelling.
    pub fn parse(s: &str) -> Option<TaskCountSource> {
        [
            TaskCountSource::CpuSampleCount,
            TaskCountSource::ContainerInsights,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// The resource's configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogSpec {
    /// Base of every name.
    pub name: String,
    /// SQS queue name (with `.fifo` for FIFO queues).
    pub queue_name: String,
    /// ECS cluster.
    pub cluster: String,
    /// ECS service.
    pub service: String,
    /// `Some((min, max))` when the resource owns the scalable target.
    pub owned_capacity: Option<(i32, i32)>,
    /// Backlog per task to keep, and where it came from.
    pub target: BacklogTarget,
    /// Count in-flight (received, not yet deleted) messages as backlog.
    pub include_in_flight: bool,
    /// Count delayed messages as backlog.
    pub include_delayed: bool,
    /// Seconds after a scale-out before another.
    pub scale_out_cooldown: i32,
    /// Seconds after a scale-in before another.
    pub scale_in_cooldown: i32,
    /// No scale-in at all (target tracking keeps its tasks; no drain to zero).
    pub disable_scale_in: bool,
    /// Waiting messages that wake a service at 0 tasks.
    pub wake_threshold: f64,
    /// Tasks to start when waking.
    pub wake_tasks: i32,
    /// Minutes with nothing visible, in flight, delayed or received before draining to 0.
    pub idle_minutes: i32,
    /// Running-task count source.
    pub task_count: TaskCountSource,
    /// Whom the wake and drain alarms tell when the service wakes or drains.
    pub notify: Notify,
    /// Keep the queue active with a schedule.
    pub keep_active: Option<KeepActive>,
    /// The dead-letter queue to raise an alarm on when messages reach it.
    pub dead_letter_queue: Option<String>,
    /// What the owned target suspends.
    pub suspension: Suspension,
}

/// The backlog per task to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BacklogTarget {
    /// Given directly.
    Explicit(f64),
    /// Acceptable latency ÷ average processing time (seconds), as in source document 002.
    Latency {
        /// Acceptable latency, seconds.
        latency: f64,
        /// Average processing time per message, seconds.
        processing: f64,
    },
}

impl BacklogTarget {
    /// The target value.
    pub fn value(self) -> f64 {
        match self {
            BacklogTarget::Explicit(v) => v,
            BacklogTarget::Latency {
                latency,
                processing,
            } => super::backlog::round_significant(latency / processing, 10),
        }
    }

    /// The sentence written into the wake alarm's description; [`BacklogTarget::parse`]
    /// reads it back (so an import recovers how the target was given).
    pub fn describe(self) -> String {
        match self {
            BacklogTarget::Explicit(v) => format!("Backlog target: {} per task.", fmt_number(v)),
            BacklogTarget::Latency {
                latency,
                processing,
            } => format!(
                "Backlog target: {} per task (acceptable latency {} s / average processing {} s).",
                fmt_number(self.value()),
                fmt_number(latency),
                fmt_number(processing)
            ),
        }
    }

    /// The value of the `queuescale:inputs` tag on the alarms, for import: how the target
    /// was given, in a form meant for machines (`latency=10 processing=0.1`, or
    /// `per_task=100`), numbers in their shortest exact form.
    pub fn tag_value(self) -> String {
        match self {
            BacklogTarget::Explicit(v) => format!("per_task={v}"),
            BacklogTarget::Latency {
                latency,
                processing,
            } => format!("latency={latency} processing={processing}"),
        }
    }

    /// Reads a [`BacklogTarget::tag_value`] back: `key=value` pairs separated by spaces or
    /// commas, in any order, unknown keys ignored. `None` when neither form is complete.
    pub fn from_tag_value(tag: &str) -> Option<BacklogTarget> {
        let mut pairs = std::collections::BTreeMap::new();
        for part in tag.split([' ', ',']).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=')?;
            let v: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v > 0.0)?;
            pairs.insert(k.trim(), v);
        }
        match (
            pairs.get("latency"),
            pairs.get("processing"),
            pairs.get("per_task"),
        ) {
            (Some(&latency), Some(&processing), _) => Some(BacklogTarget::Latency {
                latency,
                processing,
            }),
            (_, _, Some(&v)) => Some(BacklogTarget::Explicit(v)),
            _ => None,
        }
    }

    /// Recovers the target from a description written by [`BacklogTarget::describe`].
    pub fn parse(description: &str) -> Option<BacklogTarget> {
        let rest = &description[description.find("Backlog target: ")? + "Backlog target: ".len()..];
        if let Some(i) = rest.find("(acceptable latency ") {
            let after = &rest[i + "(acceptable latency ".len()..];
            let (latency, after) = after.split_once(" s / average processing ")?;
            let (processing, _) = after.split_once(" s)")?;
            return Some(BacklogTarget::Latency {
                latency: latency.parse().ok()?,
                processing: processing.parse().ok()?,
            });
        }
        let (value, _) = rest.split_once(" per task")?;
        value.parse().ok().map(BacklogTarget::Explicit)
    }
}

/// What each compiled object is for; fixes names and order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// Target tracking on backlog per task.
    BacklogPerTask,
    /// 0 → `wake_tasks` when messages wait.
    WakeFromZero,
    /// → 0 after `idle_minutes` of nothing.
    DrainToZero,
    /// An alarm, and no policy: messages in the dead-letter queue.
    DeadLetters,
}

impl Purpose {
    /// Every purpose, in write order.
    pub const ALL: [Purpose; 4] = [
        Purpose::BacklogPerTask,
        Purpose::WakeFromZero,
        Purpose::DrainToZero,
        Purpose::DeadLetters,
    ];

    /// Whether objects of this purpose include a scaling policy.
    pub const fn has_policy(self) -> bool {
        !matches!(self, Purpose::DeadLetters)
    }

    /// Whether objects of this purpose include an alarm of the resource's own (target
    /// tracking's are Application Auto Scaling's).
    pub const fn has_alarm(self) -> bool {
        !matches!(self, Purpose::BacklogPerTask)
    }

    /// The name suffix and the `purpose` value shown in state.
    pub const fn as_str(self) -> &'static str {
        match self {
            Purpose::BacklogPerTask => "backlog-per-task",
            Purpose::WakeFromZero => "wake-from-zero",
            Purpose::DrainToZero => "drain-to-zero",
            Purpose::DeadLetters => "dead-letters",
        }
    }

    /// Parses [`Purpose::as_str`].
    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// The policy or alarm name for resource `name`.
    pub fn object_name(self, name: &str) -> String {
        format!("{name}-{}", self.as_str())
    }

    /// The object names of resource `name` for the purposes `keep` selects (e.g.
    /// [`Purpose::has_policy`]).
    pub fn names(name: &str, keep: fn(Purpose) -> bool) -> Vec<String> {
        Purpose::ALL
            .into_iter()
            .filter(|p| keep(*p))
            .map(|p| p.object_name(name))
            .collect()
    }
}

/// Longest `name`: the longest suffix must still fit CloudWatch's 255-character alarm
/// names and AAS's 256-character policy names.
pub const MAX_NAME_LEN: usize = 255 - "-backlog-per-task".len();

/// Everything the resource makes, in a fixed order.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The scalable target, when owned.
    pub target: Option<Target>,
    /// Policies by purpose (backlog, wake, drain unless scale-in is disabled).
    pub policies: Vec<(Purpose, Policy)>,
    /// Alarms by purpose (wake, drain unless scale-in is disabled); actions empty until
    /// the policies exist.
    pub alarms: Vec<(Purpose, Alarm)>,
    /// The schedule that keeps the queue active, when asked for.
    pub keep_active: Option<KeepAlive>,
}

/// `keep_queue_active`: a schedule, run as `role_arn`, that reads the queue's attributes
/// every `every_hours`, so SQS never counts the queue as inactive ("up to six hours" without
/// messages or an action accessing it, SQS developer guide) and its metrics stay timely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepActive {
    /// The role EventBridge Scheduler calls `sqs:GetQueueAttributes` as.
    pub role_arn: String,
    /// Hours between calls (1 to 5: under SQS's six hours).
    pub every_hours: u32,
}

impl KeepActive {
    /// Hours between calls when `every_hours` is not given.
    pub const DEFAULT_EVERY_HOURS: u32 = 5;
    /// Most hours between calls: the queue turns inactive after up to six idle hours.
    pub const MAX_EVERY_HOURS: u32 = 5;
}

/// The compiled schedule: its name, how often it runs, as whom, on which queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeepAlive {
    /// Schedule name, `NAME-keep-queue-active`.
    pub name: String,
    /// What it is asked for.
    pub keep: KeepActive,
    /// The queue it reads.
    pub queue_name: String,
}

impl KeepAlive {
    /// The schedule expression: `rate(N hours)` (EventBridge Scheduler's rate form; one
    /// hour is written `rate(1 hour)`).
    pub fn expression(&self) -> String {
        match self.keep.every_hours {
            1 => "rate(1 hour)".to_owned(),
            n => format!("rate({n} hours)"),
        }
    }

    /// The hours of an expression written by [`KeepAlive::expression`].
    pub fn hours_of(expression: &str) -> Option<u32> {
        let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
        let (n, unit) = inner.split_once(' ')?;
        let n: u32 = n.parse().ok()?;
        matches!(unit, "hour" | "hours").then_some(n)
    }
}

/// Suffix of the keep-active schedule's name.
pub const KEEP_ACTIVE_SUFFIX: &str = "-keep-queue-active";

/// The keep-active schedule's name for resource `name`.
pub fn keep_active_name(name: &str) -> String {
    format!("{name}{KEEP_ACTIVE_SUFFIX}")
}

/// Longest `name` whose schedule name fits EventBridge Scheduler's 64 characters.
pub const MAX_NAME_LEN_WITH_SCHEDULE: usize = 64 - KEEP_ACTIVE_SUFFIX.len();

/// One-minute periods: SQS and ECS publish per minute.
const PERIOD: i32 = 60;

/// An SQS gauge (`ApproximateNumberOf…`), read as its Maximum over the minute.
fn sqs(queue: &str, name: &str) -> MetricStat {
    sqs_stat(queue, name, "Maximum")
}

fn sqs_stat(queue: &str, name: &str, stat: &str) -> MetricStat {
    MetricStat {
        metric: Metric {
            namespace: "AWS/SQS".into(),
            name: name.into(),
            dimensions: BTreeMap::from([("QueueName".to_owned(), queue.to_owned())]),
        },
        stat: stat.into(),
        period: Some(PERIOD),
        unit: None,
    }
}

fn tasks(spec: &BacklogSpec) -> MetricStat {
    let dimensions = BTreeMap::from([
        ("ClusterName".to_owned(), spec.cluster.clone()),
        ("ServiceName".to_owned(), spec.service.clone()),
    ]);
    let (namespace, name, stat) = match spec.task_count {
        TaskCountSource::CpuSampleCount => ("AWS/ECS", "CPUUtilization", "SampleCount"),
        TaskCountSource::ContainerInsights => {
            ("ECS/ContainerInsights", "RunningTaskCount", "Average")
        }
    };
    MetricStat {
        metric: Metric {
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
        },
        stat: stat.into(),
        period: Some(PERIOD),
        unit: None,
    }
}

/// The SQS queries and the sum expression of the messages that count, for alarms
/// (`period` set) or target tracking (`period` cleared).
fn message_queries(
    spec: &BacklogSpec,
    in_flight: bool,
    delayed: bool,
    sum_id: &str,
    sum_label: &str,
) -> Vec<MetricQuery> {
    let mut queries = vec![MetricQuery::metric(
        "visible",
        sqs(&spec.queue_name, "ApproximateNumberOfMessagesVisible"),
        "Messages visible",
    )];
    let mut terms = vec!["visible"];
    if in_flight {
        queries.push(MetricQuery::metric(
            "in_flight",
            sqs(&spec.queue_name, "ApproximateNumberOfMessagesNotVisible"),
            "Messages in flight",
        ));
        terms.push("in_flight");
    }
    if delayed {
        queries.push(MetricQuery::metric(
            "delayed",
            sqs(&spec.queue_name, "ApproximateNumberOfMessagesDelayed"),
            "Messages delayed",
        ));
        terms.push("delayed");
    }
    queries.push(MetricQuery::expression(
        sum_id,
        &terms.join(" + "),
        sum_label,
        false,
    ));
    queries
}

fn without_periods(mut queries: Vec<MetricQuery>) -> Vec<MetricQuery> {
    for q in &mut queries {
        if let super::model::QuerySource::Metric(ms) = &mut q.source {
            ms.period = None;
        }
    }
    queries
}

/// The wake alarm's condition: messages wait, no task is counted, and SQS saw no consumer
/// in the same minute.
///
/// `FILL(tasks, 0)` turns the missing task count at 0 tasks into 0 — and, as CloudWatch's
/// metric-math guide warns ("if your metrics are being published with a slight delay, and
/// the most recent minute never has data … FILL replaces that missing data point"), also
/// the newest minute of a service whose ECS metric is late, or of one that publishes none.
/// `consumers` closes that gap from SQS's side, with the backlog's own timing: a running
/// worker either holds a message (`in_flight`) or calls `ReceiveMessage` (`received`,
/// `empty_receives`) every minute.
pub const WAKE_EXPRESSION: &str = "IF(FILL(tasks, 0) == 0 AND consumers == 0, waiting, 0)";

/// In-flight messages and `ReceiveMessage` calls: what a running consumer shows SQS every
/// minute, whatever ECS publishes.
fn consumer_queries(spec: &BacklogSpec) -> Vec<MetricQuery> {
    let q = &spec.queue_name;
    vec![
        MetricQuery::metric(
            "in_flight",
            sqs(q, "ApproximateNumberOfMessagesNotVisible"),
            "Messages in flight",
        ),
        MetricQuery::metric(
            "received",
            sqs_stat(q, "NumberOfMessagesReceived", "Sum"),
            "Messages received",
        ),
        MetricQuery::metric(
            "empty_receives",
            sqs_stat(q, "NumberOfEmptyReceives", "Sum"),
            "Receive calls that found nothing",
        ),
        MetricQuery::expression(
            "consumers",
            "in_flight + received + empty_receives",
            "Messages in flight and receive calls",
            false,
        ),
    ]
}

/// Target tracking's metric: backlog per running task wherever a task is counted and SQS
/// has published.
///
/// At an empty queue the backlog counts as a thousandth of the target (elsewhere it is
/// exact), so the metric is far below the target but not 0. Two reasons. A datapoint every minute a task runs: when
/// a series stops, CloudWatch "may repeatedly re-evaluate the last set of data points …
/// and re-execute actions" (alarm evaluation, "How alarm state is evaluated when data is
/// missing"), and target tracking's high alarm would keep scaling out on the burst that
/// just drained. Never 0: `ceil(tasks × metric ÷ target)` stays ≥ 1, so target tracking
/// never asks for 0 tasks — only the drain does, after `idle_minutes`.
/// (`backlog >= 0` only checks that SQS's minute is published.)
pub fn backlog_per_task_expression(target: f64) -> String {
    format!(
        "IF(tasks > 0 AND backlog >= 0, IF(backlog > 0, backlog, {}) / tasks)",
        fmt_number(super::backlog::round_significant(target / 1000.0, 6))
    )
}

/// Compiles the spec into the objects to create.
pub fn compile(spec: &BacklogSpec) -> Compiled {
    let resource_id = service_resource_id(&spec.cluster, &spec.service);
    let target = spec.owned_capacity.map(|(min, max)| Target {
        resource_id: resource_id.clone(),
        min_capacity: min,
        max_capacity: max,
        suspension: spec.suspension,
    });

    // Target tracking: backlog per running task, only where both are positive.
    let mut tt_metrics = message_queries(
        spec,
        spec.include_in_flight,
        spec.include_delayed,
        "backlog",
        "Backlog",
    );
    tt_metrics.push(MetricQuery::metric("tasks", tasks(spec), "Running tasks"));
    tt_metrics.push(MetricQuery::expression(
        "backlog_per_task",
        &backlog_per_task_expression(spec.target.value()),
        "Backlog per running task",
        true,
    ));
    let backlog_policy = Policy {
        name: Purpose::BacklogPerTask.object_name(&spec.name),
        resource_id: resource_id.clone(),
        kind: PolicyKind::TargetTracking(TargetTrackingPolicy {
            target_value: spec.target.value(),
            metrics: without_periods(tt_metrics),
            scale_out_cooldown: Some(spec.scale_out_cooldown),
            scale_in_cooldown: Some(spec.scale_in_cooldown),
            disable_scale_in: spec.disable_scale_in,
        }),
    };

    // Wake: messages waiting while no task runs → exactly wake_tasks.
    let mut wake_metrics = message_queries(
        spec,
        false,
        spec.include_delayed,
        "waiting",
        "Messages waiting",
    );
    wake_metrics.extend(consumer_queries(spec));
    wake_metrics.push(MetricQuery::metric("tasks", tasks(spec), "Running tasks"));
    wake_metrics.push(MetricQuery::expression(
        "waiting_at_zero_tasks",
        WAKE_EXPRESSION,
        "Messages waiting while nothing consumes the queue",
        true,
    ));
    let wake_policy = Policy {
        name: Purpose::WakeFromZero.object_name(&spec.name),
        resource_id: resource_id.clone(),
        kind: PolicyKind::Step(StepPolicy {
            adjustment_type: AdjustmentType::ExactCapacity,
            cooldown: Some(spec.scale_out_cooldown),
            aggregation: Some(super::steps::AggregationType::Maximum),
            min_adjustment_magnitude: None,
            steps: vec![StepAdjustment {
                lower_bound: Some(0.0),
                upper_bound: None,
                scaling_adjustment: spec.wake_tasks,
            }],
        }),
    };
    let wake_alarm = Alarm {
        name: Purpose::WakeFromZero.object_name(&spec.name),
        description: format!(
            "queuescale: {} waiting on {} while {} runs no task: start {}. {}",
            counted(spec.wake_threshold, "message", "messages"),
            spec.queue_name,
            spec.service,
            counted(f64::from(spec.wake_tasks), "task", "tasks"),
            spec.target.describe()
        ),
        metric: AlarmMetric::Math(wake_metrics),
        comparison: Comparison::GreaterOrEqual,
        threshold: spec.wake_threshold,
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        // An idle queue stops publishing: nothing is waiting.
        missing_data: MissingData::NotBreaching,
        actions: spec.notify.alarm.clone(),
        ok_actions: spec.notify.ok.clone(),
    };

    let mut policies = vec![
        (Purpose::BacklogPerTask, backlog_policy),
        (Purpose::WakeFromZero, wake_policy),
    ];
    let mut alarms = vec![(Purpose::WakeFromZero, wake_alarm)];

    if !spec.disable_scale_in {
        // Drain: nothing visible, in flight, delayed or received for idle_minutes → exactly 0.
        // The three gauges are one sample a minute: a trickle whose messages are processed
        // between samples would look idle. `received`, the minute's count, does not.
        let mut drain_metrics = message_queries(spec, true, true, "gauges", "");
        drain_metrics.pop();
        drain_metrics.push(MetricQuery::metric(
            "received",
            sqs_stat(&spec.queue_name, "NumberOfMessagesReceived", "Sum"),
            "Messages received",
        ));
        drain_metrics.push(MetricQuery::expression(
            "messages",
            "visible + in_flight + delayed + received",
            "Messages visible, in flight, delayed or received",
            true,
        ));
        policies.push((
            Purpose::DrainToZero,
            Policy {
                name: Purpose::DrainToZero.object_name(&spec.name),
                resource_id,
                kind: PolicyKind::Step(StepPolicy {
                    adjustment_type: AdjustmentType::ExactCapacity,
                    cooldown: Some(spec.scale_in_cooldown),
                    aggregation: Some(super::steps::AggregationType::Maximum),
                    min_adjustment_magnitude: None,
                    steps: vec![StepAdjustment {
                        lower_bound: None,
                        upper_bound: Some(0.0),
                        scaling_adjustment: 0,
                    }],
                }),
            },
        ));
        alarms.push((
            Purpose::DrainToZero,
            Alarm {
                name: Purpose::DrainToZero.object_name(&spec.name),
                description: format!(
                    "queuescale: nothing visible, in flight, delayed or received on {} for {}: \
                     stop every task of {}.",
                    spec.queue_name,
                    counted(f64::from(spec.idle_minutes), "minute", "minutes"),
                    spec.service
                ),
                metric: AlarmMetric::Math(drain_metrics),
                comparison: Comparison::LessOrEqual,
                threshold: 0.0,
                evaluation_periods: spec.idle_minutes,
                datapoints_to_alarm: Some(spec.idle_minutes),
                // A missing datapoint proves nothing (a delayed metric): never drain on it.
                missing_data: MissingData::NotBreaching,
                actions: spec.notify.alarm.clone(),
                ok_actions: spec.notify.ok.clone(),
            },
        ));
    }
    if let Some(dlq) = &spec.dead_letter_queue {
        alarms.push((Purpose::DeadLetters, dead_letter_alarm(spec, dlq)));
    }
    Compiled {
        target,
        policies,
        alarms,
        keep_active: spec.keep_active.clone().map(|keep| KeepAlive {
            name: keep_active_name(&spec.name),
            keep,
            queue_name: spec.queue_name.clone(),
        }),
    }
}

/// The dead-letter alarm: any message visible in the dead-letter queue, in the minute.
/// It reads `ApproximateNumberOfMessagesVisible`: messages SQS moves there after
/// `maxReceiveCount` receives are not counted by its `NumberOfMessagesSent` (SQS
/// developer guide, "Available CloudWatch metrics for Amazon SQS" and "Creating alarms for
/// dead-letter queues using Amazon CloudWatch"). Its actions are the
/// notifications alone; it scales nothing.
fn dead_letter_alarm(spec: &BacklogSpec, dlq: &str) -> Alarm {
    Alarm {
        name: Purpose::DeadLetters.object_name(&spec.name),
        description: format!(
            "queuescale: messages in {dlq}, where {} puts messages its consumers of {} could \
             not process.",
            spec.queue_name, spec.service
        ),
        metric: AlarmMetric::Math(vec![MetricQuery {
            id: "dead_letters".into(),
            label: Some("Messages in the dead-letter queue".into()),
            return_data: true,
            source: QuerySource::Metric(sqs(dlq, "ApproximateNumberOfMessagesVisible")),
        }]),
        comparison: Comparison::Greater,
        threshold: 0.0,
        evaluation_periods: 1,
        datapoints_to_alarm: Some(1),
        // A dead-letter queue without messages is idle and stops publishing.
        missing_data: MissingData::NotBreaching,
        actions: spec.notify.alarm.clone(),
        ok_actions: spec.notify.ok.clone(),
    }
}

/// A number for messages: integers without a fraction.
pub fn fmt_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// `n` with its noun, singular for exactly one: "1 message", "2 messages", "1.5 messages".
pub fn counted(n: f64, one: &str, many: &str) -> String {
    format!("{} {}", fmt_number(n), if n == 1.0 { one } else { many })
}

/// The capacity the target tracking policy aims for, as AAS computes it for a metric
/// above or below target: `ceil(tasks × (backlog ÷ tasks) ÷ target)`. For documentation
/// and tests of the seed's example.
pub fn tracked_capacity(backlog: f64, target_backlog_per_task: f64) -> i64 {
    (backlog / target_backlog_per_task).ceil() as i64
}

/// Source document 002's example as a spec (0–50 tasks, 10 s / 0.1 s), every other
/// setting at its default: the fixture the compiler's and the simulator's tests share.
#[cfg(test)]
pub(crate) fn example_spec() -> BacklogSpec {
    BacklogSpec {
        name: "worker".into(),
        queue_name: "jobs".into(),
        cluster: "main".into(),
        service: "worker".into(),
        owned_capacity: Some((0, 50)),
        target: BacklogTarget::Latency {
            latency: 10.0,
            processing: 0.1,
        },
        include_in_flight: true,
        include_delayed: false,
        scale_out_cooldown: 60,
        scale_in_cooldown: 300,
        disable_scale_in: false,
        wake_threshold: 1.0,
        wake_tasks: 1,
        idle_minutes: 15,
        task_count: TaskCountSource::CpuSampleCount,
        notify: Notify::default(),
        keep_active: None,
        dead_letter_queue: None,
        suspension: Suspension::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::model::QuerySource;

    fn spec() -> BacklogSpec {
        example_spec()
    }

    fn policy(c: &Compiled, p: Purpose) -> &Policy {
        &c.policies.iter().find(|(q, _)| *q == p).expect("policy").1
    }

    fn alarm(c: &Compiled, p: Purpose) -> &Alarm {
        &c.alarms.iter().find(|(q, _)| *q == p).expect("alarm").1
    }

    fn math(a: &Alarm) -> &[MetricQuery] {
        match &a.metric {
            AlarmMetric::Math(q) => q,
            AlarmMetric::Single(_) => panic!("expected metric math"),
        }
    }

    fn expression<'a>(queries: &'a [MetricQuery], id: &str) -> &'a str {
        queries
            .iter()
            .find(|q| q.id == id)
            .and_then(|q| match &q.source {
                QuerySource::Expression(e) => Some(e.as_str()),
                QuerySource::Metric(_) => None,
            })
            .expect("expression")
    }

    fn metric_names(queries: &[MetricQuery]) -> Vec<&str> {
        queries
            .iter()
            .filter_map(|q| match &q.source {
                QuerySource::Metric(m) => Some(m.metric.name.as_str()),
                QuerySource::Expression(_) => None,
            })
            .collect()
    }

    fn tt(c: &Compiled) -> &TargetTrackingPolicy {
        match &policy(c, Purpose::BacklogPerTask).kind {
            PolicyKind::TargetTracking(t) => t,
            PolicyKind::Step(_) => panic!("expected target tracking"),
        }
    }

    fn step(c: &Compiled, p: Purpose) -> &StepPolicy {
        match &policy(c, p).kind {
            PolicyKind::Step(s) => s,
            PolicyKind::TargetTracking(_) => panic!("expected a step policy"),
        }
    }

    #[test]
    fn seed_example_targets_one_hundred_and_1500_messages_on_10_tasks_want_15() {
        let c = compile(&spec());
        assert_eq!(tt(&c).target_value, 100.0);
        // 1500 messages on 10 tasks is 150 per task, above the target of 100: AAS scales
        // to 10 × 150 ÷ 100 = 15 tasks.
        assert_eq!(1500.0 / 10.0, 150.0);
        assert_eq!(tracked_capacity(1500.0, 100.0), 15);
    }

    #[test]
    fn the_target_and_how_it_was_given_survive_the_alarm_description() {
        for t in [
            BacklogTarget::Latency {
                latency: 10.0,
                processing: 0.1,
            },
            BacklogTarget::Latency {
                latency: 2.5,
                processing: 0.25,
            },
            BacklogTarget::Explicit(42.0),
            BacklogTarget::Explicit(0.5),
        ] {
            let mut s = spec();
            s.target = t;
            let c = compile(&s);
            assert_eq!(
                BacklogTarget::parse(&alarm(&c, Purpose::WakeFromZero).description),
                Some(t)
            );
        }
        assert_eq!(BacklogTarget::parse("edited by hand"), None);
    }

    #[test]
    fn the_inputs_tag_reads_back_exactly_and_tolerantly() {
        for t in [
            BacklogTarget::Explicit(100.0),
            BacklogTarget::Explicit(0.3),
            BacklogTarget::Latency {
                latency: 10.0,
                processing: 0.1,
            },
            BacklogTarget::Latency {
                latency: 1.0 / 3.0,
                processing: 0.07,
            },
        ] {
            assert_eq!(BacklogTarget::from_tag_value(&t.tag_value()), Some(t));
        }
        assert_eq!(
            BacklogTarget::from_tag_value("processing=0.5, latency=30 other=x"),
            None,
            "a value that is not a number spoils the tag"
        );
        assert_eq!(
            BacklogTarget::from_tag_value(" processing=0.5,latency=30 "),
            Some(BacklogTarget::Latency {
                latency: 30.0,
                processing: 0.5
            })
        );
        for bad in ["", "latency=10", "per_task=-1", "per_task=NaN", "garbage"] {
            assert_eq!(BacklogTarget::from_tag_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn alarm_descriptions_count_in_words_singular_for_one() {
        let c = compile(&BacklogSpec {
            idle_minutes: 1,
            ..spec()
        });
        let wake = &alarm(&c, Purpose::WakeFromZero).description;
        assert!(
            wake.starts_with(
                "queuescale: 1 message waiting on jobs while worker runs no task: start 1 task."
            ),
            "{wake}"
        );
        let drain = &alarm(&c, Purpose::DrainToZero).description;
        assert!(drain.contains(" for 1 minute: "), "{drain}");

        let c = compile(&BacklogSpec {
            wake_threshold: 5.0,
            wake_tasks: 3,
            ..spec()
        });
        let wake = &alarm(&c, Purpose::WakeFromZero).description;
        assert!(
            wake.starts_with(
                "queuescale: 5 messages waiting on jobs while worker runs no task: start 3 tasks."
            ),
            "{wake}"
        );
        let drain = &alarm(&c, Purpose::DrainToZero).description;
        assert!(drain.contains(" for 15 minutes: "), "{drain}");
    }

    #[test]
    fn names_are_deterministic_from_the_name() {
        let c = compile(&spec());
        let names: Vec<&str> = c.policies.iter().map(|(_, p)| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "worker-backlog-per-task",
                "worker-wake-from-zero",
                "worker-drain-to-zero"
            ]
        );
        let alarms: Vec<&str> = c.alarms.iter().map(|(_, a)| a.name.as_str()).collect();
        assert_eq!(alarms, ["worker-wake-from-zero", "worker-drain-to-zero"]);
        assert_eq!(
            policy(&c, Purpose::WakeFromZero).resource_id,
            "service/main/worker"
        );
    }

    #[test]
    fn target_tracking_divides_backlog_by_running_tasks_wherever_a_task_is_counted() {
        let c = compile(&spec());
        let m = &tt(&c).metrics;
        assert_eq!(expression(m, "backlog"), "visible + in_flight");
        assert_eq!(
            expression(m, "backlog_per_task"),
            "IF(tasks > 0 AND backlog >= 0, IF(backlog > 0, backlog, 0.1) / tasks)"
        );
        let returned: Vec<&str> = m
            .iter()
            .filter(|q| q.return_data)
            .map(|q| q.id.as_str())
            .collect();
        assert_eq!(
            returned,
            ["backlog_per_task"],
            "exactly one query returns data"
        );
        for q in m {
            if let QuerySource::Metric(ms) = &q.source {
                assert_eq!(ms.period, None, "target tracking metrics carry no period");
            }
        }
    }

    #[test]
    fn an_empty_queue_counts_as_a_thousandth_of_the_target() {
        for (target, floor) in [(100.0, "0.1"), (0.5, "0.0005"), (3.0, "0.003")] {
            let mut s = spec();
            s.target = BacklogTarget::Explicit(target);
            let e = backlog_per_task_expression(target);
            assert!(e.contains(&format!("backlog, {floor})")), "{e}");
            assert_eq!(expression(&tt(&compile(&s)).metrics, "backlog_per_task"), e);
        }
    }

    #[test]
    fn in_flight_and_delayed_options_change_the_backlog_sum() {
        let mut s = spec();
        s.include_in_flight = false;
        s.include_delayed = true;
        let c = compile(&s);
        assert_eq!(expression(&tt(&c).metrics, "backlog"), "visible + delayed");
        assert_eq!(
            metric_names(&tt(&c).metrics),
            [
                "ApproximateNumberOfMessagesVisible",
                "ApproximateNumberOfMessagesDelayed",
                "CPUUtilization"
            ]
        );
        assert_eq!(
            expression(math(alarm(&c, Purpose::WakeFromZero)), "waiting"),
            "visible + delayed"
        );
    }

    #[test]
    fn drain_always_counts_visible_in_flight_delayed_and_received() {
        let mut s = spec();
        s.include_in_flight = false;
        let c = compile(&s);
        let drain = alarm(&c, Purpose::DrainToZero);
        assert_eq!(
            expression(math(drain), "messages"),
            "visible + in_flight + delayed + received"
        );
        assert!(
            math(drain).iter().any(|q| q.id == "received"
                && matches!(&q.source, QuerySource::Metric(m) if m.stat == "Sum")),
            "the minute's receive count"
        );
        assert_eq!(drain.comparison, Comparison::LessOrEqual);
        assert_eq!(drain.threshold, 0.0);
        assert_eq!(
            (drain.evaluation_periods, drain.datapoints_to_alarm),
            (15, Some(15))
        );
        assert_eq!(
            drain.missing_data,
            MissingData::NotBreaching,
            "missing data never drains"
        );
    }

    #[test]
    fn idle_minutes_set_the_drain_window() {
        let mut s = spec();
        s.idle_minutes = 45;
        let drain = compile(&s).alarms[1].1.clone();
        assert_eq!(
            (drain.evaluation_periods, drain.datapoints_to_alarm),
            (45, Some(45))
        );
    }

    #[test]
    fn drain_sets_exactly_zero_below_its_threshold() {
        let c = compile(&spec());
        let d = step(&c, Purpose::DrainToZero);
        assert_eq!(d.adjustment_type, AdjustmentType::ExactCapacity);
        assert_eq!(
            d.steps,
            [StepAdjustment {
                lower_bound: None,
                upper_bound: Some(0.0),
                scaling_adjustment: 0
            }]
        );
        assert_eq!(d.cooldown, Some(300), "the scale-in cooldown");
    }

    #[test]
    fn wake_sets_exactly_wake_tasks_so_re_firing_cannot_add_more() {
        let mut s = spec();
        s.wake_tasks = 3;
        s.wake_threshold = 5.0;
        let c = compile(&s);
        let w = step(&c, Purpose::WakeFromZero);
        assert_eq!(w.adjustment_type, AdjustmentType::ExactCapacity);
        assert_eq!(
            w.steps,
            [StepAdjustment {
                lower_bound: Some(0.0),
                upper_bound: None,
                scaling_adjustment: 3
            }]
        );
        let a = alarm(&c, Purpose::WakeFromZero);
        assert_eq!(a.threshold, 5.0);
        assert_eq!(a.comparison, Comparison::GreaterOrEqual);
        assert_eq!((a.evaluation_periods, a.datapoints_to_alarm), (1, Some(1)));
        assert_eq!(a.missing_data, MissingData::NotBreaching);
        assert_eq!(
            expression(math(a), "waiting_at_zero_tasks"),
            "IF(FILL(tasks, 0) == 0 AND consumers == 0, waiting, 0)",
            "the alarm only sees messages while nothing consumes the queue"
        );
    }

    /// What shows SQS that a consumer runs, with the backlog's own timing: messages in
    /// flight (Maximum, a gauge) and receive calls (Sum, counts of the minute).
    #[test]
    fn wake_asks_sqs_for_consumers_in_flight_and_receiving() {
        let c = compile(&spec());
        let q = math(alarm(&c, Purpose::WakeFromZero));
        assert_eq!(
            expression(q, "consumers"),
            "in_flight + received + empty_receives"
        );
        let stats: Vec<(&str, &str, &str)> = q
            .iter()
            .filter_map(|x| match &x.source {
                QuerySource::Metric(ms) => {
                    Some((x.id.as_str(), ms.metric.name.as_str(), ms.stat.as_str()))
                }
                QuerySource::Expression(_) => None,
            })
            .collect();
        assert_eq!(
            stats,
            [
                ("visible", "ApproximateNumberOfMessagesVisible", "Maximum"),
                (
                    "in_flight",
                    "ApproximateNumberOfMessagesNotVisible",
                    "Maximum"
                ),
                ("received", "NumberOfMessagesReceived", "Sum"),
                ("empty_receives", "NumberOfEmptyReceives", "Sum"),
                ("tasks", "CPUUtilization", "SampleCount"),
            ]
        );
        assert!(
            q.iter()
                .filter(|x| matches!(x.source, QuerySource::Metric(_)))
                .count()
                <= 10,
            "an alarm reads at most 10 metrics"
        );
    }

    #[test]
    fn every_alarm_query_list_returns_exactly_one_series_with_one_minute_periods() {
        let c = compile(&spec());
        for (_, a) in &c.alarms {
            let q = math(a);
            assert_eq!(q.iter().filter(|x| x.return_data).count(), 1, "{}", a.name);
            assert!(q.len() <= 20);
            for x in q {
                if let QuerySource::Metric(ms) = &x.source {
                    assert_eq!(ms.period, Some(60), "{}: {}", a.name, x.id);
                }
            }
        }
    }

    #[test]
    fn task_count_source_selects_the_metric() {
        let mut s = spec();
        s.task_count = TaskCountSource::ContainerInsights;
        let c = compile(&s);
        let t = tt(&c)
            .metrics
            .iter()
            .find(|q| q.id == "tasks")
            .expect("tasks query");
        let QuerySource::Metric(ms) = &t.source else {
            panic!("metric")
        };
        assert_eq!(
            (ms.metric.namespace.as_str(), ms.metric.name.as_str()),
            ("ECS/ContainerInsights", "RunningTaskCount")
        );
        assert_eq!(ms.metric.dimensions["ClusterName"], "main");
        assert_eq!(ms.metric.dimensions["ServiceName"], "worker");
        let cpu = compile(&spec());
        let t = tt(&cpu)
            .metrics
            .iter()
            .find(|q| q.id == "tasks")
            .expect("tasks query");
        let QuerySource::Metric(ms) = &t.source else {
            panic!("metric")
        };
        assert_eq!(
            (ms.metric.name.as_str(), ms.stat.as_str()),
            ("CPUUtilization", "SampleCount")
        );
    }

    #[test]
    fn disable_scale_in_turns_off_target_tracking_scale_in_and_the_drain() {
        let mut s = spec();
        s.disable_scale_in = true;
        let c = compile(&s);
        assert!(tt(&c).disable_scale_in);
        assert!(c.policies.iter().all(|(p, _)| *p != Purpose::DrainToZero));
        assert!(c.alarms.iter().all(|(p, _)| *p != Purpose::DrainToZero));
    }

    #[test]
    fn cooldowns_reach_the_policies() {
        let mut s = spec();
        s.scale_out_cooldown = 30;
        s.scale_in_cooldown = 600;
        let c = compile(&s);
        assert_eq!(
            (tt(&c).scale_out_cooldown, tt(&c).scale_in_cooldown),
            (Some(30), Some(600))
        );
        assert_eq!(step(&c, Purpose::WakeFromZero).cooldown, Some(30));
    }

    #[test]
    fn an_attached_target_is_not_compiled() {
        let mut s = spec();
        s.owned_capacity = None;
        assert!(compile(&s).target.is_none());
        let owned = compile(&spec()).target.expect("owned target");
        assert_eq!((owned.min_capacity, owned.max_capacity), (0, 50));
    }

    #[test]
    fn fifo_queues_keep_their_suffix_in_the_metric_dimension() {
        let mut s = spec();
        s.queue_name = "jobs.fifo".into();
        let c = compile(&s);
        let QuerySource::Metric(ms) = &tt(&c).metrics[0].source else {
            panic!("metric")
        };
        assert_eq!(ms.metric.dimensions["QueueName"], "jobs.fifo");
    }

    /// One minute's value of every query in `queries`, evaluated with the simulator's
    /// metric math on the given metric values (`None`: no datapoint).
    fn minute(queries: &[MetricQuery], metrics: &[(&str, Option<f64>)]) -> Option<f64> {
        use crate::sim::math::{Context, Value, eval, parse};
        struct One(BTreeMap<String, Value>);
        impl Context for One {
            fn slots(&self) -> usize {
                1
            }
            fn lookup(&self, id: &str) -> Option<Value> {
                self.0.get(id).cloned()
            }
            fn metric_ids(&self) -> Vec<String> {
                Vec::new()
            }
        }
        let mut ctx = One(BTreeMap::new());
        let mut result = None;
        for q in queries {
            let v = match &q.source {
                QuerySource::Metric(_) => {
                    let x = metrics.iter().find(|(id, _)| *id == q.id).expect("value");
                    Value::Series(vec![x.1])
                }
                QuerySource::Expression(e) => {
                    eval(&parse(e).expect("parses"), &ctx).expect("evaluates")
                }
            };
            if q.return_data {
                result = Some(v.clone());
            }
            ctx.0.insert(q.id.clone(), v);
        }
        match result.expect("a returned query") {
            Value::Series(s) => s[0],
            Value::Scalar(x) => Some(x),
            other => panic!("not a series: {other:?}"),
        }
    }

    /// The three regimes, evaluated as CloudWatch would on one minute's values of the
    /// compiled expressions — including minutes with no task datapoint while tasks run (a
    /// late or absent ECS metric): the wake fires only when nothing consumes the queue,
    /// target tracking never has a datapoint that asks for 0 tasks, and the drain never
    /// counts a minute with a message in flight.
    #[test]
    fn the_three_regimes_never_overlap() {
        let s = spec();
        let c = compile(&s);
        let tt_queries = &tt(&c).metrics;
        let wake = alarm(&c, Purpose::WakeFromZero);
        let drain = alarm(&c, Purpose::DrainToZero);
        let counts = [None, Some(0.0), Some(1.0), Some(7.0)];
        for tasks in [None, Some(1.0), Some(7.0)] {
            for visible in counts {
                for in_flight in counts {
                    // SQS publishes all of a queue's metrics for a minute, or none.
                    if visible.is_none() != in_flight.is_none() {
                        continue;
                    }
                    for receives in [Some(0.0), Some(3.0)] {
                        let receives = visible.and(receives);
                        let m = [
                            ("visible", visible),
                            ("in_flight", in_flight),
                            ("delayed", visible.map(|_| 0.0)),
                            ("received", receives),
                            ("empty_receives", receives),
                            ("tasks", tasks),
                        ];
                        let at = format!("{m:?}");
                        let woken = minute(math(wake), &m).is_some_and(|v| v >= wake.threshold);
                        let drained = minute(math(drain), &m).is_some_and(|v| v <= 0.0);
                        let per_task = minute(tt_queries, &m);
                        let consumer = in_flight.unwrap_or(0.0) > 0.0
                            || receives.unwrap_or(0.0) > 0.0
                            || tasks.is_some();
                        if woken {
                            assert!(!consumer, "wake with a consumer: {at}");
                            assert!(per_task.is_none() && !drained, "{at}");
                        }
                        if let Some(v) = per_task {
                            assert!(tasks.is_some() && v > 0.0, "{at}: {v}");
                            let wanted = tasks.unwrap_or(0.0) * v / s.target.value();
                            assert!(wanted.ceil() >= 1.0, "{at}");
                        }
                        if drained {
                            assert!(in_flight == Some(0.0) && visible == Some(0.0), "{at}");
                            assert_eq!(receives, Some(0.0), "{at}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn names_fit_aws_limits_at_the_longest_allowed_name() {
        let mut s = spec();
        s.name = "n".repeat(MAX_NAME_LEN);
        let c = compile(&s);
        assert!(c.alarms.iter().all(|(_, a)| a.name.len() <= 255));
        assert!(c.policies.iter().all(|(_, p)| p.name.len() <= 256));
    }
}
