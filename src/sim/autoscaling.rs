//! Application Auto Scaling as the simulation runs it: the capacity a step policy or a
//! target-tracking policy asks for when its alarm fires, cooldowns, and clamping. Pure
//! arithmetic on capacities; the engine decides when it is called.
//!
//! Sources: Application Auto Scaling user guide, "Step scaling policies" (step
//! adjustments, adjustment types, rounding, `MinAdjustmentMagnitude`, cooldown) and
//! "Target tracking scaling policies"; the PutScalingPolicy API reference.

use crate::scaling::model::{Comparison, StepPolicy};
use crate::scaling::steps::{AdjustmentType, AggregationType};

/// **Assumption**: the cooldown when a policy sets none. The PutScalingPolicy reference
/// gives 300 seconds as the default for ECS services.
pub const DEFAULT_COOLDOWN: u32 = 300;

/// The step adjustment that applies to `value` for an alarm at `threshold`, and its
/// `ScalingAdjustment`.
///
/// "If the metric value is above the breach threshold, the lower bound is inclusive and the
/// upper bound is exclusive. If the metric value is below the breach threshold, the lower
/// bound is exclusive and the upper bound is inclusive." A null lower bound is −∞, a null
/// upper bound +∞. **Assumption**: a value exactly at the threshold follows the alarm's
/// side (a `>=` alarm's value counts as above, a `<=` alarm's as below), so `[0, +∞)` of a
/// `>=` alarm and `(−∞, 0]` of a `<=` alarm both contain it.
pub fn step_for(
    policy: &StepPolicy,
    comparison: Comparison,
    threshold: f64,
    value: f64,
) -> Option<i32> {
    let diff = value - threshold;
    let above = diff > 0.0
        || (diff == 0.0 && matches!(comparison, Comparison::GreaterOrEqual | Comparison::Greater));
    policy.steps.iter().find_map(|s| {
        let lo = s.lower_bound.unwrap_or(f64::NEG_INFINITY);
        let hi = s.upper_bound.unwrap_or(f64::INFINITY);
        let inside = if above {
            lo <= diff && diff < hi
        } else {
            lo < diff && diff <= hi
        };
        inside.then_some(s.scaling_adjustment)
    })
}

