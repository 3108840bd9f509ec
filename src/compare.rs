//! The comparison `make bench` reports: one service scaled five ways on every reference
//! trace — the default `queuescale_sqs_backlog_scaling_policy`, source document 000's two
//! CDK `scaleOnMetric` step policies, a KEDA-like poller (`sim::keda`) and the default steps
//! of CDK's `QueueProcessingFargateService` — with the same workload for all.
//!
//! The policies are planned from their HCL arguments by the resources themselves
//! ([`crate::simulate::plan_policy`]), so what runs is what `compile` produces today.

use std::fmt::Write as _;

use crate::sim::keda::KedaSqs;
use crate::sim::{self, Names, Objects, Summary, trace};
use crate::simulate::{self, Planned, Workload};

/// Fewest and most tasks, for every contender (source document 000's range).
pub const CAPACITY: (u32, u32) = (0, 50);

/// Mean processing time per message, seconds (source document 002's 0.1 s).
pub const PROCESSING_SECONDS: f64 = 0.1;

const QUEUE: &str = "jobs";

/// The default backlog policy: source document 002's 10 s acceptable latency and 0.1 s per
/// message (a target of 100), everything else at the resource's defaults.
const BACKLOG: &str = r#"{
    "name": "worker", "queue_name": "jobs", "cluster_name": "main",
    "service_name": "worker", "min_capacity": 0, "max_capacity": 50,
    "acceptable_latency_seconds": 10, "average_processing_seconds": 0.1
}"#;

/// The same with `keep_queue_active` (its schedule every five hours, the default).
const BACKLOG_KEPT_ACTIVE: &str = r#"{
    "name": "worker", "queue_name": "jobs", "cluster_name": "main",
    "service_name": "worker", "min_capacity": 0, "max_capacity": 50,
    "acceptable_latency_seconds": 10, "average_processing_seconds": 0.1,
    "keep_queue_active": {"role_arn": "arn:aws:iam::123456789012:role/keep-queue-active"}
}"#;

/// `queue.metricApproximateNumberOfMessagesVisible()` in CDK: Maximum over 5 minutes.
const CDK_VISIBLE: &str = r#"{"namespace": "AWS/SQS",
    "metric_name": "ApproximateNumberOfMessagesVisible", "dimensions": {"QueueName": "jobs"},
    "statistic": "Maximum", "period_seconds": 300}"#;

/// Source document 000's first policy: change-in-capacity steps, 60 s cooldown.
fn seed_000_initial() -> String {
    format!(
        r#"{{"name": "scaling-initial-by-queue-metric", "scalable_target_id": "service/main/worker",
            "metric": {CDK_VISIBLE}, "adjustment_type": "ChangeInCapacity", "cooldown_seconds": 60,
            "step": [{{"upper": 0, "change": -1}}, {{"lower": 1, "change": 1}},
                     {{"lower": 5, "change": 3}}, {{"lower": 10, "change": 5}}]}}"#
    )
}

/// Source document 000's second policy: percent steps, 60 s cooldown.
fn seed_000_high() -> String {
    format!(
        r#"{{"name": "scaling-high-by-queue-metric", "scalable_target_id": "service/main/worker",
            "metric": {CDK_VISIBLE}, "adjustment_type": "PercentChangeInCapacity",
            "cooldown_seconds": 60,
            "step": [{{"upper": 10, "change": -10}}, {{"lower": 15, "change": 67}}]}}"#
    )
}

/// CDK `QueueProcessingFargateService`'s default `scalingSteps` on the same metric, no
/// cooldown given (AWS's default applies).
fn cdk_queue_processing() -> String {
    format!(
        r#"{{"name": "QueueMessagesVisibleScaling", "scalable_target_id": "service/main/worker",
            "metric": {CDK_VISIBLE},
            "step": [{{"upper": 0, "change": -1}}, {{"lower": 100, "change": 1}},
                     {{"lower": 500, "change": 5}}]}}"#
    )
}

/// What scales the service.
pub enum Scaler {
    /// Compiled objects run by the simulated CloudWatch and Application Auto Scaling.
    Objects(Objects),
    /// The KEDA-like poller, on a target with no policies.
    Keda(Objects, KedaSqs),
}

