//! The simulation loop: one clock in seconds driving an SQS queue, an ECS service,
//! CloudWatch and Application Auto Scaling, all executing the compiled objects.
//!
//! Work per second is small (arrivals, a pass over the running tasks), and quiet stretches
//! (nothing visible, no task busy) jump to the next arrival, metric minute or alarm
//! evaluation, so a month of one policy runs in well under a second.

use std::collections::VecDeque;

use super::SimError;
use super::autoscaling::{self, Cooldown, DEFAULT_COOLDOWN};
use super::cloudwatch::{
    self, AlarmState, Datapoint, EXTRA_RANGE_PERIODS, Names, QuerySet, Source, Store,
};
use super::report::{Histogram, Minute, Report, ScalingEvent, Summary};
use super::trace::Trace;
use crate::scaling::backlog_policy::Compiled;
use crate::scaling::model::{
    Alarm, Comparison, MissingData, Policy, PolicyKind, StepPolicy, Target,
};

/// Seconds a worker's `ReceiveMessage` long poll waits on an empty queue before it returns
/// empty. **Assumption**: workers poll with `WaitTimeSeconds = 20`, SQS's maximum and what
/// `examples/worker/` uses; an idle running task makes one empty receive per 20 seconds.
const LONG_POLL_SECONDS: f64 = 20.0;

/// The compiled objects a simulation executes: what the resources send to AWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Objects {
    /// The scalable target (capacity range, suspensions).
    pub target: Target,
    /// The scaling policies.
    pub policies: Vec<Policy>,
    /// The alarms that trigger the step policies. An alarm acts on the policy of the same
    /// name (how both resources name them), or on the policy whose ARN its actions hold.
    pub alarms: Vec<Alarm>,
}

impl Objects {
    /// The objects of a compiled `queuescale_sqs_backlog_scaling_policy`, with its owned
    /// target or, when it attaches to one managed elsewhere, `attached`.
    pub fn from_backlog(compiled: &Compiled, attached: Option<Target>) -> Option<Objects> {
        Some(Objects {
            target: compiled.target.clone().or(attached)?,
            policies: compiled.policies.iter().map(|(_, p)| p.clone()).collect(),
            // Alarms that only notify (no policy of their purpose) act on nothing.
            alarms: compiled
                .alarms
                .iter()
                .filter(|(p, _)| compiled.policies.iter().any(|(q, _)| q == p))
                .map(|(_, a)| a.clone())
                .collect(),
        })
    }
}

/// How long a task takes per message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Processing {
    /// Always this many seconds.
    Fixed(f64),
    /// Uniform between the two, seconds.
    Uniform(f64, f64),
    /// Exponential with this mean, seconds.
    Exponential(f64),
}

impl Processing {
    fn sample(self, rng: &mut fastrand::Rng) -> f64 {
        let x = match self {
            Processing::Fixed(x) => x,
            Processing::Uniform(a, b) => a + (b - a) * rng.f64(),
            Processing::Exponential(mean) => -mean * (1.0 - rng.f64()).ln(),
        };
        // A floor keeps a task's loop over one second finite.
        x.max(0.001)
    }
}

/// The queue's behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct SqsOptions {
    /// Seconds a received message stays invisible once its task is gone (the queue's
    /// `VisibilityTimeout`; SQS's default is 30). Workers are taken to extend the
    /// visibility of the message they hold while they process it.
    pub visibility_timeout: u32,
    /// The queue's `DelaySeconds`: new messages are delayed this long.
    pub delay_seconds: u32,
    /// Seconds after a minute ends before its SQS datapoints can be read.
    pub metric_delay: u32,
    /// Seconds without messages and API calls after which the queue is inactive and stops
    /// publishing metrics (AWS: "up to six hours").
    pub inactive_after: u32,
    /// After an inactive queue is used again, its datapoints are late until this many
    /// seconds have passed (AWS: "a delay of up to 15 minutes").
    pub reactivation_delay: u32,
    /// An API call (e.g. `GetQueueAttributes`) every so many seconds that keeps the queue
    /// active.
    pub keep_active_every: Option<u32>,
    /// A FIFO queue whose messages are spread over this many message groups, in turn.
    /// SQS returns no message of a group while another of it is in flight, so that each
    /// group is processed in order (SQS developer guide, "Using the message group ID"):
    /// at most this many tasks are busy at once.
    pub message_groups: Option<u32>,
}

impl Default for SqsOptions {
    fn default() -> Self {
        SqsOptions {
            visibility_timeout: 30,
            delay_seconds: 0,
            metric_delay: 20,
            inactive_after: 6 * 3600,
            reactivation_delay: 15 * 60,
            keep_active_every: None,
            message_groups: None,
        }
    }
}

