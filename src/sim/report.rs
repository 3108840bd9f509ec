//! What a simulation returns: a per-minute timeline, the scaling events and a summary,
//! plus the wait-time histogram the summary's percentiles come from.

use serde::Serialize;

/// The state at the end of one minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Minute {
    /// Minute number from the start (the row describes its last second).
    pub minute: u32,
    /// The service's desired count.
    pub desired: i32,
    /// Tasks running.
    pub running: u32,
    /// Tasks launched but not running yet.
    pub starting: u32,
    /// Messages visible.
    pub visible: u32,
    /// Messages received and not deleted (held by a task or waiting out a visibility
    /// timeout).
    pub in_flight: u32,
    /// Messages delayed.
    pub delayed: u32,
    /// Age of the oldest visible message, seconds (0 when none).
    pub oldest_wait: u32,
    /// Messages that arrived in the minute.
    pub arrived: u32,
    /// Messages processed (deleted) in the minute.
    pub processed: u32,
}

/// One change of the desired count by a scaling policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalingEvent {
    /// Second of the change.
    pub second: u32,
    /// Desired count before.
    pub from: i32,
    /// Desired count after.
    pub to: i32,
    /// The policy that won.
    pub policy: String,
}

/// The figures of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Seconds simulated.
    pub duration_seconds: u32,
    /// Messages sent.
    pub messages_arrived: u64,
    /// Messages processed and deleted.
    pub messages_processed: u64,
    /// Messages visible, delayed or in flight at the end.
    pub messages_still_queued: u64,
    /// Task-minutes from launch to stop (what Fargate bills), starting tasks included.
    pub task_minutes: f64,
    /// Median wait from sending to the start of the processing that completed, seconds.
    pub wait_p50_seconds: f64,
    /// 95th percentile of that wait.
    pub wait_p95_seconds: f64,
    /// Longest such wait.
    pub wait_max_seconds: f64,
    /// Times a message arrived while no task ran.
    pub wakes: u32,
    /// Longest time from such a message to the first running task, seconds (`None`: no
    /// wake, or none completed).
    pub wake_latency_max_seconds: Option<u32>,
    /// Mean of those times.
    pub wake_latency_mean_seconds: Option<f64>,
    /// Changes of the desired count upwards.
    pub scale_out_events: u32,
    /// Changes downwards.
    pub scale_in_events: u32,
    /// Most tasks running at once.
    pub peak_tasks: u32,
    /// Tasks stopped while holding a message.
    pub busy_tasks_stopped: u64,
    /// Messages that became visible again because their task stopped.
    pub messages_redelivered: u64,
}

/// A full run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The figures.
    pub summary: Summary,
    /// Every change of the desired count.
    pub events: Vec<ScalingEvent>,
    /// One row per minute.
    pub timeline: Vec<Minute>,
    /// Things the simulated objects do that the simulation cannot see (metrics nobody
    /// publishes, alarms without a policy).
    pub warnings: Vec<String>,
}

/// Wait times in buckets: 0.1 s wide up to 10 minutes, 1 s wide up to a day, then one
/// bucket; exact maximum. Percentiles are a bucket's upper edge.
#[derive(Debug, Clone)]
pub(super) struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    max: f64,
}

const FINE: usize = 6000;
const COARSE: usize = 86_400 - 600;

impl Histogram {
    pub(super) fn new() -> Histogram {
        Histogram {
            buckets: vec![0; FINE + COARSE + 1],
            count: 0,
            max: 0.0,
        }
    }

    fn index(wait: f64) -> usize {
        let w = wait.max(0.0);
        if w < 600.0 {
            ((w * 10.0) as usize).min(FINE - 1)
        } else {
            (FINE + (w - 600.0) as usize).min(FINE + COARSE)
        }
    }

    fn upper_edge(i: usize) -> f64 {
        if i < FINE {
            (i + 1) as f64 / 10.0
        } else {
            600.0 + (i - FINE + 1) as f64
        }
    }

    pub(super) fn add(&mut self, wait: f64) {
        self.buckets[Self::index(wait)] += 1;
        self.count += 1;
        self.max = self.max.max(wait);
    }

    /// The `q` quantile (0–1), 0 when empty; never above the maximum.
    pub(super) fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::upper_edge(i).min(self.max);
            }
        }
        self.max
    }

    pub(super) fn max(&self) -> f64 {
        self.max
    }
}

fn secs(x: f64) -> String {
    if x < 600.0 {
        format!("{x:.1} s")
    } else {
        format!("{:.1} min", x / 60.0)
    }
}

impl Summary {
    /// The summary as an aligned two-column table.
    pub fn table(&self) -> String {
        let wake = match (
            self.wake_latency_max_seconds,
            self.wake_latency_mean_seconds,
        ) {
            (Some(max), Some(mean)) => format!("max {max} s, mean {mean:.0} s"),
            _ => "—".into(),
        };
        let rows: Vec<(&str, String)> = vec![
            ("simulated", secs(f64::from(self.duration_seconds))),
            ("messages arrived", self.messages_arrived.to_string()),
            ("messages processed", self.messages_processed.to_string()),
            (
                "messages still queued",
                self.messages_still_queued.to_string(),
            ),
            ("task-minutes", format!("{:.1}", self.task_minutes)),
            ("wait p50", secs(self.wait_p50_seconds)),
            ("wait p95", secs(self.wait_p95_seconds)),
            ("wait max", secs(self.wait_max_seconds)),
            ("wakes from zero", self.wakes.to_string()),
            ("wake latency", wake),
            ("scale-out events", self.scale_out_events.to_string()),
            ("scale-in events", self.scale_in_events.to_string()),
            ("peak tasks", self.peak_tasks.to_string()),
            ("busy tasks stopped", self.busy_tasks_stopped.to_string()),
            (
                "messages redelivered",
                self.messages_redelivered.to_string(),
            ),
        ];
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        rows.iter()
            .map(|(k, v)| format!("{k:<width$}  {v}\n"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_bucket_edges_capped_by_the_maximum() {
        let mut h = Histogram::new();
        assert_eq!(h.quantile(0.5), 0.0);
        for w in [0.05, 1.0, 2.0, 3.0, 700.5] {
            h.add(w);
        }
        assert_eq!(h.quantile(0.5), 2.1);
        assert_eq!(h.quantile(0.95), 700.5);
        assert_eq!(h.max(), 700.5);
        assert_eq!(h.quantile(0.0), 0.1);
    }
}