/// One way of scaling the service.
pub struct Contender {
    /// Its name in the table.
    pub name: &'static str,
    /// What it is, for the notes under the table.
    pub description: &'static str,
    /// The scaler.
    pub scaler: Scaler,
    /// Seconds between the calls of its `keep_queue_active` schedule, if it has one.
    pub keep_active_every: Option<u32>,
}

fn plan(json: &str) -> Result<Planned, String> {
    simulate::plan_policy(json, Some(CAPACITY), Some(QUEUE)).map_err(|e| e.join("; "))
}

/// The five contenders, planned by the resources.
///
/// # Errors
/// A policy that does not plan (a compiler or resource change that breaks one).
pub fn contenders() -> Result<Vec<Contender>, String> {
    let backlog = plan(BACKLOG)?;
    let kept = plan(BACKLOG_KEPT_ACTIVE)?;
    let mut seed = plan(&seed_000_initial())?;
    let high = plan(&seed_000_high())?;
    seed.objects.policies.extend(high.objects.policies);
    seed.objects.alarms.extend(high.objects.alarms);
    let qpfs = plan(&cdk_queue_processing())?;
    let keda_target = Objects {
        target: backlog.objects.target.clone(),
        policies: Vec::new(),
        alarms: Vec::new(),
    };
    Ok(vec![
        Contender {
            name: "queuescale backlog policy",
            description: "`queuescale_sqs_backlog_scaling_policy` with acceptable_latency_seconds = 10 \
                 and average_processing_seconds = 0.1 (a target of 100), every other argument \
                 at its default",
            scaler: Scaler::Objects(backlog.objects),
            keep_active_every: None,
        },
        Contender {
            name: "queuescale backlog policy, queue kept active",
            description: "the same with `keep_queue_active`: its schedule reads the queue \
                 every five hours, so SQS never stops publishing its metrics",
            keep_active_every: kept.keep_queue_active_every,
            scaler: Scaler::Objects(kept.objects),
        },
        Contender {
            name: "CDK steps (document 000)",
            description: "the two `scaleOnMetric` policies of source document 000 on \
                 `ApproximateNumberOfMessagesVisible`, Maximum over 5 minutes: steps \
                 {upper 0: −1} {lower 1: +1} {lower 5: +3} {lower 10: +5} and \
                 {upper 10: −10 %} {lower 15: +67 %}, cooldown 60 s each, both on the service",
            scaler: Scaler::Objects(seed.objects),
            keep_active_every: None,
        },
        Contender {
            name: "KEDA-like poller",
            description: "KEDA's `aws-sqs-queue` trigger with queueLength 5, \
                 activationQueueLength 0, pollingInterval 30 s, cooldownPeriod 300 s, \
                 minReplicaCount 0, and the HPA's defaults (see `src/sim/keda.rs`)",
            scaler: Scaler::Keda(keda_target, KedaSqs::default()),
            keep_active_every: None,
        },
        Contender {
            name: "CDK QueueProcessingFargateService steps",
            description: "the default `scalingSteps` of CDK's `QueueProcessingFargateService`, \
                 {upper 0: −1} {lower 100: +1} {lower 500: +5}, on the same metric, no cooldown \
                 given (the simulator takes 300 s), with the range set to 0–50 (CDK's own default range is 1–2 \
                 tasks, with a CPU target-tracking policy beside the steps, not modelled here)",
            scaler: Scaler::Objects(qpfs.objects),
            keep_active_every: None,
        },
    ])
}

/// The workload every contender runs: the simulator's defaults (start latency 30–90 s,
/// metrics 20 s after their minute, visibility timeout 30 s, seed 2) with exponential
/// processing times around [`PROCESSING_SECONDS`].
pub fn workload() -> Workload {
    Workload {
        processing_seconds: Some(PROCESSING_SECONDS),
        ..Workload::default()
    }
}

/// One cell of the comparison.
pub struct Row {
    /// The reference trace.
    pub trace: &'static str,
    /// The contender's name.
    pub contender: &'static str,
    /// The figures.
    pub summary: Summary,
}

