//! Step scaling as AWS CDK's `scaleOnMetric` builds it: from the user's `step` blocks to
//! CloudWatch alarms and Application Auto Scaling step policies.
//!
//! `queuescale_step_scaling_policy` promises users who migrate a CDK stack the very alarms and
//! policies that `ScalableAttribute.scaleOnMetric` (aws-cdk-lib/aws-applicationautoscaling,
//! built on the interval utilities CDK shares with EC2 Auto Scaling) would have made from the
//! same steps. This module owns that algorithm and nothing else:
//!
//! * validating the step list ([`compile`]), the alarm's evaluation settings
//!   ([`alarm_periods`]) and `min_adjustment_magnitude`
//!   ([`validate_min_adjustment_magnitude`]);
//! * normalising the steps into a complete number line from 0 to +∞ with at most one
//!   "no action" gap ([`CompiledSteps::intervals`]);
//! * placing the lower and upper alarm around that gap (or in the middle when there is none)
//!   and writing each policy's step adjustments the way AWS stores them, relative to the
//!   alarm threshold ([`AlarmPolicy`]);
//! * the default `MetricAggregationType` for a statistic ([`default_aggregation`]);
//! * an addition of ours that CDK does not have: finding metric ranges where two policies on
//!   the same metric pull capacity in opposite directions ([`scale_in_out_overlaps`]).
//!
//! The module is pure and uses std only: no I/O, no AWS or Terraform types, no clocks. It
//! knows nothing of metric names, dimensions, periods, cooldowns, resource names or ARNs, and it
//! does not decide how an error becomes a diagnostic; the resource code around it owns those.
//!
//! # Where we are stricter than CDK
//!
//! CDK accepts some inputs that fail only at deploy time or produce alarms that can never
//! fire. We reject these up front, each with an error that says what to change:
//!
//! * a `change` that is not a whole number (AWS stores `ScalingAdjustment` as an integer) or
//!   that is negative with `ExactCapacity` (AWS requires a non-negative exact capacity);
//! * a bound that is NaN or −∞, or a lower bound of +∞ (an upper bound of +∞ is accepted and
//!   means the same as leaving it out, as in CDK);
//! * a step whose lower bound ends up above its upper bound, whether the user wrote it so or
//!   it follows from filling bounds in from the neighbouring steps;
//! * a list in which every range is "no action", for which CDK silently creates nothing;
//! * `min_adjustment_magnitude` with an adjustment type other than `PercentChangeInCapacity`,
//!   where AWS documents it as meaningless.
//!
//! CDK stops at the first problem; [`compile`] and [`alarm_periods`] report every problem they
//! can find in one pass.
//!
//! # Layout
//!
//! * `kinds`: the names AWS uses for adjustment types, aggregation types, alarm sides and
//!   comparison operators, and CDK's default aggregation;
//! * `compiler`: CDK's step normalisation and alarm placement ([`compile`]) and its result;
//! * `overlap`: where a compiled policy acts ([`CompiledSteps::zones`]) and where two of
//!   them fight ([`scale_in_out_overlaps`]);
//! * `settings`: the alarm's evaluation settings and `min_adjustment_magnitude`;
//! * `error`: [`StepError`] and the [`Field`] it points at.
//!
//! Every item is re-exported here; callers name `scaling::steps::X`.

mod compiler;
mod error;
mod kinds;
mod overlap;
mod settings;

#[cfg(test)]
mod tests;

pub use compiler::{
    AlarmPolicy, CompiledSteps, DEFAULT_MAX_ADJUSTMENTS_PER_POLICY, Interval, MAX_STEPS, MIN_STEPS,
    StepAdjustment, StepInput, StepRange, compile,
};
pub use error::{Field, StepError};
pub use kinds::{
    AdjustmentType, AggregationType, AlarmSide, ComparisonOperator, default_aggregation,
};
pub use overlap::{Direction, MetricRange, Overlap, Zone, scale_in_out_overlaps};
pub use settings::{AlarmPeriods, alarm_periods, validate_min_adjustment_magnitude};

/// A metric value for messages.
fn number(value: f64) -> String {
    if value == f64::INFINITY {
        "∞".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-∞".to_owned()
    } else {
        format!("{value}")
    }
}

/// A range of metric values for messages.
fn span(lower: f64, upper: f64) -> String {
    if upper == f64::INFINITY {
        format!("{} and above", number(lower))
    } else {
        format!("{} to {}", number(lower), number(upper))
    }
}