/// The service's behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsOptions {
    /// A launched task runs after a latency drawn uniformly from this range, seconds.
    pub start_latency: (u32, u32),
    /// Processing time per message.
    pub processing: Processing,
    /// Seconds after a minute ends before its `AWS/ECS CPUUtilization` datapoint can be
    /// read; `None`: the service publishes no CPU metric (EC2 without telemetry,
    /// `ECS_DISABLE_METRICS`).
    pub cpu_metric_delay: Option<u32>,
    /// CPU samples per task and minute (1 at the default resolution, 3 at 20 seconds).
    pub cpu_samples_per_minute: u32,
    /// Seconds after a minute ends before Container Insights' `RunningTaskCount` can be
    /// read; `None`: Container Insights is off.
    pub container_insights_delay: Option<u32>,
    /// Workers hold ECS task scale-in protection while they process a message (the
    /// busy-worker pattern): ECS does not stop them until they clear it.
    pub protect_while_busy: bool,
}

impl Default for EcsOptions {
    fn default() -> Self {
        EcsOptions {
            start_latency: (30, 90),
            processing: Processing::Exponential(1.0),
            cpu_metric_delay: Some(20),
            cpu_samples_per_minute: 1,
            container_insights_delay: Some(20),
            protect_while_busy: false,
        }
    }
}

/// One simulation: where, what arrives, how the services behave.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Queue, cluster and service names the metrics are published under.
    pub names: Names,
    /// Arrivals.
    pub trace: Trace,
    /// Seconds to simulate.
    pub duration: u32,
    /// Seed of every random draw.
    pub seed: u64,
    /// Tasks running at the start (`None`: the target's minimum).
    pub initial_tasks: Option<i32>,
    /// Queue behaviour.
    pub sqs: SqsOptions,
    /// Service behaviour.
    pub ecs: EcsOptions,
    /// Second within each minute at which CloudWatch evaluates alarms.
    pub evaluation_offset: u32,
}

impl Scenario {
    /// A scenario with default behaviour that runs for the trace's duration.
    pub fn new(names: Names, trace: Trace) -> Scenario {
        Scenario {
            names,
            duration: trace.duration,
            trace,
            seed: 2,
            initial_tasks: None,
            sqs: SqsOptions::default(),
            ecs: EcsOptions::default(),
            evaluation_offset: 30,
        }
    }
}

/// What a scaler that reads the queue itself sees when it looks (SQS
/// `GetQueueAttributes`: `ApproximateNumberOfMessages`, `…NotVisible`, `…Delayed`).
///
/// **Assumption**: the attributes are exact at the instant of the call; SQS calls them
/// approximate and publishes no error bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueView {
    /// Messages visible.
    pub visible: u32,
    /// Messages received and not deleted.
    pub in_flight: u32,
    /// Messages delayed.
    pub delayed: u32,
}

/// A scaler outside Application Auto Scaling that polls the queue and sets the desired
/// count itself, such as KEDA's SQS scaler (`super::keda`). It runs instead of, or beside,
/// the alarms and policies of the objects; the capacity range still clamps it.
pub trait Poller {
    /// Its name in scaling events.
    fn name(&self) -> &str;
    /// Seconds between its looks at the queue: it is called at every multiple from 0.
    fn tick(&self) -> u32;
    /// The desired count it sets at `now` (`None`: no change), given what the queue holds
    /// and the desired count.
    fn decide(&mut self, now: u32, queue: QueueView, desired: i32) -> Option<i32>;
}

#[derive(Debug, Clone, Copy)]
struct Msg {
    /// When it was sent; the messages of one second are spread evenly across it.
    sent: f64,
    /// Its message group (FIFO queues; 0 otherwise).
    group: u32,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    msg: Msg,
    start: f64,
    done: f64,
}

#[derive(Debug)]
struct Task {
    launch: u64,
    ready_at: u32,
    running: bool,
    free_at: f64,
    holding: Option<Held>,
}

enum Action {
    Step(usize),
    TrackHigh(usize),
    TrackLow(usize),
}

struct AlarmRt {
    name: String,
    queries: QuerySet,
    comparison: Comparison,
    threshold: f64,
    n: usize,
    m: usize,
    missing: MissingData,
    state: AlarmState,
    last_invoked: Option<u32>,
    action: Action,
}

enum PolicyRtKind {
    Step(StepPolicy, u32),
    Tracking {
        target: f64,
        out_cooldown: u32,
        in_cooldown: u32,
    },
}

struct PolicyRt {
    name: String,
    kind: PolicyRtKind,
    cooldown: Cooldown,
}

fn cooldown(x: Option<i32>) -> u32 {
    x.and_then(|c| u32::try_from(c).ok())
        .unwrap_or(DEFAULT_COOLDOWN)
}

