//! Scenarios on the objects `scaling::backlog_policy::compile` makes: properties every
//! run must keep, the source document's numbers, and one regression scenario per hole the
//! hardening issue found — each also run on the previous design's objects where that shows
//! the scenario catches the hole.

use proptest::prelude::*;

use super::trace::{self, Trace};
use super::*;
use crate::scaling::backlog_policy::{BacklogSpec, TaskCountSource, compile};

fn spec() -> BacklogSpec {
    crate::scaling::backlog_policy::example_spec()
}

fn names(s: &BacklogSpec) -> Names {
    Names {
        queue: s.queue_name.clone(),
        cluster: s.cluster.clone(),
        service: s.service.clone(),
    }
}

fn objects(s: &BacklogSpec) -> Objects {
    Objects::from_backlog(&compile(s), None).expect("owned target")
}

fn scenario(s: &BacklogSpec, pairs: Vec<(u32, u32)>, duration: u32) -> Scenario {
    let mut sc = Scenario::new(names(s), Trace::new(pairs, duration));
    sc.duration = duration;
    sc
}

fn simulate(s: &BacklogSpec, sc: &Scenario) -> Report {
    let r = run(&objects(s), sc).expect("runs");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    r
}

fn assert_conserved(r: &Report) {
    let s = &r.summary;
    assert_eq!(
        s.messages_arrived,
        s.messages_processed + s.messages_still_queued,
        "every message arrives once and is processed or still queued"
    );
}

/// Source document 002: 1500 messages visible on 10 tasks with a target of 100 per task is
/// 150 per task; after the high alarm's 3 one-minute datapoints, AAS sets 15 tasks.
#[test]
fn seed_002_1500_visible_on_10_tasks_scale_to_15_after_three_minutes() {
    let s = spec();
    let mut sc = scenario(&s, vec![(0, 1500)], 600);
    sc.initial_tasks = Some(10);
    // Slow messages keep the backlog at 1500 (10 in flight, 1490 visible).
    sc.ecs.processing = Processing::Fixed(3600.0);
    sc.ecs.start_latency = (20, 20);
    let r = simulate(&s, &sc);
    let first = &r.events[0];
    assert_eq!((first.from, first.to), (10, 15), "{:?}", r.events);
    assert_eq!(first.policy, "worker-backlog-per-task");
    // Minutes 0, 1 and 2 are published 20 s after they end; the evaluation at 3:30 is the
    // first with three datapoints.
    assert_eq!(first.second, 210);
    assert_eq!(r.timeline[3].visible + r.timeline[3].in_flight, 1500);
    assert_eq!(r.timeline[4].running, 15);
    assert!(
        r.events.iter().all(|e| e.to == 15),
        "15 × 100 per task holds the backlog at the target: {:?}",
        r.events
    );
}

#[test]
fn a_burst_at_zero_tasks_wakes_scales_out_drains_and_returns_to_zero() {
    let s = spec();
    let mut sc = scenario(&s, vec![(10, 1500)], 2 * 3600);
    sc.ecs.processing = Processing::Fixed(2.0);
    let r = simulate(&s, &sc);
    assert_conserved(&r);
    let sum = &r.summary;
    assert_eq!(sum.messages_processed, 1500);
    assert_eq!(sum.wakes, 1);
    assert!(sum.peak_tasks > 1, "target tracking adds tasks: {sum:?}");
    assert_eq!(r.events[0].policy, "worker-wake-from-zero");
    let last = r.events.last().expect("events");
    assert_eq!((last.policy.as_str(), last.to), ("worker-drain-to-zero", 0));
    assert_eq!(r.timeline.last().map(|m| m.running), Some(0));
    assert_eq!(sum.busy_tasks_stopped, 0);
}