/// `MetricAggregationType` over the alarm's datapoints (Average when unset, as AWS does).
pub fn aggregate(kind: Option<AggregationType>, values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match kind.unwrap_or(AggregationType::Average) {
        AggregationType::Average => values.iter().sum::<f64>() / values.len() as f64,
        AggregationType::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
        AggregationType::Maximum => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// The capacity an adjustment asks for from `current`, before clamping.
///
/// `PercentChangeInCapacity` rounds as the guide says: "values greater than 1 are rounded
/// down, values between 0 and 1 are rounded to 1, values between 0 and −1 are rounded to
/// −1, values less than −1 are rounded up"; then `MinAdjustmentMagnitude` is the least
/// change. **Assumption**: a change of exactly 0 (a percentage of 0 tasks) stays 0, also
/// with `MinAdjustmentMagnitude`, so a percent policy cannot wake a service from 0.
pub fn adjusted(
    kind: AdjustmentType,
    current: i32,
    adjustment: i32,
    min_magnitude: Option<i32>,
) -> i32 {
    match kind {
        AdjustmentType::ChangeInCapacity => current.saturating_add(adjustment),
        AdjustmentType::ExactCapacity => adjustment,
        AdjustmentType::PercentChangeInCapacity => {
            let raw = f64::from(current) * f64::from(adjustment) / 100.0;
            let mut delta = if raw == 0.0 {
                0
            } else if raw > 0.0 && raw < 1.0 {
                1
            } else if raw < 0.0 && raw > -1.0 {
                -1
            } else {
                raw.trunc() as i32
            };
            if let Some(m) = min_magnitude
                && delta != 0
                && delta.abs() < m
            {
                delta = m * delta.signum();
            }
            current.saturating_add(delta)
        }
    }
}

/// `ceil(x)` that forgives floating-point noise just above a whole number, so
/// 10 × 150 ÷ 100 is 15 and not 16.
fn ceil(x: f64) -> i32 {
    (x - 1e-9).ceil() as i32
}

/// Target tracking's scale-out: "proportional" — `ceil(current × metric ÷ target)`; from 0
/// tasks AAS "waits for one data point … before scaling out by the minimum possible
/// amount", i.e. to 1.
pub fn tracking_out(current: i32, metric: f64, target: f64) -> i32 {
    if current == 0 {
        return 1;
    }
    ceil(f64::from(current) * metric / target)
}

/// **Assumption**: the largest share of the capacity one target-tracking scale-in removes.
/// AAS "scales in more gradually" than it scales out but publishes no rate; we remove at
/// most 10 % of the capacity (at least one task) per scale-in.
pub const TRACKING_SCALE_IN_SHARE: f64 = 0.1;

/// Target tracking's scale-in: towards `ceil(current × metric ÷ target)`, by at most
/// [`TRACKING_SCALE_IN_SHARE`] of the capacity.
pub fn tracking_in(current: i32, metric: f64, target: f64) -> i32 {
    let proportional = ceil(f64::from(current) * metric / target);
    let step = ((f64::from(current) * TRACKING_SCALE_IN_SHARE).floor() as i32).max(1);
    proportional.max(current - step)
}

/// Cooldown state of one policy.
///
/// "While the cooldown period is in effect, capacity added by the initiating scale-out
/// activity is calculated as part of the desired capacity for the next scale-out": a
/// scale-out during its cooldown is computed from the capacity before the initiating one
/// and applies only when that is larger. "Scale-in activities are blocked until the
/// cooldown period has expired. However, if another alarm triggers a scale-out activity
/// during the cooldown period after a scale-in activity, Application Auto Scaling scales out
/// the target immediately … the cooldown period for the scale-in activity stops."
#[derive(Debug, Clone, Copy, Default)]
pub struct Cooldown {
    /// End of the scale-out cooldown, and the capacity before the scale-out that began it.
    pub out: Option<(u32, i32)>,
    /// End of the scale-in cooldown.
    pub in_until: u32,
}

impl Cooldown {
    /// The capacity a scale-out should be computed from at `now`.
    pub fn base(&self, now: u32, current: i32) -> i32 {
        match self.out {
            Some((until, base)) if now < until => base,
            _ => current,
        }
    }

    /// Whether a scale-in may happen at `now`.
    pub fn may_scale_in(&self, now: u32) -> bool {
        now >= self.in_until
    }

    /// Records a scale-out from `before` at `now`.
    pub fn scaled_out(&mut self, now: u32, before: i32, cooldown: u32) {
        let base = self.base(now, before);
        self.out = Some((now + cooldown, base));
    }

    /// Records a scale-in at `now`.
    pub fn scaled_in(&mut self, now: u32, cooldown: u32) {
        self.in_until = now + cooldown;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::steps::StepAdjustment;

    fn steps(list: &[(Option<f64>, Option<f64>, i32)]) -> StepPolicy {
        StepPolicy {
            adjustment_type: AdjustmentType::PercentChangeInCapacity,
            cooldown: None,
            aggregation: None,
            min_adjustment_magnitude: None,
            steps: list
                .iter()
                .map(
                    |&(lower_bound, upper_bound, scaling_adjustment)| StepAdjustment {
                        lower_bound,
                        upper_bound,
                        scaling_adjustment,
                    },
                )
                .collect(),
        }
    }

    /// The guide's example: threshold 50 %, scale-out steps [0,10) 0, [10,20) +10 %,
    /// [20,∞) +30 %; scale-in steps (−10,0] 0, (−20,−10] −10 %, (−∞,−20] −30 %.
    #[test]
    fn the_guides_step_example() {
        let out = steps(&[
            (Some(0.0), Some(10.0), 0),
            (Some(10.0), Some(20.0), 10),
            (Some(20.0), None, 30),
        ]);
        let inn = steps(&[
            (Some(-10.0), Some(0.0), 0),
            (Some(-20.0), Some(-10.0), -10),
            (None, Some(-20.0), -30),
        ]);
        let ge = Comparison::GreaterOrEqual;
        let le = Comparison::LessOrEqual;
        assert_eq!(step_for(&out, ge, 50.0, 55.0), Some(0));
        assert_eq!(
            step_for(&out, ge, 50.0, 60.0),
            Some(10),
            "lower bound inclusive"
        );
        assert_eq!(step_for(&out, ge, 50.0, 70.0), Some(30));
        assert_eq!(
            step_for(&inn, le, 50.0, 40.0),
            Some(-10),
            "upper bound inclusive"
        );
        assert_eq!(step_for(&inn, le, 50.0, 30.0), Some(-30));
        let pct = AdjustmentType::PercentChangeInCapacity;
        // "add 10 percent of 10" → 11; "30 percent of 11, 3.3, rounded down to 3" → 14.
        assert_eq!(adjusted(pct, 10, 10, None), 11);
        assert_eq!(adjusted(pct, 11, 30, None), 14);
        // "remove 10 percent of 14, 1.4, rounded down to 1" → 13; "30 percent of 13, 3.9,
        // rounded down to 3" → 10.
        assert_eq!(adjusted(pct, 14, -10, None), 13);
        assert_eq!(adjusted(pct, 13, -30, None), 10);
    }

    #[test]
    fn percent_rounding_and_min_adjustment_magnitude() {
        let pct = AdjustmentType::PercentChangeInCapacity;
        assert_eq!(adjusted(pct, 1, 67, None), 2, "0.67 rounds to 1");
        assert_eq!(adjusted(pct, 1, -58, None), 0, "-0.58 rounds to -1");
        assert_eq!(adjusted(pct, 10, -67, None), 4, "-6.7 rounds up to -6");
        assert_eq!(adjusted(pct, 10, 127, None), 22, "12.7 rounds down to 12");
        // "adds 25 percent … minimum amount of 2 … capacity of 4 … adds 2".
        assert_eq!(adjusted(pct, 4, 25, Some(2)), 6);
        assert_eq!(
            adjusted(pct, 0, 67, Some(2)),
            0,
            "a percentage of 0 tasks is 0"
        );
        assert_eq!(adjusted(AdjustmentType::ChangeInCapacity, 3, 5, None), 8);
        assert_eq!(adjusted(AdjustmentType::ExactCapacity, 3, 5, None), 5);
    }

    #[test]
    fn a_value_at_the_threshold_follows_the_alarm_side() {
        let wake = steps(&[(Some(0.0), None, 1)]);
        let drain = steps(&[(None, Some(0.0), 0)]);
        assert_eq!(
            step_for(&wake, Comparison::GreaterOrEqual, 1.0, 1.0),
            Some(1)
        );
        assert_eq!(step_for(&drain, Comparison::LessOrEqual, 0.0, 0.0), Some(0));
        assert_eq!(step_for(&drain, Comparison::LessOrEqual, 0.0, 1.0), None);
    }

    #[test]
    fn aggregation_types() {
        let v = [1.0, 4.0, 7.0];
        assert_eq!(aggregate(None, &v), Some(4.0));
        assert_eq!(aggregate(Some(AggregationType::Minimum), &v), Some(1.0));
        assert_eq!(aggregate(Some(AggregationType::Maximum), &v), Some(7.0));
        assert_eq!(aggregate(None, &[]), None);
    }

    #[test]
    fn target_tracking_is_proportional_out_and_gradual_in() {
        // The seed's example: 1500 on 10 tasks is 150 per task, target 100 → 15.
        assert_eq!(tracking_out(10, 150.0, 100.0), 15);
        assert_eq!(tracking_out(0, 150.0, 100.0), 1);
        assert_eq!(tracking_in(20, 10.0, 100.0), 18, "10 % of 20 at most");
        assert_eq!(tracking_in(5, 10.0, 100.0), 4, "at least one task");
        assert_eq!(tracking_in(20, 85.0, 100.0), 18);
        assert_eq!(tracking_in(20, 99.0, 100.0), 20);
    }

    #[test]
    fn scale_out_cooldown_counts_the_capacity_already_added() {
        // "+2 … then +3 during the cooldown … only 1 is added".
        let mut c = Cooldown::default();
        c.scaled_out(0, 10, 60);
        let base = c.base(30, 12);
        assert_eq!(
            adjusted(AdjustmentType::ChangeInCapacity, base, 3, None),
            13
        );
        assert_eq!(c.base(60, 12), 12, "the cooldown is over");
        c.scaled_in(100, 300);
        assert!(!c.may_scale_in(399));
        assert!(c.may_scale_in(400));
    }
}