/// Turns the compiled objects into runtime alarms and policies.
///
/// Target tracking gets the two alarms AAS creates for it (seen in exported
/// configurations, not documented by AWS): high — above the target for 3 of 3 one-minute
/// datapoints; low — below 90 % of it for 15 of 15 (none with `disable_scale_in`); missing
/// data is `missing`, so no datapoints means INSUFFICIENT_DATA and no action.
fn setup(
    objects: &Objects,
    names: &Names,
    warnings: &mut Vec<String>,
) -> Result<(Vec<AlarmRt>, Vec<PolicyRt>), SimError> {
    let mut policies = Vec::new();
    let mut alarms = Vec::new();
    for p in &objects.policies {
        let i = policies.len();
        match &p.kind {
            PolicyKind::Step(s) => policies.push(PolicyRt {
                name: p.name.clone(),
                kind: PolicyRtKind::Step(s.clone(), cooldown(s.cooldown)),
                cooldown: Cooldown::default(),
            }),
            PolicyKind::TargetTracking(t) => {
                let owner = format!("{} (target tracking)", p.name);
                for (high, suffix) in [(true, "AlarmHigh"), (false, "AlarmLow")] {
                    if !high && t.disable_scale_in {
                        continue;
                    }
                    alarms.push(AlarmRt {
                        name: format!("TargetTracking-{}-{suffix}", p.name),
                        queries: QuerySet::compile(&owner, &t.metrics, Some(60), names, warnings)?,
                        comparison: if high {
                            Comparison::Greater
                        } else {
                            Comparison::Less
                        },
                        threshold: if high {
                            t.target_value
                        } else {
                            0.9 * t.target_value
                        },
                        n: if high { 3 } else { 15 },
                        m: if high { 3 } else { 15 },
                        missing: MissingData::Missing,
                        state: AlarmState::InsufficientData,
                        last_invoked: None,
                        action: if high {
                            Action::TrackHigh(i)
                        } else {
                            Action::TrackLow(i)
                        },
                    });
                }
                policies.push(PolicyRt {
                    name: p.name.clone(),
                    kind: PolicyRtKind::Tracking {
                        target: t.target_value,
                        out_cooldown: cooldown(t.scale_out_cooldown),
                        in_cooldown: cooldown(t.scale_in_cooldown),
                    },
                    cooldown: Cooldown::default(),
                });
            }
        }
    }
    for a in &objects.alarms {
        let by_name = objects.policies.iter().position(|p| {
            p.name == a.name
                || a.actions
                    .iter()
                    .any(|arn| arn.ends_with(&format!("policyName/{}", p.name)))
        });
        let Some(pi) = by_name else {
            warnings.push(format!(
                "alarm {}: no policy of that name: its state changes act on nothing",
                a.name
            ));
            continue;
        };
        if !matches!(policies[pi].kind, PolicyRtKind::Step(..)) {
            return Err(SimError::Setup(format!(
                "alarm {} triggers target-tracking policy {}; alarms trigger step policies",
                a.name, policies[pi].name
            )));
        }
        let n = usize::try_from(a.evaluation_periods)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                SimError::Setup(format!(
                    "alarm {}: evaluation_periods {} (at least 1)",
                    a.name, a.evaluation_periods
                ))
            })?;
        let m = match a.datapoints_to_alarm {
            None => n,
            Some(d) => usize::try_from(d)
                .ok()
                .filter(|d| (1..=n).contains(d))
                .ok_or_else(|| {
                    SimError::Setup(format!(
                        "alarm {}: datapoints_to_alarm {d} (1 to evaluation_periods)",
                        a.name
                    ))
                })?,
        };
        alarms.push(AlarmRt {
            name: a.name.clone(),
            queries: QuerySet::from_alarm_metric(&a.name, &a.metric, names, warnings)?,
            comparison: a.comparison,
            threshold: a.threshold,
            n,
            m,
            missing: a.missing_data,
            state: AlarmState::InsufficientData,
            last_invoked: None,
            action: Action::Step(pi),
        });
    }
    Ok((alarms, policies))
}

struct Sim<'a> {
    sc: &'a Scenario,
    target: &'a Target,
    rng: fastrand::Rng,
    store: Store,
    alarms: Vec<AlarmRt>,
    policies: Vec<PolicyRt>,
    desired: i32,
    tasks: Vec<Task>,
    launches: u64,
    visible: VecDeque<Msg>,
    delayed: VecDeque<(u32, Msg)>,
    returning: VecDeque<(u32, Msg)>,
    /// The message group of the last message sent (FIFO).
    next_group: u32,
    active: bool,
    last_touch: u32,
    reactivated_at: Option<u32>,
    wake_open: Option<u32>,
    wake_latencies: Vec<u32>,
    waits: Histogram,
    // Per-minute accumulators.
    running_seconds: f64,
    busy_seconds: f64,
    minute_arrived: u32,
    minute_processed: u32,
    minute_received: u32,
    // Totals.
    arrived: u64,
    processed: u64,
    task_seconds: u64,
    busy_stopped: u64,
    redelivered: u64,
    peak: u32,
    events: Vec<ScalingEvent>,
    timeline: Vec<Minute>,
}

