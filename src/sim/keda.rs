//! A KEDA-like scaler for comparison: KEDA's `aws-sqs-queue` trigger on a ScaledObject,
//! with the Kubernetes Horizontal Pod Autoscaler it drives, applied to the desired count of
//! the simulated service. A small model of what KEDA and Kubernetes document, not of their
//! code.
//!
//! Sources: KEDA documentation, *ScaledObject specification* (`pollingInterval` 30 s,
//! `cooldownPeriod` 300 s, `minReplicaCount` 0) and *AWS SQS Queue* scaler (`queueLength`
//! 5, `activationQueueLength` 0, "actual messages" = `ApproximateNumberOfMessages` +
//! `ApproximateNumberOfMessagesNotVisible` with `scaleOnInFlight` true, `scaleOnDelayed`
//! false); Kubernetes documentation, *Horizontal Pod Autoscaling* (the algorithm
//! `desired = ceil(current × metric ÷ target)`, tolerance 0.1, a 15 s sync period, and the
//! default `behavior`: scale-down stabilized over 300 s, scale-up by at most 100 % or 4 pods
//! per 15 s, whichever is more).

use std::collections::VecDeque;

use super::engine::{Poller, QueueView};

/// The scaler's settings, with KEDA's and the HPA's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaSqs {
    /// `queueLength`: messages one replica should have ("if one pod can handle 10
    /// messages, set the queue length target to 10").
    pub queue_length: f64,
    /// `activationQueueLength`: the scaler is active above this many messages.
    pub activation_queue_length: f64,
    /// `scaleOnInFlight`: count messages in flight.
    pub scale_on_in_flight: bool,
    /// `scaleOnDelayed`: count delayed messages.
    pub scale_on_delayed: bool,
    /// `pollingInterval`, seconds: how often KEDA checks its triggers (and decides 0 ↔ 1).
    pub polling_interval: u32,
    /// `cooldownPeriod`, seconds: how long after the trigger was last active KEDA scales
    /// back to 0.
    pub cooldown_period: u32,
    /// HPA sync period, seconds (`--horizontal-pod-autoscaler-sync-period`).
    pub hpa_sync_period: u32,
    /// HPA tolerance: no change while `|metric ÷ target − 1|` is at most this.
    pub hpa_tolerance: f64,
    /// HPA default `scaleDown.stabilizationWindowSeconds`.
    pub hpa_scale_down_window: u32,
    /// Recommendations of the HPA inside the stabilization window: (second, replicas).
    recommendations: VecDeque<(u32, i32)>,
    /// Last second the trigger was active.
    last_active: Option<u32>,
}