/// With metrics on time, the first message at zero tasks has a running task within
/// three minutes (task start 60 s).
#[test]
fn a_message_at_zero_tasks_has_a_running_task_within_three_minutes() {
    let s = spec();
    let pairs: Vec<(u32, u32)> = (0..10).map(|i| (600 + i * 3600 + i * 7, 1)).collect();
    let mut sc = scenario(&s, pairs, 11 * 3600);
    sc.ecs.start_latency = (60, 60);
    let r = simulate(&s, &sc);
    assert_conserved(&r);
    assert_eq!(r.summary.wakes, 10);
    let max = r.summary.wake_latency_max_seconds.expect("wakes");
    assert!(max <= 180, "{max} s");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever arrives and however the service behaves: every message is processed or
    /// still queued at the end, and the desired count stays within the target's range.
    #[test]
    fn messages_are_conserved_and_capacity_stays_in_range(
        bursts in proptest::collection::vec((0u32..7000, 1u32..400), 0..12),
        seed in any::<u64>(),
        protect in any::<bool>(),
        processing in 0.05f64..30.0,
        min in 0i32..3,
        extra in 1i32..12,
        lag in 0u32..200,
    ) {
        let mut s = spec();
        s.owned_capacity = Some((min, min + extra));
        let mut sc = scenario(&s, bursts, 7200);
        sc.seed = seed;
        sc.ecs.protect_while_busy = protect;
        sc.ecs.processing = Processing::Exponential(processing);
        sc.ecs.cpu_metric_delay = Some(20 + lag);
        let r = simulate(&s, &sc);
        assert_conserved(&r);
        for m in &r.timeline {
            prop_assert!((min..=min + extra).contains(&m.desired), "{m:?}");
            prop_assert!(m.running as i32 <= min + extra, "{m:?}");
        }
        for e in &r.events {
            prop_assert!((min..=min + extra).contains(&e.to), "{e:?}");
        }
        prop_assert!(r.summary.peak_tasks as i32 <= min + extra);
        if protect {
            prop_assert_eq!(r.summary.busy_tasks_stopped, 0);
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let s = spec();
    let mut sc = scenario(&s, vec![(5, 300), (900, 40), (2000, 800)], 3 * 3600);
    sc.ecs.processing = Processing::Exponential(3.0);
    let a = simulate(&s, &sc);
    let b = simulate(&s, &sc);
    assert_eq!(a, b);
    sc.seed = 7;
    assert_ne!(simulate(&s, &sc).timeline, a.timeline);
}

/// The objects with the expression of query `id` in `owner` (an alarm or a target-tracking
/// policy) replaced: how the previous design's objects behave on the same scenario, so a
/// regression scenario is shown to catch the hole it guards against.
fn with_expression(mut o: Objects, owner: &str, id: &str, text: &str) -> Objects {
    use crate::scaling::model::{AlarmMetric, PolicyKind, QuerySource};
    let queries = o
        .alarms
        .iter_mut()
        .filter(|a| a.name == owner)
        .find_map(|a| match &mut a.metric {
            AlarmMetric::Math(q) => Some(q),
            AlarmMetric::Single(_) => None,
        })
        .or_else(|| {
            o.policies
                .iter_mut()
                .filter(|p| p.name == owner)
                .find_map(|p| match &mut p.kind {
                    PolicyKind::TargetTracking(t) => Some(&mut t.metrics),
                    PolicyKind::Step(_) => None,
                })
        })
        .expect("owner");
    let q = queries.iter_mut().find(|q| q.id == id).expect("query");
    q.source = QuerySource::Expression(text.into());
    o
}

/// The wake condition before the hardening: `FILL(tasks, 0)` alone.
const PREVIOUS_WAKE: &str = "IF(FILL(tasks, 0) == 0, waiting, 0)";
/// Target tracking's metric before the hardening: no datapoint at an empty queue.
const PREVIOUS_BACKLOG_PER_TASK: &str = "IF(tasks > 0 AND backlog > 0, backlog / tasks)";

/// A busy service: 15 tasks, more work than they finish, so messages are always visible.
fn busy_service(s: &BacklogSpec, cpu_delay: Option<u32>) -> Scenario {
    let pairs: Vec<(u32, u32)> = (0..1800).map(|t| (t, 20)).collect();
    let mut sc = scenario(s, pairs, 1800);
    sc.initial_tasks = Some(15);
    sc.ecs.processing = Processing::Fixed(1.0);
    sc.ecs.cpu_metric_delay = cpu_delay;
    sc
}

fn wake_events(r: &Report) -> Vec<&ScalingEvent> {
    r.events
        .iter()
        .filter(|e| e.policy == "worker-wake-from-zero")
        .collect()
}

fn wake_cuts(r: &Report) -> Vec<&ScalingEvent> {
    wake_events(r)
        .into_iter()
        .filter(|e| e.to < e.from)
        .collect()
}

/// ECS metric lags of 0 to 3 minutes behind SQS's, by half minutes.
const ECS_LAGS: [u32; 7] = [0, 30, 60, 90, 120, 150, 180];

/// Hardening issue, hole 1: `FILL(tasks, 0)` fills the newest minute, which a lagging ECS
/// metric has not reached, with 0 tasks. The wake condition also asks SQS, with the
/// backlog's own timing, whether anything consumes the queue (messages in flight, receive
/// calls): a busy service never looks idle, so the wake path never acts on it. Under the
/// previous condition any lag that put ECS's datapoint after the alarm's evaluation (SQS
/// publishes 20 s after the minute, alarms evaluate at 30 s) set 15 busy tasks to 1.
#[test]
fn wake_never_touches_a_busy_service_whatever_the_ecs_metric_lag() {
    let s = spec();
    for lag in ECS_LAGS {
        for protect in [false, true] {
            let mut sc = busy_service(&s, Some(20 + lag));
            sc.ecs.protect_while_busy = protect;
            let r = simulate(&s, &sc);
            assert!(wake_events(&r).is_empty(), "lag {lag} s: {:?}", r.events);
            assert!(
                r.timeline.iter().all(|m| m.desired >= 14),
                "lag {lag} s: {:?}",
                r.events
            );
        }
        let previous = with_expression(
            objects(&s),
            "worker-wake-from-zero",
            "waiting_at_zero_tasks",
            PREVIOUS_WAKE,
        );
        let r = run(&previous, &busy_service(&s, Some(20 + lag))).expect("runs");
        let cut = wake_cuts(&r).iter().any(|e| e.from >= 15 && e.to == 1);
        assert_eq!(cut, lag > 0, "previous design, lag {lag} s: {:?}", r.events);
    }
}

/// Hardening issue, hole 1, without a CPU metric (EC2 with `ECS_DISABLE_METRICS`): the
/// task count is missing in every minute, but the running workers show in SQS's metrics,
/// so the wake path leaves 15 busy tasks alone (the previous condition pinned them at
/// `wake_tasks`).
#[test]
fn wake_never_touches_a_running_service_that_publishes_no_cpu_metric() {
    let s = spec();
    let r = simulate(&s, &busy_service(&s, None));
    assert!(wake_events(&r).is_empty(), "{:?}", r.events);
    assert!(r.timeline.iter().all(|m| m.desired == 15), "{:?}", r.events);
    let previous = with_expression(
        objects(&s),
        "worker-wake-from-zero",
        "waiting_at_zero_tasks",
        PREVIOUS_WAKE,
    );
    let r = run(&previous, &busy_service(&s, None)).expect("runs");
    assert_eq!(
        wake_cuts(&r).first().map(|e| (e.from, e.to)),
        Some((15, 1)),
        "{:?}",
        r.events
    );
}

/// From 0 tasks without a CPU metric the wake starts `wake_tasks` once and then leaves
/// the service alone; target tracking has no task count, so the service stays there — the
/// remedy is `task_count_source = "container_insights"`, with which it scales out.
#[test]
fn without_a_task_count_the_wake_starts_one_task_once_and_container_insights_scales_out() {
    let s = spec();
    let mut sc = busy_service(&s, None);
    sc.initial_tasks = Some(0);
    sc.ecs.container_insights_delay = None;
    let r = simulate(&s, &sc);
    assert_eq!(wake_events(&r).len(), 1, "{:?}", r.events);
    assert_eq!(r.timeline.iter().map(|m| m.desired).max(), Some(1));
    let mut ci = spec();
    ci.task_count = TaskCountSource::ContainerInsights;
    sc.ecs.container_insights_delay = Some(20);
    let r = simulate(&ci, &sc);
    assert_eq!(wake_events(&r).len(), 1, "{:?}", r.events);
    assert_eq!(r.summary.peak_tasks, 50, "{:?}", r.events);
}

/// The consumer condition costs the wake nothing: from the first message at 0 tasks to a
/// running task stays within three minutes (task start 60 s) for every ECS metric lag,
/// also right after a drain, when the last task's datapoints are still arriving.
#[test]
fn a_message_at_zero_tasks_has_a_running_task_within_three_minutes_whatever_the_lag() {
    let s = spec();
    // Ten messages an hour apart, then ten just after each drain (15 idle minutes).
    let mut pairs: Vec<(u32, u32)> = (0..10).map(|i| (600 + i * 3600 + i * 7, 1)).collect();
    pairs.extend((0..10).map(|i| (600 + i * 3600 + 20 * 60 + i * 11, 1)));
    for lag in ECS_LAGS {
        let mut sc = scenario(&s, pairs.clone(), 11 * 3600);
        sc.ecs.start_latency = (60, 60);
        sc.ecs.cpu_metric_delay = Some(20 + lag);
        let r = simulate(&s, &sc);
        assert_conserved(&r);
        assert_eq!(r.summary.wakes, 20, "lag {lag} s");
        let max = r.summary.wake_latency_max_seconds.expect("wakes");
        assert!(max <= 180, "lag {lag} s: {max} s");
        assert!(wake_cuts(&r).is_empty(), "lag {lag} s: {:?}", r.events);
    }
}

/// The finding on `burst`: when the backlog drains, the previous target-tracking metric
/// stopped (no datapoint at an empty queue) and its high alarm, re-evaluating the last
/// breaching datapoints as CloudWatch documents, kept scaling out — to 50 tasks for an
/// empty queue. The metric now has a datapoint every minute a task runs: a scale-out
/// happens only while messages are there.
#[test]
fn a_drained_burst_adds_no_task_to_an_empty_queue() {
    let s = spec();
    let trace = trace::reference("burst").expect("burst");
    let mut sc = Scenario::new(names(&s), trace);
    sc.ecs.processing = Processing::Exponential(0.1);
    let r = simulate(&s, &sc);
    assert_conserved(&r);
    for e in r.events.iter().filter(|e| e.to > e.from) {
        let newest = &r.timeline[(e.second / 60 - 1) as usize];
        assert!(newest.visible + newest.in_flight > 0, "{e:?}: {newest:?}");
    }
    assert!(r.summary.peak_tasks <= 2, "{:?}", r.events);
    assert!(r.summary.task_minutes < 30.0, "{:?}", r.summary);
    let previous = with_expression(
        objects(&s),
        "worker-backlog-per-task",
        "backlog_per_task",
        PREVIOUS_BACKLOG_PER_TASK,
    );
    let old = run(&previous, &sc).expect("runs");
    assert_eq!(old.summary.peak_tasks, 50, "{:?}", old.events);
    assert!(old.summary.task_minutes > 10.0 * r.summary.task_minutes);
}

/// The drain's gauges are one sample a minute: on `trickle` (a message every 30 s,
/// processed in 0.1 s) almost every sample is 0, and the previous drain (visible + in
/// flight + delayed) stopped the service some 80 times a day, each next message waiting
/// for a wake. The minute's receive count keeps a trickle from looking idle.
#[test]
fn a_trickle_processed_between_samples_is_not_drained() {
    let s = spec();
    let mut sc = Scenario::new(names(&s), trace::reference("trickle").expect("trickle"));
    sc.ecs.processing = Processing::Exponential(0.1);
    let r = simulate(&s, &sc);
    assert_conserved(&r);
    assert_eq!(r.summary.wakes, 1, "{:?}", r.summary);
    assert!(r.summary.wait_p95_seconds < 1.0, "{:?}", r.summary);
    let previous = with_expression(
        objects(&s),
        "worker-drain-to-zero",
        "messages",
        "visible + in_flight + delayed",
    );
    let old = run(&previous, &sc).expect("runs");
    assert!(old.summary.wakes > 50, "{:?}", old.summary);
    assert!(old.summary.wait_p95_seconds > 60.0, "{:?}", old.summary);
}

/// An idle service with one task; a long message arrives in the minute CloudWatch has
/// not published yet, just before the drain alarm's 15th idle minute is evaluated.
fn drain_race(s: &BacklogSpec, protect: bool) -> Report {
    let mut sc = scenario(s, vec![(905, 1)], 3600);
    sc.initial_tasks = Some(1);
    sc.ecs.processing = Processing::Fixed(120.0);
    sc.ecs.protect_while_busy = protect;
    let r = simulate(s, &sc);
    assert_conserved(&r);
    assert_eq!(r.summary.messages_processed, 1);
    r
}

/// Hardening issue, hole 2: the drain alarm decides on the 15 newest published minutes,
/// all empty, while the message received at 15:05 is in flight. No alarm can see the
/// minute in progress, so without task protection `ExactCapacity = 0` stops the busy task
/// and the message comes back after the visibility timeout: one busy task stopped.
#[test]
fn drain_on_the_unpublished_minute_stops_a_busy_task_without_protection() {
    let r = drain_race(&spec(), false);
    let drain = r
        .events
        .iter()
        .find(|e| e.policy == "worker-drain-to-zero")
        .expect("the drain fires");
    assert_eq!((drain.second, drain.from, drain.to), (930, 1, 0));
    assert_eq!(r.summary.busy_tasks_stopped, 1);
    assert_eq!(r.summary.messages_redelivered, 1);
}

/// The same race with the shipped worker pattern (`examples/worker/`: task scale-in
/// protection while a message is held): ECS keeps the task until it has finished, then
/// stops it. No busy task stopped.
#[test]
fn drain_with_task_protection_stops_no_busy_task() {
    let r = drain_race(&spec(), true);
    assert_eq!(r.summary.busy_tasks_stopped, 0);
    assert_eq!(r.summary.messages_redelivered, 0);
    assert_eq!(r.summary.wait_max_seconds, 0.0);
    assert_eq!(
        r.timeline[17].running, 0,
        "stopped once the message is done"
    );
}

/// Busy tasks stopped on every reference trace, with and without task protection (mean
/// processing 1 s, and 30 s for long messages): none with protection; without it,
/// target tracking's scale-in and the drain pick tasks that hold a message.
#[test]
fn with_task_protection_no_reference_trace_stops_a_busy_task() {
    let s = spec();
    let mut unprotected = 0;
    for name in ["burst", "diurnal", "sparse", "spiky", "trickle"] {
        for mean in [1.0, 30.0] {
            for protect in [false, true] {
                let trace = trace::reference(name).expect("reference trace");
                let mut sc = Scenario::new(names(&s), trace);
                sc.ecs.processing = Processing::Exponential(mean);
                sc.ecs.protect_while_busy = protect;
                let r = simulate(&s, &sc);
                assert_conserved(&r);
                if protect {
                    assert_eq!(r.summary.busy_tasks_stopped, 0, "{name}, {mean} s");
                } else {
                    unprotected += r.summary.busy_tasks_stopped;
                }
            }
        }
    }
    assert!(
        unprotected > 0,
        "without protection, scale-in hits busy tasks"
    );
}

/// Hardening issue, hole 3: after six idle hours SQS stops publishing; the first message's
/// datapoints are 15 minutes late and nothing polls at 0 tasks, so the wake takes more
/// than 15 minutes. A keep-alive call every few hours keeps it at about two.
#[test]
fn wake_after_six_idle_hours_waits_for_late_sqs_metrics_unless_the_queue_is_kept_active() {
    let s = spec();
    let mut sc = scenario(&s, vec![(7 * 3600, 1)], 8 * 3600);
    sc.ecs.start_latency = (60, 60);
    let r = simulate(&s, &sc);
    let late = r.summary.wake_latency_max_seconds.expect("woke");
    assert!(late >= 15 * 60, "{late} s");
    sc.sqs.keep_active_every = Some(3 * 3600);
    let r = simulate(&s, &sc);
    let kept = r.summary.wake_latency_max_seconds.expect("woke");
    assert!(kept <= 180, "{kept} s");
}

#[test]
fn a_policy_reading_a_metric_nobody_publishes_is_warned_about() {
    let s = spec();
    let mut other = names(&s);
    other.queue = "other".into();
    let sc = Scenario::new(other, Trace::new(vec![(0, 1)], 600));
    let r = run(&objects(&s), &sc).expect("runs");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("ApproximateNumberOfMessagesVisible")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn a_bad_expression_names_its_alarm_query_and_position() {
    let s = spec();
    let mut o = objects(&s);
    let crate::scaling::model::AlarmMetric::Math(q) = &mut o.alarms[0].metric else {
        panic!("math alarm")
    };
    let last = q.last_mut().expect("queries");
    last.source = crate::scaling::model::QuerySource::Expression("IF(tasks ==, 1)".into());
    let e = run(&o, &scenario(&s, vec![], 60)).expect_err("fails");
    let SimError::Parse { owner, id, error } = e else {
        panic!("{e:?}")
    };
    assert_eq!(owner, "worker-wake-from-zero");
    assert_eq!(id, "waiting_at_zero_tasks");
    assert_eq!(error.pos, 11);
}

/// FIFO message groups bound the useful tasks: with two groups, two tasks at a time work
/// whatever the backlog, so a burst drains at two tasks' pace; the backlog policy still
/// scales out on the backlog, and the tasks beyond two only poll. Hence the FIFO advice in
/// the guide: cap `max_capacity` near the number of busy groups.
#[test]
fn fifo_message_groups_bound_how_many_tasks_work_at_once() {
    let s = spec();
    let drain = |groups: Option<u32>| {
        let mut sc = scenario(&s, vec![(0, 600)], 4 * 3600);
        sc.initial_tasks = Some(10);
        sc.ecs.processing = crate::sim::Processing::Fixed(5.0);
        sc.sqs.message_groups = groups;
        let r = simulate(&s, &sc);
        assert_conserved(&r);
        assert_eq!(r.summary.messages_processed, 600);
        r.summary
    };
    let free = drain(None);
    let fifo = drain(Some(2));
    // 600 messages × 5 s: about 300 s on ten tasks or more, at least 1500 s on two
    // groups (300 messages each, one at a time), whatever the tasks' start.
    assert!(free.wait_max_seconds <= 340.0, "{}", free.wait_max_seconds);
    assert!(
        (1495.0..=1560.0).contains(&fifo.wait_max_seconds),
        "{}",
        fifo.wait_max_seconds
    );
    assert!(
        fifo.peak_tasks > 2,
        "target tracking still scales on the backlog"
    );
}

/// The progress hook sees every simulated hour once, in order, and changes nothing.
#[test]
fn progress_is_reported_each_simulated_hour_without_changing_the_run() {
    let s = spec();
    let sc = scenario(&s, vec![(60, 100), (5 * 3600, 10)], 6 * 3600);
    let plain = simulate(&s, &sc);
    let mut seen = Vec::new();
    let observed = crate::sim::run_with_progress(&objects(&s), &sc, &mut |t| seen.push(t / 3600))
        .expect("runs");
    assert_eq!(observed.summary, plain.summary);
    assert_eq!(seen, (0..6).collect::<Vec<u32>>());
}