impl Sim<'_> {
    fn running(&self) -> u32 {
        self.tasks.iter().filter(|t| t.running).count() as u32
    }

    fn in_flight(&self) -> usize {
        self.returning.len() + self.tasks.iter().filter(|t| t.holding.is_some()).count()
    }

    fn touch(&mut self, t: u32) {
        if !self.active {
            self.active = true;
            self.reactivated_at = Some(t);
        }
        self.last_touch = t;
    }

    fn launch(&mut self, t: u32) {
        let (lo, hi) = self.sc.ecs.start_latency;
        let latency = if hi > lo { self.rng.u32(lo..=hi) } else { lo };
        self.launches += 1;
        self.tasks.push(Task {
            launch: self.launches,
            ready_at: t + latency,
            running: false,
            free_at: 0.0,
            holding: None,
        });
    }

    /// The ECS service scheduler after a change of the desired count: launch what is
    /// missing; for what is too much, cancel tasks not running yet (newest first), then stop
    /// running tasks that are not protected.
    ///
    /// **Assumption**: ECS does not know which task is busy; it picks among unprotected
    /// running tasks at random. "A protected task is not stopped by a scale-in until
    /// protection ends" (ECS task scale-in protection): protected tasks left over are
    /// stopped when they clear protection.
    fn reconcile(&mut self, t: u32) {
        let desired = self.desired.max(0) as usize;
        while self.tasks.len() < desired {
            self.launch(t);
        }
        let mut excess = self.tasks.len().saturating_sub(desired);
        while excess > 0 {
            let newest_starting = self
                .tasks
                .iter()
                .enumerate()
                .filter(|(_, k)| !k.running)
                .max_by_key(|(_, k)| k.launch)
                .map(|(i, _)| i);
            let Some(i) = newest_starting else { break };
            self.tasks.swap_remove(i);
            excess -= 1;
        }
        while excess > 0 {
            let protect = self.sc.ecs.protect_while_busy;
            let candidates: Vec<usize> = self
                .tasks
                .iter()
                .enumerate()
                .filter(|(_, k)| !(protect && k.holding.is_some()))
                .map(|(i, _)| i)
                .collect();
            if candidates.is_empty() {
                break;
            }
            let i = candidates[self.rng.usize(..candidates.len())];
            self.stop(i, t);
            excess -= 1;
        }
    }

    /// Stops task `i`; a message it holds comes back after the visibility timeout.
    fn stop(&mut self, i: usize, t: u32) {
        let task = self.tasks.swap_remove(i);
        if let Some(h) = task.holding {
            self.busy_stopped += 1;
            self.returning
                .push_back((t + self.sc.sqs.visibility_timeout, h.msg));
        }
    }

    /// One second `[t, t + 1)` of the queue and the tasks.
    fn second(&mut self, t: u32, arrivals: u32) {
        // Releases: delayed messages and messages whose task stopped.
        while let Some(&(at, m)) = self.delayed.front() {
            if at > t {
                break;
            }
            self.delayed.pop_front();
            self.visible.push_back(m);
        }
        while let Some(&(at, m)) = self.returning.front() {
            if at > t {
                break;
            }
            self.returning.pop_front();
            self.redelivered += 1;
            self.visible.push_front(m);
        }
        if arrivals > 0 {
            self.touch(t);
            if self.wake_open.is_none() && self.running() == 0 {
                self.wake_open = Some(t);
            }
            self.arrived += u64::from(arrivals);
            self.minute_arrived += arrivals;
            for j in 0..arrivals {
                let group = match self.sc.sqs.message_groups {
                    Some(g) if g > 0 => {
                        self.next_group = (self.next_group + 1) % g;
                        self.next_group
                    }
                    _ => 0,
                };
                let m = Msg {
                    sent: f64::from(t) + (f64::from(j) + 0.5) / f64::from(arrivals),
                    group,
                };
                if self.sc.sqs.delay_seconds > 0 {
                    self.delayed.push_back((t + self.sc.sqs.delay_seconds, m));
                } else {
                    self.visible.push_back(m);
                }
            }
        }
        // Tasks whose start latency is over begin polling.
        for k in &mut self.tasks {
            if !k.running && k.ready_at <= t {
                k.running = true;
                k.free_at = f64::from(t);
            }
        }
        let running = self.running();
        if running > 0 {
            if let Some(open) = self.wake_open.take() {
                self.wake_latencies.push(t - open);
            }
            // Long polling is an API call.
            self.touch(t);
        }
        self.peak = self.peak.max(running);
        // Each running task: finish what it holds, then receive while the second lasts.
        // Long polling returns as soon as a message is visible.
        let end = f64::from(t + 1);
        let protect = self.sc.ecs.protect_while_busy;
        // FIFO: the groups with a message in flight, whose next message waits.
        let mut busy_groups: Option<Vec<bool>> = self.sc.sqs.message_groups.map(|g| {
            let mut busy = vec![false; g.max(1) as usize];
            let held = self.tasks.iter().filter_map(|k| k.holding.map(|h| h.msg));
            for m in held.chain(self.returning.iter().map(|(_, m)| *m)) {
                busy[m.group as usize] = true;
            }
            busy
        });
        let mut i = 0;
        while i < self.tasks.len() {
            if !self.tasks[i].running {
                i += 1;
                continue;
            }
            let mut stop_now = false;
            loop {
                let task = &mut self.tasks[i];
                if let Some(h) = task.holding {
                    if h.done > end {
                        break;
                    }
                    task.holding = None;
                    task.free_at = h.done;
                    if let Some(busy) = busy_groups.as_mut() {
                        busy[h.msg.group as usize] = false;
                    }
                    self.processed += 1;
                    self.minute_processed += 1;
                    self.waits.add(h.start - h.msg.sent);
                    self.busy_seconds += h.done - h.start.max(f64::from(t));
                    if protect && self.tasks.len() > self.desired.max(0) as usize {
                        // Protection cleared while the service is above its desired count.
                        stop_now = true;
                        break;
                    }
                    continue;
                }
                let next = match &busy_groups {
                    None => (!self.visible.is_empty()).then_some(0),
                    Some(busy) => self.visible.iter().position(|m| !busy[m.group as usize]),
                };
                let Some(at) = next else {
                    break;
                };
                let msg = self.visible[at];
                let start = task.free_at.max(f64::from(t)).max(msg.sent);
                if start >= end {
                    break;
                }
                self.visible.remove(at);
                if let Some(busy) = busy_groups.as_mut() {
                    busy[msg.group as usize] = true;
                }
                self.minute_received += 1;
                let done = start + self.sc.ecs.processing.sample(&mut self.rng);
                self.tasks[i].holding = Some(Held { msg, start, done });
            }
            if let Some(h) = self.tasks[i].holding {
                self.busy_seconds += end - h.start.max(f64::from(t));
            }
            if stop_now {
                // **Assumption**: ECS stops it before it receives again.
                self.stop(i, t);
                continue;
            }
            i += 1;
        }
        self.running_seconds += f64::from(running);
        self.task_seconds += self.tasks.len() as u64;
        if !self.visible.is_empty() || !self.delayed.is_empty() || self.in_flight() > 0 {
            self.touch(t);
        }
        if let Some(every) = self.sc.sqs.keep_active_every
            && every > 0
            && t.is_multiple_of(every)
        {
            self.touch(t);
        }
        if self.active && t.saturating_sub(self.last_touch) >= self.sc.sqs.inactive_after {
            self.active = false;
        }
    }

    /// Seconds of a quiet stretch (nothing visible, nothing held) skipped at once.
    fn idle(&mut self, from: u32, to: u32) {
        let n = to - from;
        let running = self.running();
        if running > 0 {
            self.touch(to - 1);
        }
        self.running_seconds += f64::from(running * n);
        self.task_seconds += self.tasks.len() as u64 * u64::from(n);
        if let Some(every) = self.sc.sqs.keep_active_every
            && every > 0
            && (from..to).any(|s| s.is_multiple_of(every))
        {
            self.touch(to - 1);
        }
        if self.active && (to - 1).saturating_sub(self.last_touch) >= self.sc.sqs.inactive_after {
            self.active = false;
        }
    }

    /// The datapoints of minute `k`, sampled at its last second.
    ///
    /// SQS publishes its `ApproximateNumberOf…` gauges once a minute for an active queue
    /// (one sample: Maximum = Minimum = Average), and the minute's `NumberOfMessagesReceived`
    /// and `NumberOfEmptyReceives` counts ("all metrics emit non-negative values only when
    /// the queue is active", SQS developer guide). A queue reactivated at `r` publishes
    /// nothing readable before `r + reactivation_delay`. ECS publishes CPUUtilization with
    /// one sample per running task and minute (SampleCount = running tasks, the console
    /// recipe for a task count) and nothing at 0 tasks; Container Insights publishes
    /// RunningTaskCount, also nothing at 0 tasks.
    fn publish(&mut self, k: u32) {
        let end = (k + 1) * 60;
        let k_us = k as usize;
        if self.active {
            let mut at = end + self.sc.sqs.metric_delay;
            if let Some(r) = self.reactivated_at
                && end < r + self.sc.sqs.reactivation_delay
            {
                at = at.max(r + self.sc.sqs.reactivation_delay);
            }
            let in_flight = self.in_flight() as f64;
            self.store.put(
                Source::Visible,
                k_us,
                Datapoint::gauge(self.visible.len() as f64, at),
            );
            self.store
                .put(Source::NotVisible, k_us, Datapoint::gauge(in_flight, at));
            self.store.put(
                Source::Delayed,
                k_us,
                Datapoint::gauge(self.delayed.len() as f64, at),
            );
            self.store.put(
                Source::Received,
                k_us,
                Datapoint::gauge(f64::from(self.minute_received), at),
            );
            let idle = (self.running_seconds - self.busy_seconds).max(0.0);
            self.store.put(
                Source::EmptyReceives,
                k_us,
                Datapoint::gauge((idle / LONG_POLL_SECONDS).floor(), at),
            );
        }
        let running = self.running();
        if running > 0 {
            if let Some(delay) = self.sc.ecs.cpu_metric_delay {
                let count = f64::from(running * self.sc.ecs.cpu_samples_per_minute.max(1));
                let cpu = if self.running_seconds > 0.0 {
                    (100.0 * self.busy_seconds / self.running_seconds).min(100.0)
                } else {
                    0.0
                };
                self.store.put(
                    Source::Cpu,
                    k_us,
                    Datapoint {
                        count,
                        sum: cpu * count,
                        min: cpu,
                        max: cpu,
                        published_at: end + delay,
                    },
                );
            }
            if let Some(delay) = self.sc.ecs.container_insights_delay {
                self.store.put(
                    Source::RunningTaskCount,
                    k_us,
                    Datapoint::gauge(f64::from(running), end + delay),
                );
            }
        }
        let oldest = self
            .visible
            .front()
            .map_or(0, |m| (f64::from(end) - m.sent).ceil() as u32);
        self.timeline.push(Minute {
            minute: k,
            desired: self.desired,
            running,
            starting: self.tasks.len() as u32 - running,
            visible: self.visible.len() as u32,
            in_flight: self.in_flight() as u32,
            delayed: self.delayed.len() as u32,
            oldest_wait: oldest,
            arrived: self.minute_arrived,
            processed: self.minute_processed,
        });
        self.running_seconds = 0.0;
        self.busy_seconds = 0.0;
        self.minute_arrived = 0;
        self.minute_processed = 0;
        self.minute_received = 0;
    }

    /// CloudWatch evaluates every alarm at `now`; AAS runs the actions of those in ALARM
    /// and the largest capacity asked for wins ("Application Auto Scaling scales based on
    /// the policy that provides the largest capacity").
    ///
    /// An alarm in ALARM invokes its Auto Scaling action when it enters the state and
    /// again "for every period that the alarm remains in the new state" (CloudWatch user
    /// guide, "Using Amazon CloudWatch alarms").
    fn evaluate(&mut self, now: u32) -> Result<(), SimError> {
        let current = self.desired;
        let mut proposals: Vec<(i32, usize, bool)> = Vec::new();
        for a in &mut self.alarms {
            let period = a.queries.period;
            let slots = cloudwatch::range_slots(now, period, a.n + EXTRA_RANGE_PERIODS);
            let series = a.queries.evaluate(&a.name, &self.store, &slots, now)?;
            let (cmp, thr) = (a.comparison, a.threshold);
            let d = cloudwatch::decide(
                &series,
                a.n,
                a.m,
                |v| cloudwatch::breaches(cmp, thr, v),
                a.missing,
                a.state,
            );
            let entered = a.state != AlarmState::Alarm;
            a.state = d.state;
            if d.state != AlarmState::Alarm {
                a.last_invoked = None;
                continue;
            }
            let due = entered || a.last_invoked.is_none_or(|l| now - l >= period);
            if !due {
                continue;
            }
            a.last_invoked = Some(now);
            let proposal = match a.action {
                Action::Step(p) => {
                    let PolicyRtKind::Step(cfg, _) = &self.policies[p].kind else {
                        continue;
                    };
                    let Some(value) = autoscaling::aggregate(cfg.aggregation, &d.values) else {
                        continue;
                    };
                    let Some(adj) = autoscaling::step_for(cfg, cmp, thr, value) else {
                        continue;
                    };
                    let kind = cfg.adjustment_type;
                    let mam = cfg.min_adjustment_magnitude;
                    let asked = autoscaling::adjusted(kind, current, adj, mam);
                    let cd = &self.policies[p].cooldown;
                    if asked > current {
                        let from_base =
                            autoscaling::adjusted(kind, cd.base(now, current), adj, mam);
                        (from_base > current).then_some((from_base, p))
                    } else if asked < current && cd.may_scale_in(now) {
                        Some((asked, p))
                    } else {
                        None
                    }
                }
                Action::TrackHigh(p) | Action::TrackLow(p) => {
                    let PolicyRtKind::Tracking { target, .. } = self.policies[p].kind else {
                        continue;
                    };
                    let Some(&metric) = d.values.last() else {
                        continue;
                    };
                    let cd = &self.policies[p].cooldown;
                    if matches!(a.action, Action::TrackHigh(_)) {
                        let asked =
                            autoscaling::tracking_out(cd.base(now, current), metric, target);
                        // The high alarm only ever adds capacity.
                        (asked > current).then_some((asked, p))
                    } else if cd.may_scale_in(now) {
                        Some((autoscaling::tracking_in(current, metric, target), p))
                    } else {
                        None
                    }
                }
            };
            if let Some((cap, p)) = proposal {
                let cap = cap.clamp(self.target.min_capacity, self.target.max_capacity);
                let out = cap > current;
                let suspended = if out {
                    self.target.suspension.dynamic_out
                } else {
                    self.target.suspension.dynamic_in
                };
                if cap != current && !suspended {
                    proposals.push((cap, p, out));
                }
            }
        }
        let Some(&(cap, p, out)) = proposals.iter().max_by_key(|(cap, _, _)| *cap) else {
            return Ok(());
        };
        let (out_cd, in_cd) = match &self.policies[p].kind {
            PolicyRtKind::Step(_, c) => (*c, *c),
            PolicyRtKind::Tracking {
                out_cooldown,
                in_cooldown,
                ..
            } => (*out_cooldown, *in_cooldown),
        };
        if out {
            self.policies[p].cooldown.scaled_out(now, current, out_cd);
            for q in &mut self.policies {
                q.cooldown.in_until = 0;
            }
        } else {
            self.policies[p].cooldown.scaled_in(now, in_cd);
        }
        self.events.push(ScalingEvent {
            second: now,
            from: current,
            to: cap,
            policy: self.policies[p].name.clone(),
        });
        self.desired = cap;
        self.reconcile(now);
        Ok(())
    }
}