impl Default for KedaSqs {
    fn default() -> Self {
        KedaSqs {
            queue_length: 5.0,
            activation_queue_length: 0.0,
            scale_on_in_flight: true,
            scale_on_delayed: false,
            polling_interval: 30,
            cooldown_period: 300,
            hpa_sync_period: 15,
            hpa_tolerance: 0.1,
            hpa_scale_down_window: 300,
            recommendations: VecDeque::new(),
            last_active: None,
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl KedaSqs {
    /// The scaler's "actual messages".
    fn metric(&self, q: QueueView) -> f64 {
        let mut m = f64::from(q.visible);
        if self.scale_on_in_flight {
            m += f64::from(q.in_flight);
        }
        if self.scale_on_delayed {
            m += f64::from(q.delayed);
        }
        m
    }

    /// One HPA sync at `now` with `current` replicas (at least 1): the recommendation
    /// `ceil(metric ÷ queueLength)` (an `AverageValue` target: current × (metric ÷ current)
    /// ÷ target), kept when within the tolerance; scale-down takes the highest
    /// recommendation of the stabilization window; scale-up is limited to
    /// `max(2 × current, current + 4)`. The HPA's minimum is 1 (KEDA handles 0).
    fn hpa(&mut self, now: u32, metric: f64, current: i32) -> i32 {
        let ratio = metric / (self.queue_length * f64::from(current));
        let recommended = if (ratio - 1.0).abs() <= self.hpa_tolerance {
            current
        } else {
            ((metric / self.queue_length).ceil() as i32).max(1)
        };
        self.recommendations.push_back((now, recommended));
        while let Some(&(at, _)) = self.recommendations.front() {
            if now - at < self.hpa_scale_down_window {
                break;
            }
            self.recommendations.pop_front();
        }
        if recommended >= current {
            let limit = (current.saturating_mul(2)).max(current.saturating_add(4));
            recommended.min(limit)
        } else {
            let stabilized = self
                .recommendations
                .iter()
                .map(|(_, r)| *r)
                .max()
                .unwrap_or(recommended);
            stabilized.min(current)
        }
    }
}

impl Poller for KedaSqs {
    fn name(&self) -> &str {
        "keda"
    }

    fn tick(&self) -> u32 {
        gcd(self.polling_interval, self.hpa_sync_period).max(1)
    }

    /// Every `pollingInterval`, KEDA checks the trigger: active (more than
    /// `activationQueueLength` messages) at 0 replicas scales to 1; inactive for
    /// `cooldownPeriod` since it was last active scales to 0. Every HPA sync period, with
    /// at least one replica, the HPA sets the count.
    ///
    /// **Assumption**: the HPA and KEDA start their periods at second 0, and a scale to 0
    /// also empties the HPA's window (the HPA is disabled at 0 replicas).
    fn decide(&mut self, now: u32, queue: QueueView, desired: i32) -> Option<i32> {
        let metric = self.metric(queue);
        if now.is_multiple_of(self.polling_interval.max(1)) {
            let active = metric > self.activation_queue_length;
            if active {
                self.last_active = Some(now);
            }
            if desired == 0 && active {
                return Some(1);
            }
            let cooled = self
                .last_active
                .is_none_or(|at| now - at >= self.cooldown_period);
            if desired > 0 && !active && cooled {
                self.recommendations.clear();
                return Some(0);
            }
        }
        if desired >= 1 && now.is_multiple_of(self.hpa_sync_period.max(1)) {
            let next = self.hpa(now, metric, desired);
            return (next != desired).then_some(next);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(visible: u32, in_flight: u32) -> QueueView {
        QueueView {
            visible,
            in_flight,
            delayed: 0,
        }
    }

    #[test]
    fn activation_wakes_at_a_polling_interval_only() {
        let mut k = KedaSqs::default();
        assert_eq!(k.tick(), 15);
        assert_eq!(k.decide(15, q(1, 0), 0), None, "not a polling second");
        assert_eq!(k.decide(30, q(1, 0), 0), Some(1));
    }

    #[test]
    fn the_hpa_aims_at_queue_length_per_replica_and_limits_scale_up() {
        let mut k = KedaSqs::default();
        // 30 messages: 6 replicas, but from 1 at most max(2, 5) = 5 at once.
        assert_eq!(k.decide(15, q(30, 0), 1), Some(5));
        assert_eq!(k.decide(45, q(30, 0), 5), Some(6));
        // Within the tolerance: 6 replicas for 31 messages stay (31/30 − 1 < 0.1).
        assert_eq!(k.decide(75, q(31, 0), 6), None);
        // In-flight messages count.
        let mut k = KedaSqs::default();
        assert_eq!(k.decide(15, q(0, 10), 1), Some(2));
    }

    #[test]
    fn scale_down_waits_for_the_stabilization_window() {
        let mut k = KedaSqs::default();
        assert_eq!(k.decide(15, q(50, 0), 10), None, "50 / 5 = 10");
        // The queue shrinks to 10 messages: the window still holds 10 replicas.
        for s in (45..300).step_by(30) {
            assert_eq!(k.decide(s, q(10, 0), 10), None, "second {s}");
        }
        // Once the recommendation of second 15 leaves the 300 s window: 2.
        assert_eq!(k.decide(315, q(10, 0), 10), Some(2));
    }

    #[test]
    fn scale_to_zero_after_the_cooldown_since_last_active() {
        let mut k = KedaSqs::default();
        assert_eq!(k.decide(30, q(3, 0), 0), Some(1));
        assert_eq!(k.decide(60, q(0, 0), 1), None, "cooling down");
        assert_eq!(k.decide(300, q(0, 0), 1), None, "270 s since active");
        assert_eq!(k.decide(330, q(0, 0), 1), Some(0));
        // A busy replica keeps the trigger active: in flight counts.
        let mut k = KedaSqs::default();
        k.decide(30, q(1, 0), 0);
        assert_eq!(k.decide(600, q(0, 1), 1), None);
    }
}