/// Runs every contender on every trace named in `traces`.
///
/// # Errors
/// An unknown trace, a contender that does not plan, or a simulation that fails.
pub fn run(traces: &[&'static str]) -> Result<Vec<Row>, String> {
    let contenders = contenders()?;
    let names = Names {
        queue: QUEUE.into(),
        cluster: "main".into(),
        service: "worker".into(),
    };
    let mut rows = Vec::new();
    for &name in traces {
        let t = trace::reference(name).ok_or_else(|| format!("no reference trace {name:?}"))?;
        let sc = workload().scenario_for(names.clone(), Some(PROCESSING_SECONDS), t)?;
        for c in &contenders {
            let mut sc = sc.clone();
            sc.sqs.keep_active_every = c.keep_active_every;
            let report = match &c.scaler {
                Scaler::Objects(o) => sim::run(o, &sc),
                Scaler::Keda(o, k) => sim::run_with(o, &sc, Some(&mut k.clone())),
            }
            .map_err(|e| format!("{} on {name}: {e}", c.name))?;
            if let Some(w) = report.warnings.first() {
                return Err(format!("{} on {name}: {w}", c.name));
            }
            rows.push(Row {
                trace: name,
                contender: c.name,
                summary: report.summary,
            });
        }
    }
    Ok(rows)
}

/// Every reference trace's name.
pub fn reference_traces() -> Vec<&'static str> {
    trace::REFERENCE.iter().map(|(n, _)| *n).collect()
}

fn wait(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

/// The rows as a Markdown table, one line per trace and contender.
pub fn markdown(rows: &[Row]) -> String {
    let mut md = String::from(
        "| Trace | Scaler | Task-minutes | Wait p95 | Wait max | Wake latency (mean / max) | \
         Busy tasks stopped | Peak tasks | Still queued |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let s = &r.summary;
        let wake = match (s.wake_latency_mean_seconds, s.wake_latency_max_seconds) {
            (Some(mean), Some(max)) => format!("{mean:.0} s / {max} s ({} wakes)", s.wakes),
            _ if s.wakes > 0 => format!("never woke ({} waits)", s.wakes),
            _ => "—".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {:.0} | {} | {} | {wake} | {} | {} | {} |",
            r.trace,
            r.contender,
            s.task_minutes,
            wait(s.wait_p95_seconds),
            wait(s.wait_max_seconds),
            s.busy_tasks_stopped,
            s.peak_tasks,
            s.messages_still_queued,
        );
    }
    md
}

/// The notes under the table: what each contender is and what every run shares.
pub fn notes() -> Result<String, String> {
    let mut md = String::new();
    for c in contenders()? {
        let _ = writeln!(md, "- **{}**: {}.", c.name, c.description);
    }
    let w = workload();
    let _ = writeln!(
        md,
        "- Every run: {}–{} tasks, starting at 0; tasks start {}–{} s after launch; one \
         message at a time, exponential processing times around {} s; SQS metrics readable \
         {} s after their minute, ECS's at the same time; visibility timeout {} s; no task \
         protection; seed {}.",
        CAPACITY.0,
        CAPACITY.1,
        w.start_latency.0,
        w.start_latency.1,
        PROCESSING_SECONDS,
        w.sqs_metric_delay,
        w.visibility_timeout,
        w.seed
    );
    Ok(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contender_plans_and_runs_the_burst() {
        let rows = run(&["burst"]).expect("runs");
        assert_eq!(rows.len(), 5);
        for r in &rows {
            let s = &r.summary;
            assert_eq!(s.messages_arrived, 1500, "{}", r.contender);
            assert_eq!(
                s.messages_arrived,
                s.messages_processed + s.messages_still_queued,
                "{}",
                r.contender
            );
            assert!(s.peak_tasks <= CAPACITY.1, "{}", r.contender);
        }
        let keda = rows
            .iter()
            .find(|r| r.contender == "KEDA-like poller")
            .expect("keda");
        // KEDA reads the queue directly: it wakes within one polling interval plus the
        // start latency.
        let wake = keda.summary.wake_latency_max_seconds.expect("wakes");
        assert!(wake <= 30 + 90, "{wake}");
        let table = markdown(&rows);
        assert_eq!(table.lines().count(), 2 + 5, "{table}");
    }

    #[test]
    fn the_seed_000_contender_holds_both_policies() {
        let c = contenders().expect("plans");
        let Scaler::Objects(o) = &c[2].scaler else {
            panic!("objects")
        };
        assert_eq!(o.policies.len(), 4, "two alarms and two policies each");
        assert_eq!(o.alarms.len(), 4);
        assert!(notes().expect("notes").contains("KEDA"));
    }
}