impl Sim<'_> {
    /// A poller looks at the queue (an API call on it) and may set the desired count.
    fn poll(&mut self, now: u32, poller: &mut dyn Poller) {
        self.touch(now);
        let view = QueueView {
            visible: self.visible.len() as u32,
            in_flight: self.in_flight() as u32,
            delayed: self.delayed.len() as u32,
        };
        let current = self.desired;
        let Some(asked) = poller.decide(now, view, current) else {
            return;
        };
        let cap = asked.clamp(self.target.min_capacity, self.target.max_capacity);
        if cap == current {
            return;
        }
        self.events.push(ScalingEvent {
            second: now,
            from: current,
            to: cap,
            policy: poller.name().to_owned(),
        });
        self.desired = cap;
        self.reconcile(now);
    }
}

/// Runs `scenario` against `objects`.
///
/// # Errors
/// [`SimError`] when an expression does not parse or evaluate, an alarm's settings are
/// out of range, or a metric uses a statistic or period the simulation does not compute.
pub fn run(objects: &Objects, scenario: &Scenario) -> Result<Report, SimError> {
    run_inner(objects, scenario, None, &mut |_| {})
}

/// As [`run`], calling `progress` with the simulated second at the start of every
/// simulated hour (for a progress bar on long runs).
///
/// # Errors
/// As [`run`].
pub fn run_with_progress(
    objects: &Objects,
    scenario: &Scenario,
    progress: &mut dyn FnMut(u32),
) -> Result<Report, SimError> {
    run_inner(objects, scenario, None, progress)
}

/// Runs `scenario` against `objects` and, when given, a `poller` that sets the desired
/// count from what it reads of the queue.
///
/// # Errors
/// As [`run`], and a poller whose tick is 0.
pub fn run_with(
    objects: &Objects,
    scenario: &Scenario,
    poller: Option<&mut dyn Poller>,
) -> Result<Report, SimError> {
    run_inner(objects, scenario, poller, &mut |_| {})
}

fn run_inner(
    objects: &Objects,
    scenario: &Scenario,
    mut poller: Option<&mut dyn Poller>,
    progress: &mut dyn FnMut(u32),
) -> Result<Report, SimError> {
    if poller.as_ref().is_some_and(|p| p.tick() == 0) {
        return Err(SimError::Setup(
            "a poller's tick must be at least 1 s".into(),
        ));
    }
    let mut warnings = Vec::new();
    let (alarms, policies) = setup(objects, &scenario.names, &mut warnings)?;
    let target = &objects.target;
    if target.min_capacity > target.max_capacity || target.min_capacity < 0 {
        return Err(SimError::Setup(format!(
            "capacity range {}..{} is empty",
            target.min_capacity, target.max_capacity
        )));
    }
    let initial = scenario
        .initial_tasks
        .unwrap_or(target.min_capacity)
        .clamp(target.min_capacity, target.max_capacity);
    let mut sim = Sim {
        sc: scenario,
        target,
        rng: fastrand::Rng::with_seed(scenario.seed),
        store: Store::default(),
        alarms,
        policies,
        desired: initial,
        tasks: Vec::new(),
        launches: 0,
        visible: VecDeque::new(),
        delayed: VecDeque::new(),
        returning: VecDeque::new(),
        next_group: 0,
        active: true,
        last_touch: 0,
        reactivated_at: None,
        wake_open: None,
        wake_latencies: Vec::new(),
        waits: Histogram::new(),
        running_seconds: 0.0,
        busy_seconds: 0.0,
        minute_arrived: 0,
        minute_processed: 0,
        minute_received: 0,
        arrived: 0,
        processed: 0,
        task_seconds: 0,
        busy_stopped: 0,
        redelivered: 0,
        peak: 0,
        events: Vec::new(),
        timeline: Vec::new(),
    };
    for _ in 0..initial {
        sim.launch(0);
    }
    for k in &mut sim.tasks {
        k.ready_at = 0;
    }
    let arrivals = &scenario.trace.arrivals;
    let mut next_arrival = 0usize;
    let offset = scenario.evaluation_offset % 60;
    let mut t = 0u32;
    let mut hour = None;
    while t < scenario.duration {
        if hour != Some(t / 3600) {
            hour = Some(t / 3600);
            progress(t);
        }
        let mut count = 0;
        while next_arrival < arrivals.len() && arrivals[next_arrival].0 <= t {
            if arrivals[next_arrival].0 == t {
                count += arrivals[next_arrival].1;
            }
            next_arrival += 1;
        }
        sim.second(t, count);
        if t >= 60 && t % 60 == offset {
            sim.evaluate(t)?;
        }
        if let Some(p) = poller.as_deref_mut()
            && t.is_multiple_of(p.tick())
        {
            sim.poll(t, p);
        }
        if (t + 1).is_multiple_of(60) {
            sim.publish(t / 60);
        }
        let mut next = t + 1;
        let quiet =
            sim.visible.is_empty() && sim.tasks.iter().all(|k| k.running && k.holding.is_none());
        if quiet {
            let mut until = (t / 60 + 1) * 60 - 1;
            let eval = t / 60 * 60 + offset;
            until = until.min(if eval > t { eval } else { eval + 60 });
            if let Some(&(s, _)) = arrivals.get(next_arrival) {
                until = until.min(s);
            }
            if let Some(&(s, _)) = sim.delayed.front() {
                until = until.min(s);
            }
            if let Some(&(s, _)) = sim.returning.front() {
                until = until.min(s);
            }
            if let Some(p) = poller.as_deref() {
                until = until.min((t / p.tick() + 1) * p.tick());
            }
            until = until.min(scenario.duration);
            if until > next {
                sim.idle(next, until);
                next = until;
            }
        }
        t = next;
    }
    let still = sim.visible.len() + sim.delayed.len() + sim.in_flight();
    let (scale_out_events, scale_in_events) = sim.events.iter().fold((0, 0), |(o, i), e| {
        if e.to > e.from {
            (o + 1, i)
        } else {
            (o, i + 1)
        }
    });
    let wakes = sim.wake_latencies.len() as u32 + u32::from(sim.wake_open.is_some());
    let summary = Summary {
        duration_seconds: scenario.duration,
        messages_arrived: sim.arrived,
        messages_processed: sim.processed,
        messages_still_queued: still as u64,
        task_minutes: sim.task_seconds as f64 / 60.0,
        wait_p50_seconds: sim.waits.quantile(0.5),
        wait_p95_seconds: sim.waits.quantile(0.95),
        wait_max_seconds: sim.waits.max(),
        wakes,
        wake_latency_max_seconds: sim.wake_latencies.iter().copied().max(),
        wake_latency_mean_seconds: (!sim.wake_latencies.is_empty()).then(|| {
            sim.wake_latencies
                .iter()
                .map(|x| f64::from(*x))
                .sum::<f64>()
                / sim.wake_latencies.len() as f64
        }),
        scale_out_events,
        scale_in_events,
        peak_tasks: sim.peak,
        busy_tasks_stopped: sim.busy_stopped,
        messages_redelivered: sim.redelivered,
    };
    Ok(Report {
        summary,
        events: sim.events,
        timeline: sim.timeline,
        warnings,
    })
}
