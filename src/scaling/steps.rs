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

use std::cmp::Ordering;
use std::fmt;

/// Fewest `step` blocks a policy may have (CDK: "at least 2 intervals").
pub const MIN_STEPS: usize = 2;

/// Most `step` blocks a policy may have. CDK allows 40 because the steps are shared between
/// two AWS policies, each of which holds at most
/// [`DEFAULT_MAX_ADJUSTMENTS_PER_POLICY`] adjustments by default.
pub const MAX_STEPS: usize = 40;

/// AWS's default quota of step adjustments in one scaling policy (adjustable on request).
///
/// CDK does not check it per policy (an uneven split of 40 steps can exceed it), and neither
/// does [`compile`]; see [`CompiledSteps::exceeds_default_adjustment_quota`].
pub const DEFAULT_MAX_ADJUSTMENTS_PER_POLICY: usize = 20;

/// One user `step` block, as written (CDK's `ScalingInterval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInput {
    /// Metric value where the step starts. When missing it is taken from the step below, and
    /// for the lowest step it is 0 (metrics are assumed non-negative).
    pub lower: Option<f64>,
    /// Metric value where the step ends. When missing it is taken from the step above, and
    /// for the highest step it is +∞.
    pub upper: Option<f64>,
    /// Capacity adjustment for metric values in this step, read according to the
    /// [`AdjustmentType`].
    pub change: f64,
}

/// How a step's `change` is applied to the current capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AdjustmentType {
    /// Add `change` tasks (negative removes). CDK's default.
    #[default]
    ChangeInCapacity,
    /// Add `change` percent of the current capacity (negative removes).
    PercentChangeInCapacity,
    /// Set the capacity to exactly `change`.
    ExactCapacity,
}

impl AdjustmentType {
    /// The name AWS uses for this adjustment type.
    #[must_use]
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            Self::ChangeInCapacity => "ChangeInCapacity",
            Self::PercentChangeInCapacity => "PercentChangeInCapacity",
            Self::ExactCapacity => "ExactCapacity",
        }
    }

    /// Parses the name AWS uses (exact spelling); `None` for anything else.
    #[must_use]
    pub fn from_aws_str(name: &str) -> Option<Self> {
        match name {
            "ChangeInCapacity" => Some(Self::ChangeInCapacity),
            "PercentChangeInCapacity" => Some(Self::PercentChangeInCapacity),
            "ExactCapacity" => Some(Self::ExactCapacity),
            _ => None,
        }
    }

    /// Whether `change` is a target capacity rather than a difference. For absolute changes
    /// a `change` of 0 is a real action ("set to 0"); for relative ones it means "no action".
    #[must_use]
    pub const fn is_absolute(self) -> bool {
        matches!(self, Self::ExactCapacity)
    }
}

/// How AWS aggregates the alarm's datapoints for a step policy (`MetricAggregationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregationType {
    /// `Average`; also what AWS assumes when the field is unset.
    Average,
    /// `Minimum`.
    Minimum,
    /// `Maximum`.
    Maximum,
}

impl AggregationType {
    /// The name AWS uses for this aggregation type.
    #[must_use]
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            Self::Average => "Average",
            Self::Minimum => "Minimum",
            Self::Maximum => "Maximum",
        }
    }
}

/// The `MetricAggregationType` CDK picks when the user sets none.
///
/// `statistic` is the alarm metric's statistic, or `None` when the alarm watches a metric
/// math expression. Like CDK, the simple statistics are recognised in any letter case and by
/// their short names (`avg`, `min`, `max`): Average, Minimum and Maximum map to themselves,
/// every other statistic (`Sum`, `SampleCount`, percentiles such as `p99`, ...) maps to Average,
/// and a math expression leaves the field unset. A CDK metric without an explicit statistic
/// uses Average, so callers whose statistic defaulted should pass `Some("Average")`.
#[must_use]
pub fn default_aggregation(statistic: Option<&str>) -> Option<AggregationType> {
    let statistic = statistic?;
    Some(match statistic.to_ascii_lowercase().as_str() {
        "minimum" | "min" => AggregationType::Minimum,
        "maximum" | "max" => AggregationType::Maximum,
        _ => AggregationType::Average,
    })
}

/// Which of the (up to) two alarms a policy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmSide {
    /// The alarm below the no-action gap: fires when the metric is at or below its threshold.
    Lower,
    /// The alarm above the no-action gap: fires when the metric is at or above its threshold.
    Upper,
}

impl AlarmSide {
    /// The alarm's comparison operator.
    #[must_use]
    pub const fn comparison(self) -> ComparisonOperator {
        match self {
            Self::Lower => ComparisonOperator::LessThanOrEqualToThreshold,
            Self::Upper => ComparisonOperator::GreaterThanOrEqualToThreshold,
        }
    }

    /// The alarm description CDK writes for this side.
    #[must_use]
    pub const fn cdk_alarm_description(self) -> &'static str {
        match self {
            Self::Lower => "Lower threshold scaling alarm",
            Self::Upper => "Upper threshold scaling alarm",
        }
    }
}

/// A CloudWatch alarm comparison operator, limited to the two that step scaling uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonOperator {
    /// `LessThanOrEqualToThreshold` (the lower alarm).
    LessThanOrEqualToThreshold,
    /// `GreaterThanOrEqualToThreshold` (the upper alarm).
    GreaterThanOrEqualToThreshold,
}

impl ComparisonOperator {
    /// The name CloudWatch uses for this operator.
    #[must_use]
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            Self::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Self::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
        }
    }
}

/// One step adjustment as AWS holds it: bounds are differences from the alarm threshold.
///
/// Below the threshold AWS treats the upper bound as inclusive and the lower as exclusive;
/// above it, the lower bound is inclusive and the upper exclusive. `None` means unbounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepAdjustment {
    /// `MetricIntervalLowerBound`; `None` only on the lowest step of the lower policy.
    pub lower_bound: Option<f64>,
    /// `MetricIntervalUpperBound`; `None` only on the highest step of the upper policy.
    pub upper_bound: Option<f64>,
    /// `ScalingAdjustment`.
    pub scaling_adjustment: i32,
}

/// One alarm and the step policy it triggers.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmPolicy {
    /// Lower or upper alarm; gives the comparison operator.
    pub side: AlarmSide,
    /// The alarm threshold, in metric units.
    pub threshold: f64,
    /// Index into [`CompiledSteps::intervals`] of the interval the threshold was taken from
    /// (its upper end for the lower alarm, its lower end for the upper alarm).
    pub threshold_interval: usize,
    /// The policy's step adjustments in CDK's order: outward from the threshold, so the lower
    /// policy lists its steps from the threshold downwards and the upper policy upwards.
    pub adjustments: Vec<StepAdjustment>,
}

impl AlarmPolicy {
    /// The alarm's comparison operator.
    #[must_use]
    pub const fn comparison(&self) -> ComparisonOperator {
        self.side.comparison()
    }
}

/// One piece of the normalised number line.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Start of the piece (metric units).
    pub lower: f64,
    /// End of the piece (metric units); +∞ for the last piece.
    pub upper: f64,
    /// The integer adjustment, or `None` for the no-action gap.
    pub change: Option<i32>,
    /// Indices of the user steps this piece came from: exactly one for an action piece; for
    /// the gap, the steps whose relative `change` of 0 was merged into it (often none).
    pub steps: Vec<usize>,
}

/// The result of [`compile`]: what CDK would create for the steps.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledSteps {
    /// The adjustment type the steps were compiled for.
    pub adjustment_type: AdjustmentType,
    /// The normalised number line, ascending from 0 to +∞, with at most one no-action gap.
    pub intervals: Vec<Interval>,
    /// The lower alarm and its policy, unless every action lies above the gap.
    pub lower: Option<AlarmPolicy>,
    /// The upper alarm and its policy, unless every action lies below the gap.
    pub upper: Option<AlarmPolicy>,
    /// Each user step's own range once its missing bounds are filled in from its neighbours
    /// (CDK's `orderAndCompleteIntervals`), in the user's order. A bound the user gave is
    /// kept as given; unlike [`Self::intervals`], a step whose relative `change` of 0 was
    /// merged into the no-action gap keeps its own range here. Empty for policies rebuilt
    /// from what AWS holds ([`super::step_policy::one_side`]).
    pub ranges: Vec<StepRange>,
}

/// The range of one user step after [`compile`] filled in its bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepRange {
    /// Where the step starts (metric units).
    pub lower: f64,
    /// Where it ends (metric units); +∞ for a step that runs to infinity.
    pub upper: f64,
}

impl CompiledSteps {
    /// The policies that exist, lower first.
    pub fn policies(&self) -> impl Iterator<Item = &AlarmPolicy> {
        self.lower.iter().chain(self.upper.iter())
    }

    /// Whether either policy holds more step adjustments than AWS's default quota
    /// ([`DEFAULT_MAX_ADJUSTMENTS_PER_POLICY`]); the quota can be raised, so this is a
    /// warning, not an error.
    #[must_use]
    pub fn exceeds_default_adjustment_quota(&self) -> bool {
        self.policies()
            .any(|p| p.adjustments.len() > DEFAULT_MAX_ADJUSTMENTS_PER_POLICY)
    }

    /// The metric ranges where a policy acts, in ascending metric order, with AWS's
    /// inclusivity (see [`StepAdjustment`]) and clipped to where the alarm fires.
    ///
    /// Each zone's direction is the sign of its adjustment for relative adjustment types. An
    /// exact capacity has no direction of its own (whether "set to 3" adds or removes tasks
    /// depends on the current count), so for `ExactCapacity` the alarm decides: the lower alarm
    /// acts when the metric is low, which is where CDK users put their scale-in steps, and
    /// the upper alarm where they put their scale-out steps. Relative adjustments of 0 cannot
    /// occur in compiled steps (they become the gap) and are skipped.
    #[must_use]
    pub fn zones(&self) -> Vec<Zone> {
        let mut zones = Vec::new();
        if let Some(policy) = &self.lower {
            let alarm = MetricRange {
                lower: f64::NEG_INFINITY,
                lower_inclusive: false,
                upper: policy.threshold,
                upper_inclusive: true,
            };
            for adjustment in policy.adjustments.iter().rev() {
                let step = MetricRange {
                    lower: absolute(policy.threshold, adjustment.lower_bound, f64::NEG_INFINITY),
                    lower_inclusive: false,
                    upper: absolute(policy.threshold, adjustment.upper_bound, f64::INFINITY),
                    upper_inclusive: adjustment.upper_bound.is_some(),
                };
                self.push_zone(&mut zones, policy.side, &step, &alarm, adjustment);
            }
        }
        if let Some(policy) = &self.upper {
            let alarm = MetricRange {
                lower: policy.threshold,
                lower_inclusive: true,
                upper: f64::INFINITY,
                upper_inclusive: false,
            };
            for adjustment in &policy.adjustments {
                let step = MetricRange {
                    lower: absolute(policy.threshold, adjustment.lower_bound, f64::NEG_INFINITY),
                    lower_inclusive: adjustment.lower_bound.is_some(),
                    upper: absolute(policy.threshold, adjustment.upper_bound, f64::INFINITY),
                    upper_inclusive: false,
                };
                self.push_zone(&mut zones, policy.side, &step, &alarm, adjustment);
            }
        }
        zones
    }

    fn push_zone(
        &self,
        zones: &mut Vec<Zone>,
        side: AlarmSide,
        step: &MetricRange,
        alarm: &MetricRange,
        adjustment: &StepAdjustment,
    ) {
        let direction = match self.adjustment_type {
            AdjustmentType::ExactCapacity => match side {
                AlarmSide::Lower => Some(Direction::ScaleIn),
                AlarmSide::Upper => Some(Direction::ScaleOut),
            },
            AdjustmentType::ChangeInCapacity | AdjustmentType::PercentChangeInCapacity => {
                match adjustment.scaling_adjustment.cmp(&0) {
                    Ordering::Less => Some(Direction::ScaleIn),
                    Ordering::Greater => Some(Direction::ScaleOut),
                    Ordering::Equal => None,
                }
            }
        };
        if let (Some(direction), Some(range)) = (direction, step.intersect(alarm)) {
            zones.push(Zone {
                range,
                side,
                adjustment: adjustment.scaling_adjustment,
                direction,
            });
        }
    }
}

/// Threshold plus a relative bound, or `unbounded` when AWS has no bound there.
fn absolute(threshold: f64, bound: Option<f64>, unbounded: f64) -> f64 {
    bound.map_or(unbounded, |b| threshold + b)
}

/// Which way a policy moves capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Fewer tasks.
    ScaleIn,
    /// More tasks.
    ScaleOut,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ScaleIn => "scales in",
            Self::ScaleOut => "scales out",
        })
    }
}

/// A range of metric values; ends at ±∞ are never inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricRange {
    /// Lower end (may be −∞).
    pub lower: f64,
    /// Whether the lower end belongs to the range.
    pub lower_inclusive: bool,
    /// Upper end (may be +∞).
    pub upper: f64,
    /// Whether the upper end belongs to the range.
    pub upper_inclusive: bool,
}

impl MetricRange {
    /// Whether `value` lies in the range.
    #[must_use]
    pub fn contains(&self, value: f64) -> bool {
        let above = value > self.lower || (self.lower_inclusive && value == self.lower);
        let below = value < self.upper || (self.upper_inclusive && value == self.upper);
        above && below
    }

    /// The values in both ranges, or `None` when there are none.
    #[must_use]
    pub fn intersect(&self, other: &Self) -> Option<Self> {
        let (lower, lower_inclusive) = match self.lower.partial_cmp(&other.lower) {
            Some(Ordering::Greater) => (self.lower, self.lower_inclusive),
            Some(Ordering::Less) => (other.lower, other.lower_inclusive),
            _ => (self.lower, self.lower_inclusive && other.lower_inclusive),
        };
        let (upper, upper_inclusive) = match self.upper.partial_cmp(&other.upper) {
            Some(Ordering::Less) => (self.upper, self.upper_inclusive),
            Some(Ordering::Greater) => (other.upper, other.upper_inclusive),
            _ => (self.upper, self.upper_inclusive && other.upper_inclusive),
        };
        let non_empty = lower < upper || (lower == upper && lower_inclusive && upper_inclusive);
        non_empty.then_some(Self {
            lower,
            lower_inclusive,
            upper,
            upper_inclusive,
        })
    }
}

impl fmt::Display for MetricRange {
    /// Interval notation, e.g. `[1, 10]`, `(-∞, 0]` or `[15, ∞)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let open = if self.lower_inclusive { '[' } else { '(' };
        let close = if self.upper_inclusive { ']' } else { ')' };
        write!(
            f,
            "{open}{}, {}{close}",
            number(self.lower),
            number(self.upper)
        )
    }
}

/// A metric range in which one policy acts, from [`CompiledSteps::zones`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zone {
    /// Where the policy acts.
    pub range: MetricRange,
    /// Which alarm fires there.
    pub side: AlarmSide,
    /// The `ScalingAdjustment` applied there.
    pub adjustment: i32,
    /// Which way it moves capacity.
    pub direction: Direction,
}

/// A metric range where two policies on the same metric pull capacity opposite ways.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    /// The metric values affected.
    pub range: MetricRange,
    /// What the first policy passed to [`scale_in_out_overlaps`] does there; the other
    /// policy does the opposite.
    pub this_direction: Direction,
    /// The first policy's adjustments within the range, in ascending metric order,
    /// without repeats.
    pub this_adjustments: Vec<i32>,
    /// The other policy's adjustments within the range, likewise.
    pub other_adjustments: Vec<i32>,
}

impl fmt::Display for Overlap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let other_direction = match self.this_direction {
            Direction::ScaleIn => Direction::ScaleOut,
            Direction::ScaleOut => Direction::ScaleIn,
        };
        write!(
            f,
            "for metric values in {} this policy {} ({}) while the other {} ({})",
            self.range,
            self.this_direction,
            signed_list(&self.this_adjustments),
            other_direction,
            signed_list(&self.other_adjustments)
        )
    }
}

fn signed_list(values: &[i32]) -> String {
    values
        .iter()
        .map(|v| format!("{v:+}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The metric ranges where one policy scales in while the other scales out, for two
/// policies that watch the same metric (with the same statistic and period).
///
/// Directions are those of [`CompiledSteps::zones`], including the choice made there for
/// `ExactCapacity`. Touching pieces in which `this` keeps the same direction are merged into
/// one [`Overlap`], listing the adjustments involved. The result is ordered by metric value;
/// swapping the arguments gives the same ranges with the roles swapped. Because both alarms
/// re-fire every minute while in alarm, such a range makes the service flap between the two
/// policies.
#[must_use]
pub fn scale_in_out_overlaps(this: &CompiledSteps, other: &CompiledSteps) -> Vec<Overlap> {
    let ours = this.zones();
    let theirs = other.zones();
    let mut result = Vec::new();
    for direction in [Direction::ScaleIn, Direction::ScaleOut] {
        let mut pieces: Vec<(MetricRange, i32, i32)> = Vec::new();
        for mine in ours.iter().filter(|z| z.direction == direction) {
            for their in theirs.iter().filter(|z| z.direction != direction) {
                if let Some(range) = mine.range.intersect(&their.range) {
                    pieces.push((range, mine.adjustment, their.adjustment));
                }
            }
        }
        pieces.sort_by(|a, b| {
            a.0.lower
                .partial_cmp(&b.0.lower)
                .unwrap_or(Ordering::Equal)
                .then(b.0.lower_inclusive.cmp(&a.0.lower_inclusive))
        });
        let mut current: Option<Overlap> = None;
        for (range, mine, their) in pieces {
            match current.as_mut() {
                Some(open) if touches(&open.range, &range) => {
                    let extends = range.upper > open.range.upper
                        || (range.upper == open.range.upper && range.upper_inclusive);
                    if extends {
                        open.range.upper = range.upper;
                        open.range.upper_inclusive = range.upper_inclusive;
                    }
                    push_new(&mut open.this_adjustments, mine);
                    push_new(&mut open.other_adjustments, their);
                }
                _ => {
                    result.extend(current.take());
                    current = Some(Overlap {
                        range,
                        this_direction: direction,
                        this_adjustments: vec![mine],
                        other_adjustments: vec![their],
                    });
                }
            }
        }
        result.extend(current);
    }
    result.sort_by(|a, b| {
        a.range
            .lower
            .partial_cmp(&b.range.lower)
            .unwrap_or(Ordering::Equal)
            .then(b.range.lower_inclusive.cmp(&a.range.lower_inclusive))
    });
    result
}

/// Whether `next` (which starts no lower than `open`) overlaps or adjoins `open`.
fn touches(open: &MetricRange, next: &MetricRange) -> bool {
    next.lower < open.upper
        || (next.lower == open.upper && (open.upper_inclusive || next.lower_inclusive))
}

fn push_new(values: &mut Vec<i32>, value: i32) {
    if !values.contains(&value) {
        values.push(value);
    }
}

/// The setting an error is about, so callers can attach it to the right attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The list of `step` blocks, or one block as a whole.
    Step,
    /// A step's `lower`.
    Lower,
    /// A step's `upper`.
    Upper,
    /// A step's `change`.
    Change,
    /// `min_adjustment_magnitude`.
    MinAdjustmentMagnitude,
    /// `evaluation_periods`.
    EvaluationPeriods,
    /// `datapoints_to_alarm`.
    DatapointsToAlarm,
}

/// A problem with the user's settings, with a message saying what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// Index of the user's `step` block at fault (in the user's order), or `None` when the
    /// problem concerns the list as a whole or a setting outside the steps.
    pub step: Option<usize>,
    /// The setting at fault.
    pub field: Field,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl StepError {
    fn new(step: Option<usize>, field: Field, message: String) -> Self {
        Self {
            step,
            field,
            message,
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StepError {}

/// The alarm's evaluation settings after validation and CDK's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmPeriods {
    /// `EvaluationPeriods`; CDK's default is 1.
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm`, passed through as given; when unset, CloudWatch uses
    /// `EvaluationPeriods`.
    pub datapoints_to_alarm: Option<u32>,
}

/// Validates `evaluation_periods` and `datapoints_to_alarm` as CDK's `StepScalingPolicy`
/// does and applies its default of one evaluation period.
///
/// # Errors
///
/// One [`StepError`] per problem (CDK stops at the first): `evaluation_periods` below 1;
/// `datapoints_to_alarm` set without `evaluation_periods`; `datapoints_to_alarm` below 1;
/// `datapoints_to_alarm` above `evaluation_periods`; a value too large for CloudWatch's
/// 32-bit field.
pub fn alarm_periods(
    evaluation_periods: Option<i64>,
    datapoints_to_alarm: Option<i64>,
) -> Result<AlarmPeriods, Vec<StepError>> {
    let mut errors = Vec::new();
    let evaluation = match evaluation_periods.map(|value| {
        period_count(
            value,
            Field::EvaluationPeriods,
            "use 1 to act on a single datapoint",
        )
    }) {
        None => Some(1),
        Some(Ok(count)) => Some(count),
        Some(Err(error)) => {
            errors.push(error);
            None
        }
    };
    let mut datapoints = None;
    if let Some(value) = datapoints_to_alarm {
        if evaluation_periods.is_none() {
            errors.push(StepError::new(
                None,
                Field::DatapointsToAlarm,
                "datapoints_to_alarm is set but evaluation_periods is not; set evaluation_periods \
                 to the number of periods the alarm looks back over (\"M out of N\" needs both)"
                    .to_owned(),
            ));
        }
        match period_count(
            value,
            Field::DatapointsToAlarm,
            "leave it unset to require every evaluated datapoint to breach",
        ) {
            Ok(count) => {
                datapoints = Some(count);
                if let Some(periods) =
                    evaluation.filter(|e| evaluation_periods.is_some() && count > *e)
                {
                    errors.push(StepError::new(
                        None,
                        Field::DatapointsToAlarm,
                        format!(
                            "datapoints_to_alarm ({count}) cannot be more than evaluation_periods \
                             ({periods}); lower datapoints_to_alarm or raise evaluation_periods"
                        ),
                    ));
                }
            }
            Err(error) => errors.push(error),
        }
    }
    match evaluation {
        Some(evaluation_periods) if errors.is_empty() => Ok(AlarmPeriods {
            evaluation_periods,
            datapoints_to_alarm: datapoints,
        }),
        _ => Err(errors),
    }
}

/// A count of periods or datapoints: at least 1 and within CloudWatch's 32-bit integers.
fn period_count(value: i64, field: Field, hint: &str) -> Result<u32, StepError> {
    let name = match field {
        Field::DatapointsToAlarm => "datapoints_to_alarm",
        _ => "evaluation_periods",
    };
    if value < 1 {
        return Err(StepError::new(
            None,
            field,
            format!("{name} must be at least 1, got {value}; {hint}"),
        ));
    }
    i32::try_from(value)
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            StepError::new(
                None,
                field,
                format!(
                    "{name} is too large ({value}); CloudWatch accepts at most {}",
                    i32::MAX
                ),
            )
        })
}

/// Validates `min_adjustment_magnitude` against the adjustment type.
///
/// AWS uses it only to round small `PercentChangeInCapacity` results up to a minimum number
/// of tasks. CDK passes it through whatever the type; we refuse it elsewhere, where it would
/// have no effect.
///
/// # Errors
///
/// A [`StepError`] when the value is set with another adjustment type, is negative, or does
/// not fit AWS's 32-bit field.
pub fn validate_min_adjustment_magnitude(
    value: Option<i64>,
    adjustment: AdjustmentType,
) -> Result<Option<i32>, StepError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if adjustment != AdjustmentType::PercentChangeInCapacity {
        return Err(StepError::new(
            None,
            Field::MinAdjustmentMagnitude,
            format!(
                "min_adjustment_magnitude only applies with adjustment_type \
                 PercentChangeInCapacity, but adjustment_type is {}; remove it",
                adjustment.as_aws_str()
            ),
        ));
    }
    if value < 0 {
        return Err(StepError::new(
            None,
            Field::MinAdjustmentMagnitude,
            format!(
                "min_adjustment_magnitude is a number of tasks and cannot be negative, got {value}"
            ),
        ));
    }
    i32::try_from(value).map(Some).map_err(|_| {
        StepError::new(
            None,
            Field::MinAdjustmentMagnitude,
            format!("min_adjustment_magnitude is too large ({value})"),
        )
    })
}

/// Compiles the user's steps into CDK's alarms and step policies.
///
/// The steps are sorted by their lower bound (or upper, when there is no lower), missing
/// bounds are filled in from the neighbouring steps until nothing changes, the lowest step
/// starts at 0 and the highest ends at +∞ when they say nothing else, and every uncovered
/// range becomes a no-action gap. For relative adjustment types a `change` of 0 is also "no
/// action". Adjacent no-action pieces merge; at most one may remain.
///
/// The lower alarm (`LessThanOrEqualToThreshold`) sits at the upper end of the piece just
/// below the gap and the upper alarm (`GreaterThanOrEqualToThreshold`) at the lower end of the
/// piece just above it; a gap at either end of the line leaves only one alarm. Without a gap,
/// CDK splits the pieces by position, not by the sign of their changes: with `n` pieces the
/// lower alarm takes pieces `0..n/2` (rounded down) and the upper alarm the rest, both alarms
/// then sharing one threshold.
///
/// # Errors
///
/// The problems found, each pointing at the user's step (by index in `steps`) that causes
/// it, or at none when it concerns the whole list. Checks run in stages, and a stage runs only
/// when the ones before it found nothing:
///
/// 1. the count (fewer than [`MIN_STEPS`] or more than [`MAX_STEPS`] steps) and each step on
///    its own: no bounds; a bound that is NaN or −∞, or a lower bound of +∞; a lower bound
///    above the upper; a `change` that is not a 32-bit whole number, or is negative with
///    `ExactCapacity`;
/// 2. a boundary between two neighbouring steps that neither of them sets;
/// 3. overlapping steps;
/// 4. more than one no-action range, or no action anywhere.
pub fn compile(
    steps: &[StepInput],
    adjustment: AdjustmentType,
) -> Result<CompiledSteps, Vec<StepError>> {
    let mut errors = check_count(steps.len());
    let mut drafts = Vec::with_capacity(steps.len());
    for (index, step) in steps.iter().enumerate() {
        match check_step(index, step, adjustment) {
            Ok(draft) => drafts.push(draft),
            Err(mut problems) => errors.append(&mut problems),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let complete = complete_bounds(drafts)?;
    // `complete` holds every step once, in sorted order; put them back in the user's.
    let mut by_step: Vec<(usize, StepRange)> = complete
        .iter()
        .map(|c| {
            let range = StepRange {
                lower: c.lower,
                upper: c.upper,
            };
            (c.step, range)
        })
        .collect();
    by_step.sort_by_key(|(step, _)| *step);
    let ranges = by_step.into_iter().map(|(_, range)| range).collect();
    let line = cover_number_line(complete, adjustment);
    check_gaps(&line)?;
    let mut compiled = place_alarms(line, adjustment);
    compiled.ranges = ranges;
    Ok(compiled)
}

/// A validated step, bounds possibly still missing.
#[derive(Debug, Clone, Copy)]
struct Draft {
    step: usize,
    lower: Option<f64>,
    upper: Option<f64>,
    lower_given: bool,
    change: i32,
}

/// A step with both bounds known.
#[derive(Debug, Clone, Copy)]
struct Complete {
    step: usize,
    lower: f64,
    upper: f64,
    lower_given: bool,
    change: i32,
}

fn check_count(count: usize) -> Vec<StepError> {
    if count < MIN_STEPS {
        vec![StepError::new(
            None,
            Field::Step,
            format!(
                "a step scaling policy needs at least {MIN_STEPS} step blocks, got {count}; add a \
                 step for the metric range where the service should scale the other way (for \
                 example `upper = 0, change = -1` to scale in on an empty queue)"
            ),
        )]
    } else if count > MAX_STEPS {
        vec![StepError::new(
            None,
            Field::Step,
            format!(
                "a step scaling policy can have at most {MAX_STEPS} step blocks, got {count}; \
                 remove {} of them or merge neighbouring ranges",
                count - MAX_STEPS
            ),
        )]
    } else {
        Vec::new()
    }
}

fn check_step(
    index: usize,
    step: &StepInput,
    adjustment: AdjustmentType,
) -> Result<Draft, Vec<StepError>> {
    let mut errors = Vec::new();
    if let Some(lower) = step.lower.filter(|l| !l.is_finite()) {
        errors.push(StepError::new(
            Some(index),
            Field::Lower,
            format!(
                "step[{index}]: lower must be a finite number, got {}",
                number(lower)
            ),
        ));
    }
    if let Some(upper) = step.upper.filter(|u| u.is_nan() || *u == f64::NEG_INFINITY) {
        errors.push(StepError::new(
            Some(index),
            Field::Upper,
            format!(
                "step[{index}]: upper must be a number (or left out to run to infinity), got {}",
                number(upper)
            ),
        ));
    }
    match (step.lower, step.upper) {
        (None, None) => errors.push(StepError::new(
            Some(index),
            Field::Step,
            format!(
                "step[{index}] sets neither lower nor upper; set at least one of them (the other \
                 is then taken from the neighbouring step)"
            ),
        )),
        (Some(lower), Some(upper)) if lower > upper => errors.push(StepError::new(
            Some(index),
            Field::Upper,
            format!(
                "step[{index}]: lower ({}) is above upper ({}); a step covers metric values from \
                 lower up to upper, so swap them",
                number(lower),
                number(upper)
            ),
        )),
        _ => {}
    }
    let change = match whole_change(step.change) {
        Ok(change) => Some(change),
        Err(message) => {
            errors.push(StepError::new(
                Some(index),
                Field::Change,
                format!("step[{index}]: {message}"),
            ));
            None
        }
    };
    if let Some(change) = change.filter(|c| adjustment.is_absolute() && *c < 0) {
        errors.push(StepError::new(
            Some(index),
            Field::Change,
            format!(
                "step[{index}]: with adjustment_type ExactCapacity, change is the number of tasks \
                 to run and cannot be negative, got {change}; use 0 or more, or switch to \
                 ChangeInCapacity to remove tasks"
            ),
        ));
    }
    match change {
        Some(change) if errors.is_empty() => Ok(Draft {
            step: index,
            lower: step.lower,
            upper: step.upper,
            lower_given: step.lower.is_some(),
            change,
        }),
        _ => Err(errors),
    }
}

/// The change as AWS's integer `ScalingAdjustment`, or why it cannot be one.
fn whole_change(change: f64) -> Result<i32, String> {
    if !change.is_finite() || change.fract() != 0.0 {
        return Err(format!(
            "change must be a whole number (AWS stores step adjustments as integers), got {}",
            number(change)
        ));
    }
    if change < f64::from(i32::MIN) || change > f64::from(i32::MAX) {
        return Err(format!(
            "change {} is outside the range AWS accepts ({} to {})",
            number(change),
            i32::MIN,
            i32::MAX
        ));
    }
    // Whole and within range, so the conversion is exact.
    #[allow(clippy::cast_possible_truncation)]
    Ok(change as i32)
}

/// Sorts the steps, fills in their missing bounds, and checks the result.
fn complete_bounds(mut drafts: Vec<Draft>) -> Result<Vec<Complete>, Vec<StepError>> {
    // CDK sorts on the lower bound, or the upper bound for steps without one. The sort is
    // stable, so steps with equal keys keep the user's order.
    drafts.sort_by(|a, b| {
        sort_key(a)
            .partial_cmp(&sort_key(b))
            .unwrap_or(Ordering::Equal)
    });

    // Upper bounds flow up into the next step's missing lower bound, lower bounds flow down
    // into the previous step's missing upper bound, until nothing changes.
    loop {
        let mut changed = false;
        for i in 1..drafts.len() {
            if drafts[i - 1].upper.is_some() && drafts[i].lower.is_none() {
                drafts[i].lower = drafts[i - 1].upper;
                changed = true;
            }
        }
        for i in (1..drafts.len()).rev() {
            if drafts[i].lower.is_some() && drafts[i - 1].upper.is_none() {
                drafts[i - 1].upper = drafts[i].lower;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if let Some(first) = drafts.first_mut() {
        first.lower.get_or_insert(0.0);
    }
    if let Some(last) = drafts.last_mut() {
        last.upper.get_or_insert(f64::INFINITY);
    }

    // After propagation a bound can only be missing where one step lacks its upper bound
    // and the next one up lacks its lower bound.
    let mut errors = Vec::new();
    for pair in drafts.windows(2) {
        if let [below, above] = pair
            && below.upper.is_none()
        {
            errors.push(StepError::new(
                Some(below.step),
                Field::Upper,
                format!(
                    "step[{}] has no upper bound and step[{}], the next step up, has no lower \
                         bound, so nothing says where one ends and the other begins; set upper on \
                         step[{}] or lower on step[{}]",
                    below.step, above.step, below.step, above.step
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let complete: Vec<Complete> = drafts
        .iter()
        .filter_map(|d| {
            Some(Complete {
                step: d.step,
                lower: d.lower?,
                upper: d.upper?,
                lower_given: d.lower_given,
                change: d.change,
            })
        })
        .collect();

    // CDK's check: neighbours in sorted order must not overlap.
    let mut flagged = Vec::new();
    for pair in complete.windows(2) {
        if let [a, b] = pair
            && a.lower < b.upper
            && a.upper > b.lower
        {
            flagged.push(b.step);
            errors.push(StepError::new(
                Some(b.step),
                Field::Step,
                format!(
                    "step[{}] ({}) overlaps step[{}] ({}); steps must not overlap, so make \
                         one end where the other begins",
                    b.step,
                    span(b.lower, b.upper),
                    a.step,
                    span(a.lower, a.upper)
                ),
            ));
        }
    }

    // Beyond CDK: a step whose inherited lower bound lies above its own upper bound. CDK's
    // neighbour check misses this, and the policies it then writes fail at deploy time or
    // never act.
    for (position, current) in complete.iter().enumerate() {
        if current.lower <= current.upper || flagged.contains(&current.step) {
            continue;
        }
        let message = match position.checked_sub(1).and_then(|p| complete.get(p)) {
            Some(previous) if !current.lower_given => format!(
                "step[{}] (upper {}) overlaps step[{}] ({}): without its own lower bound it would \
                 start where step[{}] ends; steps must not overlap, so end step[{}] at or below {} \
                 or give step[{}] a range of its own",
                current.step,
                number(current.upper),
                previous.step,
                span(previous.lower, previous.upper),
                previous.step,
                previous.step,
                number(current.upper),
                current.step
            ),
            _ => format!(
                "step[{}] sets only upper ({}), below 0 where the lowest step starts (metrics are \
                 taken to be non-negative); use an upper bound of 0 or more",
                current.step,
                number(current.upper)
            ),
        };
        errors.push(StepError::new(Some(current.step), Field::Upper, message));
    }
    if errors.is_empty() {
        Ok(complete)
    } else {
        Err(errors)
    }
}

fn sort_key(draft: &Draft) -> f64 {
    // check_step guarantees at least one bound.
    draft.lower.or(draft.upper).unwrap_or(0.0)
}

/// Turns the sorted, complete steps into a number line from 0 to +∞ whose no-action pieces
/// (uncovered ranges, and relative changes of 0) are merged where adjacent.
fn cover_number_line(complete: Vec<Complete>, adjustment: AdjustmentType) -> Vec<Interval> {
    let mut line: Vec<Interval> = complete
        .into_iter()
        .map(|c| Interval {
            lower: c.lower,
            upper: c.upper,
            change: Some(c.change),
            steps: vec![c.step],
        })
        .collect();
    if let Some(first_lower) = line.first().map(|i| i.lower)
        && first_lower != 0.0
    {
        line.insert(0, gap(0.0, first_lower));
    }
    if let Some(last_upper) = line.last().map(|i| i.upper)
        && last_upper != f64::INFINITY
    {
        line.push(gap(last_upper, f64::INFINITY));
    }
    let mut i = 1;
    while i < line.len() {
        if line[i - 1].upper < line[i].lower {
            let filler = gap(line[i - 1].upper, line[i].lower);
            line.insert(i, filler);
        } else {
            i += 1;
        }
    }
    if !adjustment.is_absolute() {
        for interval in &mut line {
            if interval.change == Some(0) {
                interval.change = None;
            }
        }
    }
    let mut i = 0;
    while i + 1 < line.len() {
        if line[i].change.is_none() && line[i + 1].change.is_none() {
            let next = line.remove(i + 1);
            line[i].upper = next.upper;
            line[i].steps.extend(next.steps);
        } else {
            i += 1;
        }
    }
    line
}

fn gap(lower: f64, upper: f64) -> Interval {
    Interval {
        lower,
        upper,
        change: None,
        steps: Vec::new(),
    }
}

fn check_gaps(line: &[Interval]) -> Result<(), Vec<StepError>> {
    let gaps: Vec<&Interval> = line.iter().filter(|i| i.change.is_none()).collect();
    if gaps.len() > 1 {
        let ranges = gaps
            .iter()
            .map(|g| span(g.lower, g.upper))
            .collect::<Vec<_>>()
            .join(", ");
        // Blame the second gap: a step of 0 that made it, or else the step just above it,
        // whose lower bound leaves it open.
        let second = line
            .iter()
            .enumerate()
            .filter(|(_, i)| i.change.is_none())
            .nth(1)
            .map(|(position, _)| position);
        let culprit = second.and_then(|p| {
            line[p]
                .steps
                .iter()
                .copied()
                .min()
                .or_else(|| line.get(p + 1).and_then(|next| next.steps.first().copied()))
        });
        return Err(vec![StepError::new(
            culprit,
            Field::Step,
            format!(
                "{} metric ranges have no scaling action ({ranges}), but at most one may: it is \
                 the range between the scale-in alarm and the scale-out alarm. Cover the others \
                 by extending the neighbouring steps or adding steps (a change of 0 counts as no \
                 action unless adjustment_type is ExactCapacity)",
                gaps.len()
            ),
        )]);
    }
    if line.iter().all(|i| i.change.is_none()) {
        return Err(vec![StepError::new(
            None,
            Field::Step,
            "no step has a non-zero change, so no alarm or policy would be created; give at least \
             one step a change other than 0"
                .to_owned(),
        )]);
    }
    Ok(())
}

/// Places the alarms around the gap (or in the middle) and writes each policy's adjustments.
fn place_alarms(line: Vec<Interval>, adjustment: AdjustmentType) -> CompiledSteps {
    let count = line.len();
    let (lower_at, upper_at) = match line.iter().position(|i| i.change.is_none()) {
        Some(gap_at) => (
            gap_at.checked_sub(1),
            (gap_at + 1 < count).then_some(gap_at + 1),
        ),
        None if count == 1 => (None, Some(0)),
        None => {
            let middle = count / 2;
            (middle.checked_sub(1), Some(middle))
        }
    };

    let lower = lower_at.and_then(|at| {
        let threshold = line.get(at)?.upper + 0.0;
        let adjustments = (0..=at)
            .rev()
            .filter_map(|i| {
                let piece = line.get(i)?;
                Some(StepAdjustment {
                    // The lowest piece reaches down to −∞.
                    lower_bound: (i != 0).then(|| relative(piece.lower, threshold)),
                    upper_bound: Some(relative(piece.upper, threshold)),
                    scaling_adjustment: piece.change?,
                })
            })
            .collect();
        Some(AlarmPolicy {
            side: AlarmSide::Lower,
            threshold,
            threshold_interval: at,
            adjustments,
        })
    });

    let upper = upper_at.and_then(|at| {
        let threshold = line.get(at)?.lower + 0.0;
        let adjustments = (at..count)
            .filter_map(|i| {
                let piece = line.get(i)?;
                Some(StepAdjustment {
                    lower_bound: Some(relative(piece.lower, threshold)),
                    // The highest piece reaches up to +∞.
                    upper_bound: (i + 1 != count).then(|| relative(piece.upper, threshold)),
                    scaling_adjustment: piece.change?,
                })
            })
            .collect();
        Some(AlarmPolicy {
            side: AlarmSide::Upper,
            threshold,
            threshold_interval: at,
            adjustments,
        })
    });

    CompiledSteps {
        adjustment_type: adjustment,
        intervals: line,
        lower,
        upper,
        ranges: Vec::new(),
    }
}

/// A bound relative to the threshold. Adding 0.0 turns −0 into 0 (as do the thresholds'),
/// which is what CDK's JSON output shows.
fn relative(bound: f64, threshold: f64) -> f64 {
    (bound - threshold) + 0.0
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    fn step(lower: Option<f64>, upper: Option<f64>, change: f64) -> StepInput {
        StepInput {
            lower,
            upper,
            change,
        }
    }

    fn below(upper: f64, change: f64) -> StepInput {
        step(None, Some(upper), change)
    }

    fn above(lower: f64, change: f64) -> StepInput {
        step(Some(lower), None, change)
    }

    fn between(lower: f64, upper: f64, change: f64) -> StepInput {
        step(Some(lower), Some(upper), change)
    }

    fn adj(lower: Option<f64>, upper: Option<f64>, scaling: i32) -> StepAdjustment {
        StepAdjustment {
            lower_bound: lower,
            upper_bound: upper,
            scaling_adjustment: scaling,
        }
    }

    fn piece(lower: f64, upper: f64, change: Option<i32>) -> (f64, f64, Option<i32>) {
        (lower, upper, change)
    }

    fn line_of(compiled: &CompiledSteps) -> Vec<(f64, f64, Option<i32>)> {
        compiled
            .intervals
            .iter()
            .map(|i| (i.lower, i.upper, i.change))
            .collect()
    }

    fn ok(steps: &[StepInput], adjustment: AdjustmentType) -> CompiledSteps {
        match compile(steps, adjustment) {
            Ok(compiled) => compiled,
            Err(errors) => panic!("expected the steps to compile, got {errors:#?}"),
        }
    }

    fn errors(steps: &[StepInput], adjustment: AdjustmentType) -> Vec<StepError> {
        match compile(steps, adjustment) {
            Ok(compiled) => panic!("expected errors, got {compiled:#?}"),
            Err(errors) => errors,
        }
    }

    fn lower_policy(compiled: &CompiledSteps) -> &AlarmPolicy {
        compiled.lower.as_ref().expect("a lower alarm")
    }

    fn upper_policy(compiled: &CompiledSteps) -> &AlarmPolicy {
        compiled.upper.as_ref().expect("an upper alarm")
    }

    fn range(lower: f64, lower_inclusive: bool, upper: f64, upper_inclusive: bool) -> MetricRange {
        MetricRange {
            lower,
            lower_inclusive,
            upper,
            upper_inclusive,
        }
    }

    /// Policy A of the source stack: tasks by backlog, `ChangeInCapacity`.
    fn source_policy_a() -> Vec<StepInput> {
        vec![
            below(0.0, -1.0),
            above(1.0, 1.0),
            above(5.0, 3.0),
            above(10.0, 5.0),
        ]
    }

    /// Policy B of the source stack: percent of tasks by backlog.
    fn source_policy_b() -> Vec<StepInput> {
        vec![below(10.0, -10.0), above(15.0, 67.0)]
    }

    /// CDK intervals.test.ts `realisticRelativeIntervals()`.
    fn realistic_relative_steps() -> Vec<StepInput> {
        vec![
            below(10.0, -2.0),
            below(20.0, -1.0),
            above(80.0, 1.0),
            above(90.0, 2.0),
        ]
    }

    // ---- CDK aws-autoscaling-common/test/intervals.test.ts ----

    // From 'test bounds propagation'.
    #[test]
    fn bounds_propagate_from_neighbours_and_the_middle_becomes_the_only_gap() {
        let compiled = ok(
            &realistic_relative_steps(),
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(
            line_of(&compiled),
            vec![
                piece(0.0, 10.0, Some(-2)),
                piece(10.0, 20.0, Some(-1)),
                piece(20.0, 80.0, None),
                piece(80.0, 90.0, Some(1)),
                piece(90.0, INF, Some(2)),
            ]
        );
    }

    // From 'test bounds propagation', carried through StepScalingPolicy's alarm placement.
    #[test]
    fn realistic_relative_steps_alarm_at_or_below_20_and_at_or_above_80() {
        let compiled = ok(
            &realistic_relative_steps(),
            AdjustmentType::ChangeInCapacity,
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 20.0);
        assert_eq!(
            lower.comparison(),
            ComparisonOperator::LessThanOrEqualToThreshold
        );
        assert_eq!(lower.threshold_interval, 1);
        assert_eq!(
            lower.adjustments,
            vec![adj(Some(-10.0), Some(0.0), -1), adj(None, Some(-10.0), -2),]
        );
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 80.0);
        assert_eq!(
            upper.comparison(),
            ComparisonOperator::GreaterThanOrEqualToThreshold
        );
        assert_eq!(upper.threshold_interval, 3);
        assert_eq!(
            upper.adjustments,
            vec![adj(Some(0.0), Some(10.0), 1), adj(Some(10.0), None, 2)]
        );
    }

    // From 'test interval completion' (incompleteLowerRelativeIntervals).
    #[test]
    fn a_first_step_starting_above_zero_leaves_a_gap_from_zero_and_only_an_upper_alarm() {
        let compiled = ok(
            &[above(65.0, 2.0), above(85.0, 3.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(
            line_of(&compiled),
            vec![
                piece(0.0, 65.0, None),
                piece(65.0, 85.0, Some(2)),
                piece(85.0, INF, Some(3)),
            ]
        );
        assert_eq!(compiled.lower, None);
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 65.0);
        assert_eq!(
            upper.adjustments,
            vec![adj(Some(0.0), Some(20.0), 2), adj(Some(20.0), None, 3)]
        );
    }

    // From 'test interval completion' (incompleteUpperRelativeIntervals).
    #[test]
    fn a_last_step_ending_below_infinity_leaves_a_gap_to_infinity_and_only_a_lower_alarm() {
        let compiled = ok(
            &[below(65.0, 2.0), below(85.0, 3.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(
            line_of(&compiled),
            vec![
                piece(0.0, 65.0, Some(2)),
                piece(65.0, 85.0, Some(3)),
                piece(85.0, INF, None),
            ]
        );
        assert_eq!(compiled.upper, None);
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 85.0);
        assert_eq!(
            lower.adjustments,
            vec![adj(Some(-20.0), Some(0.0), 3), adj(None, Some(-20.0), 2)]
        );
    }

    // From 'bounds propagation fails if middle boundary missing'.
    #[test]
    fn a_boundary_neither_neighbour_sets_is_reported_on_the_step_below_it() {
        let errs = errors(
            &[above(0.0, -2.0), below(20.0, -1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(0));
        assert_eq!(errs[0].field, Field::Upper);
        assert!(
            errs[0]
                .message
                .contains("set upper on step[0] or lower on step[1]")
        );
    }

    /// A small deterministic generator (xorshift64*) standing in for fast-check.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn boolean(&mut self) -> bool {
            self.next() >> 63 == 1
        }

        /// Inclusive at both ends, like fast-check's `nextInt(min, max)`.
        fn int(&mut self, min: usize, max: usize) -> usize {
            let width = u64::try_from(max - min + 1).expect("small range");
            min + usize::try_from(self.next() % width).expect("fits")
        }
    }

    /// CDK's `generateArbitraryIntervals` (aws-autoscaling-common/lib/test-utils.ts): start
    /// from a full schedule, then drop or convert the no-change steps, maybe strip one half,
    /// and drop bounds where a neighbour still supplies them. Where the original reassigns the
    /// converted step only in its local copy, this one converts it in the schedule, which
    /// also exercises schedules without a gap.
    fn arbitrary_schedule(rng: &mut Rng) -> (AdjustmentType, Vec<StepInput>) {
        let absolute = rng.boolean();
        let factor = (if rng.boolean() { 1.0 } else { -1.0 }) * (if absolute { 10.0 } else { 1.0 });
        let bias = if absolute { 50.0 } else { 0.0 };
        let mut schedule = vec![
            between(0.0, 10.0, -2.0 * factor + bias),
            between(10.0, 20.0, -factor + bias),
            between(20.0, 60.0, bias),
            between(60.0, 80.0, bias),
            between(80.0, 90.0, factor + bias),
            between(90.0, INF, 2.0 * factor + bias),
        ];
        // Indices 2 and 3 are the no-change steps; decide about them, then apply.
        let (first, second) = if absolute {
            if rng.boolean() {
                (Some(None), Some(None))
            } else {
                (Some(Some(-factor + bias)), Some(Some(factor + bias)))
            }
        } else {
            let first = if rng.boolean() {
                Some(if rng.boolean() {
                    None
                } else {
                    Some(-factor + bias)
                })
            } else {
                None
            };
            let second = if rng.boolean() {
                Some(if rng.boolean() {
                    None
                } else {
                    Some(factor + bias)
                })
            } else {
                None
            };
            (first, second)
        };
        if let Some(Some(change)) = second {
            schedule[3].change = change;
        }
        if let Some(Some(change)) = first {
            schedule[2].change = change;
        }
        if second == Some(None) {
            schedule.remove(3);
        }
        if first == Some(None) {
            schedule.remove(2);
        }
        if rng.int(0, 2) == 0 {
            let strip_negative = rng.boolean();
            schedule.retain(|s| {
                let d = s.change - bias;
                if strip_negative { d >= 0.0 } else { d <= 0.0 }
            });
        }
        let iterations = rng.int(0, 10);
        for _ in 0..iterations {
            let i = rng.int(0, schedule.len() - 1);
            if rng.boolean() {
                if schedule[i].upper.is_some() && (i == 0 || schedule[i - 1].upper.is_some()) {
                    schedule[i].lower = None;
                }
            } else if schedule[i].lower.is_some()
                && (i == schedule.len() - 1 || schedule[i + 1].lower.is_some())
            {
                schedule[i].upper = None;
            }
        }
        let adjustment = if absolute {
            AdjustmentType::ExactCapacity
        } else {
            AdjustmentType::ChangeInCapacity
        };
        (adjustment, schedule)
    }

    /// Runs `check` on many generated schedules, all of which must compile, and makes sure
    /// the generated schedules cover every shape of gap for both kinds of adjustment.
    fn for_generated_schedules(check: impl Fn(&[StepInput], &CompiledSteps)) {
        let mut shapes = std::collections::BTreeSet::new();
        for seed in 1..=2_000_u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let (adjustment, schedule) = arbitrary_schedule(&mut rng);
            let compiled = match compile(&schedule, adjustment) {
                Ok(compiled) => compiled,
                Err(errors) => panic!("seed {seed}: {schedule:?} failed: {errors:#?}"),
            };
            let count = compiled.intervals.len();
            let shape = match compiled.intervals.iter().position(|i| i.change.is_none()) {
                None => "no gap",
                Some(0) => "gap first",
                Some(g) if g + 1 == count => "gap last",
                Some(_) => "inner gap",
            };
            shapes.insert((adjustment.as_aws_str(), shape));
            check(&schedule, &compiled);
        }
        assert_eq!(shapes.len(), 8, "{shapes:?}");
    }

    // From 'lower alarm index is lower than higher alarm index' (property test).
    #[test]
    fn the_lower_alarm_interval_always_comes_before_the_upper_alarm_interval() {
        for_generated_schedules(|_, compiled| {
            if let (Some(lower), Some(upper)) = (&compiled.lower, &compiled.upper) {
                assert!(lower.threshold_interval < upper.threshold_interval);
            }
        });
    }

    // From 'never pick undefined intervals for relative alarms' (property test).
    #[test]
    fn alarms_are_never_anchored_on_the_no_action_gap() {
        for_generated_schedules(|_, compiled| {
            for policy in compiled.policies() {
                assert!(
                    compiled.intervals[policy.threshold_interval]
                        .change
                        .is_some()
                );
            }
        });
    }

    // From 'pick intervals on either side of the undefined interval, if present'.
    #[test]
    fn alarms_sit_on_either_side_of_an_inner_gap() {
        for_generated_schedules(|_, compiled| {
            let count = compiled.intervals.len();
            let gap = compiled.intervals.iter().position(|i| i.change.is_none());
            if let Some(gap) = gap.filter(|g| *g > 0 && *g < count - 1) {
                assert_eq!(lower_policy(compiled).threshold_interval, gap - 1);
                assert_eq!(upper_policy(compiled).threshold_interval, gap + 1);
            }
        });
    }

    // From 'no picking upper bound infinity for lower alarm'.
    #[test]
    fn the_lower_alarm_threshold_is_never_infinite() {
        for_generated_schedules(|_, compiled| {
            if let Some(lower) = &compiled.lower {
                assert!(lower.threshold.is_finite());
            }
        });
    }

    // From 'no picking lower bound 0 for upper alarm'.
    #[test]
    fn the_upper_alarm_threshold_is_never_zero() {
        for_generated_schedules(|_, compiled| {
            if let Some(upper) = &compiled.upper {
                assert_ne!(upper.threshold, 0.0);
            }
        });
    }

    // ---- CDK aws-applicationautoscaling/test/step-scaling-policy.test.ts ----

    /// Both policies' adjustments in absolute metric values, unbounded ends as ∓∞
    /// (the test file's `allStepsAbsolute`).
    fn absolute_steps(compiled: &CompiledSteps) -> Vec<(f64, f64, i32)> {
        compiled
            .policies()
            .flat_map(|p| {
                p.adjustments.iter().map(move |a| {
                    (
                        absolute(p.threshold, a.lower_bound, f64::NEG_INFINITY),
                        absolute(p.threshold, a.upper_bound, INF),
                        a.scaling_adjustment,
                    )
                })
            })
            .collect()
    }

    // From 'alarm thresholds are valid numbers' (property test).
    #[test]
    fn alarm_thresholds_are_positive_finite_numbers() {
        for_generated_schedules(|_, compiled| {
            for policy in compiled.policies() {
                assert!(policy.threshold > 0.0 && policy.threshold.is_finite());
            }
        });
    }

    // From 'generated step intervals are valid intervals' (property test).
    #[test]
    fn every_generated_adjustment_starts_below_where_it_ends() {
        for_generated_schedules(|_, compiled| {
            for (lower, upper, _) in absolute_steps(compiled) {
                assert!(lower < upper, "{lower} .. {upper}");
            }
        });
    }

    // From 'generated step intervals are nonoverlapping' (property test).
    #[test]
    fn generated_adjustments_never_overlap_across_both_policies() {
        for_generated_schedules(|_, compiled| {
            let all = absolute_steps(compiled);
            for (i, a) in all.iter().enumerate() {
                for b in &all[i + 1..] {
                    assert!(!(a.0 < b.1 && a.1 > b.0), "{a:?} overlaps {b:?}");
                }
            }
        });
    }

    // From 'all template intervals occur in input array' (property test).
    #[test]
    fn every_generated_adjustment_comes_from_an_input_step() {
        for_generated_schedules(|schedule, compiled| {
            for (lower, upper, change) in absolute_steps(compiled) {
                let lower_ok = |l: Option<f64>| {
                    l.is_none()
                        || l == Some(if lower == f64::NEG_INFINITY {
                            0.0
                        } else {
                            lower
                        })
                };
                let upper_ok = |u: Option<f64>| u.is_none() || u == Some(upper);
                assert!(
                    schedule
                        .iter()
                        .any(|s| lower_ok(s.lower) && upper_ok(s.upper)),
                    "({lower}, {upper}, {change}) not in {schedule:?}"
                );
            }
        });
    }

    // From 'test step scaling on metric' and 'step scaling from percentile metric'; these are
    // also QueueProcessingFargateService's default steps.
    #[test]
    fn the_queue_processing_default_steps_alarm_at_zero_and_at_100() {
        let compiled = ok(
            &[below(0.0, -1.0), above(100.0, 1.0), above(500.0, 5.0)],
            AdjustmentType::ChangeInCapacity,
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 0.0);
        assert_eq!(
            lower.comparison(),
            ComparisonOperator::LessThanOrEqualToThreshold
        );
        assert_eq!(lower.adjustments, vec![adj(None, Some(0.0), -1)]);
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 100.0);
        assert_eq!(
            upper.comparison(),
            ComparisonOperator::GreaterThanOrEqualToThreshold
        );
        assert_eq!(
            upper.adjustments,
            vec![adj(Some(0.0), Some(400.0), 1), adj(Some(400.0), None, 5)]
        );
        assert_eq!(
            AlarmSide::Upper.cdk_alarm_description(),
            "Upper threshold scaling alarm"
        );
    }

    // From 'step scaling from percentile metric'.
    #[test]
    fn a_percentile_statistic_defaults_the_aggregation_to_average() {
        assert_eq!(
            default_aggregation(Some("p99")),
            Some(AggregationType::Average)
        );
    }

    // From 'test step scaling on metric': a CDK Metric without a statistic uses Average.
    #[test]
    fn the_default_average_statistic_gives_average_aggregation() {
        assert_eq!(
            default_aggregation(Some("Average")),
            Some(AggregationType::Average)
        );
    }

    // From step-scaling-policy.ts `aggregationTypeFromMetric`; QueueProcessingFargateService's
    // queue metric (Maximum) gives Maximum.
    #[test]
    fn minimum_and_maximum_statistics_keep_their_own_aggregation() {
        assert_eq!(
            default_aggregation(Some("Minimum")),
            Some(AggregationType::Minimum)
        );
        assert_eq!(
            default_aggregation(Some("Maximum")),
            Some(AggregationType::Maximum)
        );
    }

    // From aws-cloudwatch statistic.ts `parseStatistic`, which CDK's Metric applies first.
    #[test]
    fn statistic_aliases_are_recognised_in_any_letter_case() {
        assert_eq!(
            default_aggregation(Some("max")),
            Some(AggregationType::Maximum)
        );
        assert_eq!(
            default_aggregation(Some("MIN")),
            Some(AggregationType::Minimum)
        );
        assert_eq!(
            default_aggregation(Some("avg")),
            Some(AggregationType::Average)
        );
        assert_eq!(
            default_aggregation(Some("Sum")),
            Some(AggregationType::Average)
        );
        assert_eq!(
            default_aggregation(Some("SampleCount")),
            Some(AggregationType::Average)
        );
    }

    // From `aggregationTypeFromMetric`: no statistic means a math expression.
    #[test]
    fn a_math_expression_leaves_the_aggregation_unset() {
        assert_eq!(default_aggregation(None), None);
    }

    // From StepScalingPolicy's defaults (`evaluationPeriods ?? 1`).
    #[test]
    fn evaluation_periods_default_to_one_and_datapoints_stay_unset() {
        assert_eq!(
            alarm_periods(None, None),
            Ok(AlarmPeriods {
                evaluation_periods: 1,
                datapoints_to_alarm: None
            })
        );
    }

    // From 'step scaling with evaluation period configured'.
    #[test]
    fn ten_evaluation_periods_are_accepted() {
        assert_eq!(
            alarm_periods(Some(10), None),
            Ok(AlarmPeriods {
                evaluation_periods: 10,
                datapoints_to_alarm: None
            })
        );
    }

    // From 'step scaling with evaluation period & data points to alarm configured'.
    #[test]
    fn six_datapoints_out_of_ten_periods_are_accepted() {
        assert_eq!(
            alarm_periods(Some(10), Some(6)),
            Ok(AlarmPeriods {
                evaluation_periods: 10,
                datapoints_to_alarm: Some(6)
            })
        );
    }

    fn period_errors(
        evaluation_periods: Option<i64>,
        datapoints_to_alarm: Option<i64>,
    ) -> Vec<StepError> {
        match alarm_periods(evaluation_periods, datapoints_to_alarm) {
            Ok(periods) => panic!("expected errors, got {periods:?}"),
            Err(errors) => errors,
        }
    }

    // From 'step scaling with invalid datapointsToAlarm throws error'.
    #[test]
    fn zero_datapoints_to_alarm_are_rejected() {
        let errs = period_errors(Some(10), Some(0));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, Field::DatapointsToAlarm);
        assert_eq!(errs[0].step, None);
        assert!(errs[0].message.contains("at least 1, got 0"));
    }

    // From 'step scaling with invalid evaluation period throws error' (CDK PR #28880).
    #[test]
    fn zero_evaluation_periods_are_rejected() {
        let errs = period_errors(Some(0), None);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, Field::EvaluationPeriods);
        assert!(errs[0].message.contains("at least 1, got 0"));
    }

    // From 'step scaling with datapointsToAlarm is greater than evaluationPeriods throws error'.
    #[test]
    fn more_datapoints_than_evaluation_periods_are_rejected() {
        let errs = period_errors(Some(10), Some(15));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, Field::DatapointsToAlarm);
        assert!(
            errs[0]
                .message
                .contains("(15) cannot be more than evaluation_periods (10)")
        );
    }

    // From 'step scaling with datapointsToAlarm without evaluationPeriods throws error'.
    #[test]
    fn datapoints_to_alarm_without_evaluation_periods_are_rejected() {
        let errs = period_errors(None, Some(15));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, Field::DatapointsToAlarm);
        assert!(errs[0].message.contains("evaluation_periods is not"));
    }

    #[test]
    fn every_evaluation_setting_problem_is_reported_at_once() {
        let errs = period_errors(Some(-3), Some(-1));
        let fields: Vec<Field> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![Field::EvaluationPeriods, Field::DatapointsToAlarm]
        );
        let errs = period_errors(Some(i64::MAX), None);
        assert!(errs[0].message.contains("too large"));
    }

    // From 'scalingSteps must have at least 2 steps'.
    #[test]
    fn a_single_step_is_rejected_for_the_whole_list() {
        let errs = errors(&[between(0.0, 2.0, 1.0)], AdjustmentType::ChangeInCapacity);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, None);
        assert_eq!(errs[0].field, Field::Step);
        assert!(errs[0].message.contains("at least 2 step blocks, got 1"));
    }

    #[test]
    fn an_empty_step_list_is_rejected_for_the_whole_list() {
        let errs = errors(&[], AdjustmentType::ChangeInCapacity);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, None);
        assert!(errs[0].message.contains("got 0"));
    }

    // From 'scalingSteps has a maximum of 40 steps', with the test's own 41 steps.
    #[test]
    fn forty_one_steps_are_rejected_for_the_whole_list() {
        let steps: Vec<StepInput> = (0..41_i32)
            .map(|i| between(f64::from(i * 20), f64::from(i * 21 - 1), f64::from(i + 1)))
            .collect();
        let errs = errors(&steps, AdjustmentType::ChangeInCapacity);
        assert_eq!(errs[0].step, None);
        assert_eq!(errs[0].field, Field::Step);
        assert!(errs[0].message.contains("at most 40 step blocks, got 41"));
        // The test's first step (0 to -1) is backwards as well; that is reported too.
        assert!(
            errs.iter()
                .any(|e| e.step == Some(0) && e.field == Field::Upper)
        );
    }

    // The other side of 'scalingSteps has a maximum of 40 steps': 40 contiguous steps are
    // fine and, with no gap, split 20/20, within AWS's default quota per policy.
    #[test]
    fn forty_contiguous_steps_split_evenly_between_the_two_policies() {
        let steps: Vec<StepInput> = (0..40_i32)
            .map(|i| between(f64::from(i * 10), f64::from(i * 10 + 10), f64::from(i + 1)))
            .collect();
        let compiled = ok(&steps, AdjustmentType::ChangeInCapacity);
        assert_eq!(compiled.intervals.len(), 41);
        // 40 steps from 0 to 400 plus the uncovered range from 400 upwards at the end.
        assert_eq!(compiled.upper, None);
        assert_eq!(lower_policy(&compiled).threshold, 400.0);
        assert_eq!(lower_policy(&compiled).adjustments.len(), 40);
        assert!(compiled.exceeds_default_adjustment_quota());

        let mut open_ended = steps;
        open_ended[39].upper = None;
        let compiled = ok(&open_ended, AdjustmentType::ChangeInCapacity);
        assert_eq!(lower_policy(&compiled).threshold, 200.0);
        assert_eq!(upper_policy(&compiled).threshold, 200.0);
        assert_eq!(lower_policy(&compiled).adjustments.len(), 20);
        assert_eq!(upper_policy(&compiled).adjustments.len(), 20);
        assert!(!compiled.exceeds_default_adjustment_quota());
    }

    // ---- CDK aws-autoscaling/test/scaling.test.ts (same shared interval code) ----

    // From 'step scaling': the upper alarm may carry scale-in steps.
    #[test]
    fn steps_that_remove_capacity_above_a_gap_go_to_the_upper_alarm() {
        let compiled = ok(
            &[
                between(0.0, 2.0, 1.0),
                between(3.0, 5.0, -1.0),
                above(5.0, -2.0),
            ],
            AdjustmentType::ChangeInCapacity,
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 2.0);
        assert_eq!(
            lower.comparison(),
            ComparisonOperator::LessThanOrEqualToThreshold
        );
        assert_eq!(lower.adjustments, vec![adj(None, Some(0.0), 1)]);
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 3.0);
        assert_eq!(
            upper.adjustments,
            vec![adj(Some(0.0), Some(2.0), -1), adj(Some(2.0), None, -2)]
        );
    }

    // From aws-cdk issue #10141 (the scale-down policy): steps are sorted before bounds are
    // filled, whatever order the user wrote them in.
    #[test]
    fn scale_in_steps_written_from_high_to_low_are_sorted_first() {
        let compiled = ok(
            &[below(50.0, -1.0), below(40.0, -2.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(compiled.intervals[0].steps, vec![1]);
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 50.0);
        assert_eq!(
            lower.adjustments,
            vec![adj(Some(-10.0), Some(0.0), -1), adj(None, Some(-10.0), -2)]
        );
        assert_eq!(compiled.upper, None);
    }

    // ---- The source stack's two policies on ApproximateNumberOfMessagesVisible ----

    #[test]
    fn the_source_stacks_task_policy_alarms_at_or_below_0_and_at_or_above_1() {
        let compiled = ok(&source_policy_a(), AdjustmentType::ChangeInCapacity);
        assert_eq!(
            line_of(&compiled),
            vec![
                piece(0.0, 0.0, Some(-1)),
                piece(0.0, 1.0, None),
                piece(1.0, 5.0, Some(1)),
                piece(5.0, 10.0, Some(3)),
                piece(10.0, INF, Some(5)),
            ]
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 0.0);
        assert_eq!(
            lower.comparison().as_aws_str(),
            "LessThanOrEqualToThreshold"
        );
        assert_eq!(lower.adjustments, vec![adj(None, Some(0.0), -1)]);
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 1.0);
        assert_eq!(
            upper.comparison().as_aws_str(),
            "GreaterThanOrEqualToThreshold"
        );
        assert_eq!(
            upper.adjustments,
            vec![
                adj(Some(0.0), Some(4.0), 1),
                adj(Some(4.0), Some(9.0), 3),
                adj(Some(9.0), None, 5),
            ]
        );
    }

    #[test]
    fn the_source_stacks_percent_policy_alarms_at_or_below_10_and_at_or_above_15() {
        let compiled = ok(&source_policy_b(), AdjustmentType::PercentChangeInCapacity);
        assert_eq!(
            line_of(&compiled),
            vec![
                piece(0.0, 10.0, Some(-10)),
                piece(10.0, 15.0, None),
                piece(15.0, INF, Some(67)),
            ]
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 10.0);
        assert_eq!(
            lower.comparison(),
            ComparisonOperator::LessThanOrEqualToThreshold
        );
        assert_eq!(lower.adjustments, vec![adj(None, Some(0.0), -10)]);
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 15.0);
        assert_eq!(
            upper.comparison(),
            ComparisonOperator::GreaterThanOrEqualToThreshold
        );
        assert_eq!(upper.adjustments, vec![adj(Some(0.0), None, 67)]);
    }

    #[test]
    fn the_source_stacks_policies_fight_between_1_and_10_visible_messages() {
        let a = ok(&source_policy_a(), AdjustmentType::ChangeInCapacity);
        let b = ok(&source_policy_b(), AdjustmentType::PercentChangeInCapacity);
        let overlaps = scale_in_out_overlaps(&a, &b);
        assert_eq!(
            overlaps,
            vec![Overlap {
                range: range(1.0, true, 10.0, true),
                this_direction: Direction::ScaleOut,
                this_adjustments: vec![1, 3, 5],
                other_adjustments: vec![-10],
            }]
        );
        assert_eq!(
            overlaps[0].to_string(),
            "for metric values in [1, 10] this policy scales out (+1, +3, +5) while the other \
             scales in (-10)"
        );
    }

    #[test]
    fn the_source_stacks_conflict_is_the_same_range_seen_from_the_other_policy() {
        let a = ok(&source_policy_a(), AdjustmentType::ChangeInCapacity);
        let b = ok(&source_policy_b(), AdjustmentType::PercentChangeInCapacity);
        assert_eq!(
            scale_in_out_overlaps(&b, &a),
            vec![Overlap {
                range: range(1.0, true, 10.0, true),
                this_direction: Direction::ScaleIn,
                this_adjustments: vec![-10],
                other_adjustments: vec![1, 3, 5],
            }]
        );
    }

    #[test]
    fn the_source_stacks_task_policy_acts_in_zones_with_aws_inclusivity() {
        let a = ok(&source_policy_a(), AdjustmentType::ChangeInCapacity);
        let zones: Vec<(MetricRange, i32, Direction)> = a
            .zones()
            .iter()
            .map(|z| (z.range, z.adjustment, z.direction))
            .collect();
        assert_eq!(
            zones,
            vec![
                (
                    range(f64::NEG_INFINITY, false, 0.0, true),
                    -1,
                    Direction::ScaleIn
                ),
                (range(1.0, true, 5.0, false), 1, Direction::ScaleOut),
                (range(5.0, true, 10.0, false), 3, Direction::ScaleOut),
                (range(10.0, true, INF, false), 5, Direction::ScaleOut),
            ]
        );
        assert!(!a.zones()[0].range.contains(0.5));
        assert!(a.zones()[1].range.contains(1.0));
    }

    #[test]
    fn policies_whose_alarms_never_meet_do_not_conflict() {
        let a = ok(&source_policy_a(), AdjustmentType::ChangeInCapacity);
        assert_eq!(scale_in_out_overlaps(&a, &a), vec![]);
        let scale_out_only = ok(
            &[above(65.0, 2.0), above(85.0, 3.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(scale_in_out_overlaps(&a, &scale_out_only), vec![]);
    }

    #[test]
    fn a_shared_threshold_point_is_a_conflict_of_its_own() {
        // Scales in at or below 10, scales out from 10.
        let first = ok(
            &[below(10.0, -1.0), above(20.0, 1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        let second = ok(
            &[below(5.0, -1.0), above(10.0, 1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        let overlaps = scale_in_out_overlaps(&first, &second);
        assert_eq!(overlaps.len(), 1);
        assert_eq!(overlaps[0].range, range(10.0, true, 10.0, true));
        assert_eq!(overlaps[0].this_direction, Direction::ScaleIn);
        assert_eq!(overlaps[0].range.to_string(), "[10, 10]");
    }

    #[test]
    fn exact_capacity_scales_in_on_the_lower_alarm_and_out_on_the_upper_alarm() {
        let exact = ok(
            &[below(5.0, 1.0), above(5.0, 4.0)],
            AdjustmentType::ExactCapacity,
        );
        let directions: Vec<(AlarmSide, Direction)> = exact
            .zones()
            .iter()
            .map(|z| (z.side, z.direction))
            .collect();
        assert_eq!(
            directions,
            vec![
                (AlarmSide::Lower, Direction::ScaleIn),
                (AlarmSide::Upper, Direction::ScaleOut),
            ]
        );
        let b = ok(&source_policy_b(), AdjustmentType::PercentChangeInCapacity);
        assert_eq!(
            scale_in_out_overlaps(&exact, &b),
            vec![Overlap {
                range: range(5.0, true, 10.0, true),
                this_direction: Direction::ScaleOut,
                this_adjustments: vec![4],
                other_adjustments: vec![-10],
            }]
        );
    }

    #[test]
    fn overlaps_below_zero_print_with_open_infinite_ends() {
        // Adds a task at or below 2 while the other removes one at or below 0.
        let adds_when_low = ok(
            &[
                between(0.0, 2.0, 1.0),
                between(3.0, 5.0, -1.0),
                above(5.0, -2.0),
            ],
            AdjustmentType::ChangeInCapacity,
        );
        let a = ok(&source_policy_a(), AdjustmentType::ChangeInCapacity);
        let overlaps = scale_in_out_overlaps(&a, &adds_when_low);
        assert_eq!(overlaps[0].range.to_string(), "(-∞, 0]");
        assert_eq!(overlaps[0].this_direction, Direction::ScaleIn);
        // And A's scale-out from 3 upwards meets the other's scale-in there.
        assert_eq!(overlaps[1].range.to_string(), "[3, ∞)");
        assert_eq!(overlaps[1].this_adjustments, vec![1, 3, 5]);
        assert_eq!(overlaps[1].other_adjustments, vec![-1, -2]);
    }

    // ---- Normalisation details of interval-utils.ts ----

    // `makeZerosUndefined`: for relative types a change of 0 is "no action".
    #[test]
    fn a_zero_change_becomes_the_gap_for_relative_adjustments() {
        let compiled = ok(
            &[
                below(10.0, -1.0),
                between(10.0, 20.0, 0.0),
                above(20.0, 1.0),
            ],
            AdjustmentType::PercentChangeInCapacity,
        );
        assert_eq!(compiled.intervals[1].change, None);
        assert_eq!(compiled.intervals[1].steps, vec![1]);
        assert_eq!(lower_policy(&compiled).threshold, 10.0);
        assert_eq!(upper_policy(&compiled).threshold, 20.0);
    }

    // `normalizeIntervals(…, changesAreAbsolute)`: with ExactCapacity, 0 means "set to 0",
    // so there is no gap and the list is split in the middle.
    #[test]
    fn a_zero_change_is_a_real_action_for_exact_capacity() {
        let compiled = ok(
            &[below(10.0, 0.0), above(10.0, 3.0)],
            AdjustmentType::ExactCapacity,
        );
        assert_eq!(
            line_of(&compiled),
            vec![piece(0.0, 10.0, Some(0)), piece(10.0, INF, Some(3))]
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 10.0);
        assert_eq!(lower.adjustments, vec![adj(None, Some(0.0), 0)]);
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 10.0);
        assert_eq!(upper.adjustments, vec![adj(Some(0.0), None, 3)]);
    }

    // `findAlarmThresholds` without a gap: `middleIndex = floor(n / 2)`.
    #[test]
    fn without_a_gap_the_split_follows_position_not_sign() {
        let compiled = ok(
            &[
                below(10.0, -2.0),
                between(10.0, 20.0, -1.0),
                above(20.0, 1.0),
            ],
            AdjustmentType::ChangeInCapacity,
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 10.0);
        assert_eq!(lower.adjustments, vec![adj(None, Some(0.0), -2)]);
        // The -1 step lands on the upper (>=) alarm, next to the +1 step.
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 10.0);
        assert_eq!(
            upper.adjustments,
            vec![adj(Some(0.0), Some(10.0), -1), adj(Some(10.0), None, 1)]
        );
    }

    #[test]
    fn without_a_gap_an_even_number_of_steps_splits_in_half() {
        let compiled = ok(
            &[
                below(10.0, -2.0),
                between(10.0, 20.0, -1.0),
                between(20.0, 30.0, 1.0),
                above(30.0, 2.0),
            ],
            AdjustmentType::ChangeInCapacity,
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold, 20.0);
        assert_eq!(lower.threshold_interval, 1);
        assert_eq!(
            lower.adjustments,
            vec![adj(Some(-10.0), Some(0.0), -1), adj(None, Some(-10.0), -2)]
        );
        let upper = upper_policy(&compiled);
        assert_eq!(upper.threshold, 20.0);
        assert_eq!(upper.threshold_interval, 2);
        assert_eq!(
            upper.adjustments,
            vec![adj(Some(0.0), Some(10.0), 1), adj(Some(10.0), None, 2)]
        );
    }

    // `combineUndefineds`: an uncovered range and a zero change next to it are one gap.
    #[test]
    fn a_zero_change_next_to_an_uncovered_range_merges_into_one_gap() {
        let compiled = ok(
            &[
                below(10.0, -1.0),
                between(20.0, 30.0, 0.0),
                above(30.0, 1.0),
            ],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(
            line_of(&compiled),
            vec![
                piece(0.0, 10.0, Some(-1)),
                piece(10.0, 30.0, None),
                piece(30.0, INF, Some(1)),
            ]
        );
        assert_eq!(compiled.intervals[1].steps, vec![1]);
        assert_eq!(lower_policy(&compiled).threshold, 10.0);
        assert_eq!(upper_policy(&compiled).threshold, 30.0);
    }

    // ---- CDK's full schedule with its no-change steps (test-utils.ts) ----
    //
    // `generateArbitraryIntervals` in aws-autoscaling-common/lib/test-utils.ts starts every
    // generated case from one full schedule whose two middle steps change nothing, then
    // removes or converts those steps and strips bounds. The cases below are fixed points of
    // that generator; each must compile, merge its steps of 0 into the no-action range, and
    // keep every user step's own range in `ranges` (what a plan shows for the step).

    /// The generator's full schedule: `factor` 1 scales out upwards, -1 downwards; `bias`
    /// is added to every change (50 for its absolute variant, with `factor` ±10).
    fn cdk_full_schedule(factor: f64, bias: f64) -> Vec<StepInput> {
        vec![
            between(0.0, 10.0, -2.0 * factor + bias),
            between(10.0, 20.0, -factor + bias),
            between(20.0, 60.0, bias),
            between(60.0, 80.0, bias),
            between(80.0, 90.0, factor + bias),
            between(90.0, INF, 2.0 * factor + bias),
        ]
    }

    fn ranges_of(compiled: &CompiledSteps) -> Vec<(f64, f64)> {
        compiled.ranges.iter().map(|r| (r.lower, r.upper)).collect()
    }

    /// One zero-change case: the steps, the number line, the indices of the user steps
    /// merged into the no-action range, and the two alarm thresholds.
    struct ZeroCase {
        name: &'static str,
        steps: Vec<StepInput>,
        line: Vec<(f64, f64, Option<i32>)>,
        merged: Vec<usize>,
        thresholds: (Option<f64>, Option<f64>),
    }

    fn zero_change_cases() -> Vec<ZeroCase> {
        let mut one_zero_removed = cdk_full_schedule(1.0, 0.0);
        one_zero_removed.remove(2);
        let mut first_zero_converted = cdk_full_schedule(1.0, 0.0);
        first_zero_converted[2].change = -1.0;
        let mut second_zero_converted = cdk_full_schedule(1.0, 0.0);
        second_zero_converted[3].change = 1.0;
        // The generator's bound stripping: the zero steps take their bounds from neighbours.
        let mut stripped = cdk_full_schedule(1.0, 0.0);
        stripped[2].lower = None;
        stripped[3].upper = None;
        stripped[5].upper = None;
        let mut upper_half_only = cdk_full_schedule(1.0, 0.0);
        upper_half_only.retain(|s| s.change >= 0.0);
        let mut reversed = cdk_full_schedule(1.0, 0.0);
        reversed.reverse();
        vec![
            ZeroCase {
                name: "full schedule, scaling out upwards",
                steps: cdk_full_schedule(1.0, 0.0),
                line: vec![
                    piece(0.0, 10.0, Some(-2)),
                    piece(10.0, 20.0, Some(-1)),
                    piece(20.0, 80.0, None),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                merged: vec![2, 3],
                thresholds: (Some(20.0), Some(80.0)),
            },
            ZeroCase {
                name: "full schedule, scaling out downwards",
                steps: cdk_full_schedule(-1.0, 0.0),
                line: vec![
                    piece(0.0, 10.0, Some(2)),
                    piece(10.0, 20.0, Some(1)),
                    piece(20.0, 80.0, None),
                    piece(80.0, 90.0, Some(-1)),
                    piece(90.0, INF, Some(-2)),
                ],
                merged: vec![2, 3],
                thresholds: (Some(20.0), Some(80.0)),
            },
            ZeroCase {
                name: "first zero step removed (uncovered range next to a zero step)",
                steps: one_zero_removed,
                line: vec![
                    piece(0.0, 10.0, Some(-2)),
                    piece(10.0, 20.0, Some(-1)),
                    piece(20.0, 80.0, None),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                merged: vec![2],
                thresholds: (Some(20.0), Some(80.0)),
            },
            ZeroCase {
                name: "first zero step turned into -1",
                steps: first_zero_converted,
                line: vec![
                    piece(0.0, 10.0, Some(-2)),
                    piece(10.0, 20.0, Some(-1)),
                    piece(20.0, 60.0, Some(-1)),
                    piece(60.0, 80.0, None),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                merged: vec![3],
                thresholds: (Some(60.0), Some(80.0)),
            },
            ZeroCase {
                name: "second zero step turned into +1",
                steps: second_zero_converted,
                line: vec![
                    piece(0.0, 10.0, Some(-2)),
                    piece(10.0, 20.0, Some(-1)),
                    piece(20.0, 60.0, None),
                    piece(60.0, 80.0, Some(1)),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                merged: vec![2],
                thresholds: (Some(20.0), Some(60.0)),
            },
            ZeroCase {
                name: "zero steps with bounds left to their neighbours",
                steps: stripped,
                line: vec![
                    piece(0.0, 10.0, Some(-2)),
                    piece(10.0, 20.0, Some(-1)),
                    piece(20.0, 80.0, None),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                merged: vec![2, 3],
                thresholds: (Some(20.0), Some(80.0)),
            },
            ZeroCase {
                name: "scale-in half stripped: the zero steps join the range from 0",
                steps: upper_half_only,
                line: vec![
                    piece(0.0, 80.0, None),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                merged: vec![0, 1],
                thresholds: (None, Some(80.0)),
            },
            ZeroCase {
                name: "full schedule written from high to low",
                steps: reversed,
                line: vec![
                    piece(0.0, 10.0, Some(-2)),
                    piece(10.0, 20.0, Some(-1)),
                    piece(20.0, 80.0, None),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                merged: vec![3, 2],
                thresholds: (Some(20.0), Some(80.0)),
            },
        ]
    }

    #[test]
    fn cdks_zero_change_schedules_merge_their_zeros_into_the_no_action_range() {
        for case in zero_change_cases() {
            let compiled = ok(&case.steps, AdjustmentType::ChangeInCapacity);
            assert_eq!(line_of(&compiled), case.line, "{}", case.name);
            let gap = compiled
                .intervals
                .iter()
                .find(|i| i.change.is_none())
                .expect("a no-action range");
            assert_eq!(gap.steps, case.merged, "{}", case.name);
            let thresholds = (
                compiled.lower.as_ref().map(|l| l.threshold),
                compiled.upper.as_ref().map(|u| u.threshold),
            );
            assert_eq!(thresholds, case.thresholds, "{}", case.name);
        }
    }

    #[test]
    fn steps_merged_into_the_no_action_range_keep_their_own_ranges() {
        for case in zero_change_cases() {
            let compiled = ok(&case.steps, AdjustmentType::ChangeInCapacity);
            assert_eq!(compiled.ranges.len(), case.steps.len(), "{}", case.name);
            for (i, (step, range)) in case.steps.iter().zip(&compiled.ranges).enumerate() {
                if let Some(lower) = step.lower {
                    assert_eq!(range.lower, lower, "{}: step[{i}]", case.name);
                }
                if let Some(upper) = step.upper {
                    assert_eq!(range.upper, upper, "{}: step[{i}]", case.name);
                }
            }
        }
        let full = ok(
            &cdk_full_schedule(1.0, 0.0),
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(
            ranges_of(&full),
            vec![
                (0.0, 10.0),
                (10.0, 20.0),
                (20.0, 60.0),
                (60.0, 80.0),
                (80.0, 90.0),
                (90.0, INF)
            ]
        );
        let mut stripped = cdk_full_schedule(1.0, 0.0);
        stripped[2].lower = None;
        stripped[3].upper = None;
        assert_eq!(
            ranges_of(&ok(&stripped, AdjustmentType::ChangeInCapacity))[2..4],
            [(20.0, 60.0), (60.0, 80.0)],
            "missing bounds come from the neighbours, not from the merged range"
        );
    }

    // The generator's absolute variant: with ExactCapacity a change of 50 is "set to 50",
    // so nothing merges, there is no gap, and CDK splits the six steps in the middle.
    #[test]
    fn cdks_absolute_schedule_has_no_gap_and_splits_in_the_middle() {
        let compiled = ok(
            &cdk_full_schedule(10.0, 50.0),
            AdjustmentType::ExactCapacity,
        );
        assert!(compiled.intervals.iter().all(|i| i.change.is_some()));
        assert_eq!(lower_policy(&compiled).threshold, 60.0);
        assert_eq!(upper_policy(&compiled).threshold, 60.0);
        assert_eq!(
            upper_policy(&compiled).adjustments,
            vec![
                adj(Some(0.0), Some(20.0), 50),
                adj(Some(20.0), Some(30.0), 60),
                adj(Some(30.0), None, 70)
            ]
        );
        assert_eq!(ranges_of(&compiled)[3], (60.0, 80.0));
    }

    #[test]
    fn generated_schedules_keep_every_given_bound_in_their_ranges() {
        for_generated_schedules(|schedule, compiled| {
            assert_eq!(compiled.ranges.len(), schedule.len());
            for (step, range) in schedule.iter().zip(&compiled.ranges) {
                assert!(step.lower.is_none_or(|l| l == range.lower), "{schedule:?}");
                assert!(step.upper.is_none_or(|u| u == range.upper), "{schedule:?}");
                assert!(range.lower <= range.upper, "{schedule:?}");
            }
        });
    }

    // `orderAndCompleteIntervals` sorts stably with `lower ?? upper` as the key.
    #[test]
    fn steps_in_any_order_compile_to_the_same_alarms() {
        let forward = ok(&source_policy_a(), AdjustmentType::ChangeInCapacity);
        let mut reversed_steps = source_policy_a();
        reversed_steps.reverse();
        let reversed = ok(&reversed_steps, AdjustmentType::ChangeInCapacity);
        assert_eq!(forward.lower, reversed.lower);
        assert_eq!(forward.upper, reversed.upper);
        assert_eq!(reversed.intervals[0].steps, vec![3]);
    }

    #[test]
    fn an_explicit_infinite_upper_bound_means_the_same_as_none() {
        let open = ok(&source_policy_b(), AdjustmentType::PercentChangeInCapacity);
        let explicit = ok(
            &[below(10.0, -10.0), between(15.0, INF, 67.0)],
            AdjustmentType::PercentChangeInCapacity,
        );
        assert_eq!(open, explicit);
    }

    #[test]
    fn a_negative_zero_bound_or_threshold_is_written_as_zero() {
        // -0 sorts and compares equal to 0, so these steps are [0, 0), [-0, 0), a gap up to 5,
        // then 5 and above; the second step's lower bound is -0 - 0 relative to the threshold.
        let compiled = ok(
            &[below(0.0, -2.0), between(-0.0, 0.0, -1.0), above(5.0, 1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        let lower = lower_policy(&compiled);
        assert_eq!(lower.threshold_interval, 1);
        assert_eq!(
            lower.adjustments,
            vec![adj(Some(0.0), Some(0.0), -1), adj(None, Some(0.0), -2)]
        );
        assert_eq!(
            lower.adjustments[0].lower_bound.map(f64::is_sign_negative),
            Some(false)
        );
        // A zero change at [0, 0) is the gap in front of a step that starts at -0.
        let compiled = ok(
            &[below(0.0, 0.0), above(-0.0, 1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        let upper = upper_policy(&compiled);
        assert!(!upper.threshold.is_sign_negative());
        assert_eq!(upper.adjustments, vec![adj(Some(0.0), None, 1)]);
    }

    // ---- Errors ----

    // From interval-utils.ts: "Must supply at least one of 'upper' or 'lower'".
    #[test]
    fn a_step_with_neither_bound_is_rejected_at_its_index() {
        let errs = errors(
            &[below(0.0, -1.0), step(None, None, 1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(1));
        assert_eq!(errs[0].field, Field::Step);
        assert!(errs[0].message.contains("neither lower nor upper"));
    }

    // From interval-utils.ts: "Two intervals overlap".
    #[test]
    fn overlapping_steps_are_rejected_at_the_higher_one() {
        let errs = errors(
            &[between(0.0, 10.0, 1.0), between(5.0, 20.0, 2.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(1));
        assert!(
            errs[0]
                .message
                .contains("step[1] (5 to 20) overlaps step[0] (0 to 10)")
        );
    }

    #[test]
    fn errors_point_at_the_users_order_not_the_sorted_order() {
        let errs = errors(
            &[between(5.0, 20.0, 2.0), between(0.0, 10.0, 1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(0));
        assert!(
            errs[0]
                .message
                .contains("step[0] (5 to 20) overlaps step[1] (0 to 10)")
        );
    }

    // From interval-utils.ts: "Can have at most one no-change interval".
    #[test]
    fn two_uncovered_ranges_are_rejected_at_the_step_above_the_second() {
        let errs = errors(
            &[below(0.0, -1.0), between(1.0, 3.0, 1.0), above(5.0, 3.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(2));
        assert!(
            errs[0]
                .message
                .contains("2 metric ranges have no scaling action (0 to 1, 3 to 5)")
        );
    }

    #[test]
    fn two_separate_zero_change_steps_are_rejected_at_the_higher_one() {
        let errs = errors(
            &[below(10.0, 0.0), between(10.0, 20.0, 1.0), above(20.0, 0.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(2));
        assert!(errs[0].message.contains("(0 to 10, 20 and above)"));
    }

    #[test]
    fn the_same_zero_changes_are_fine_with_exact_capacity() {
        let compiled = ok(
            &[below(10.0, 0.0), between(10.0, 20.0, 1.0), above(20.0, 0.0)],
            AdjustmentType::ExactCapacity,
        );
        assert!(compiled.intervals.iter().all(|i| i.change.is_some()));
    }

    #[test]
    fn steps_that_all_change_nothing_are_rejected() {
        let errs = errors(
            &[below(10.0, 0.0), above(10.0, 0.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, None);
        assert!(
            errs[0]
                .message
                .contains("no alarm or policy would be created")
        );
    }

    #[test]
    fn a_step_with_lower_above_upper_is_rejected() {
        let errs = errors(
            &[between(10.0, 5.0, 1.0), above(20.0, 2.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(0));
        assert_eq!(errs[0].field, Field::Upper);
        assert!(errs[0].message.contains("lower (10) is above upper (5)"));
    }

    #[test]
    fn a_step_whose_inherited_lower_bound_passes_its_upper_is_reported_as_an_overlap() {
        // CDK accepts this (its neighbour check sees [0, 20) and [20, 10) as disjoint).
        let errs = errors(
            &[between(0.0, 20.0, 1.0), below(10.0, -1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(1));
        assert!(
            errs[0]
                .message
                .contains("step[1] (upper 10) overlaps step[0] (0 to 20)")
        );
    }

    #[test]
    fn a_lowest_step_ending_below_zero_is_rejected() {
        let errs = errors(
            &[below(-5.0, -1.0), above(0.0, 1.0)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(0));
        assert!(errs[0].message.contains("upper bound of 0 or more"));
    }

    #[test]
    fn non_finite_bounds_are_rejected() {
        let errs = errors(
            &[
                step(Some(f64::NAN), Some(1.0), 1.0),
                step(Some(INF), None, 1.0),
                step(None, Some(f64::NEG_INFINITY), 1.0),
                step(Some(1.0), Some(f64::NAN), 1.0),
            ],
            AdjustmentType::ChangeInCapacity,
        );
        let at: Vec<(Option<usize>, Field)> = errs.iter().map(|e| (e.step, e.field)).collect();
        assert_eq!(
            at,
            vec![
                (Some(0), Field::Lower),
                (Some(1), Field::Lower),
                (Some(2), Field::Upper),
                (Some(3), Field::Upper),
            ]
        );
    }

    // AWS's StepAdjustment.ScalingAdjustment is an integer.
    #[test]
    fn fractional_changes_are_rejected() {
        let errs = errors(
            &[below(0.0, -1.0), above(1.0, 1.5)],
            AdjustmentType::ChangeInCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(1));
        assert_eq!(errs[0].field, Field::Change);
        assert!(errs[0].message.contains("whole number"));
    }

    #[test]
    fn changes_beyond_32_bits_are_rejected() {
        let errs = errors(
            &[below(0.0, -1.0), above(1.0, 3e9), above(2.0, f64::INFINITY)],
            AdjustmentType::ChangeInCapacity,
        );
        let at: Vec<Option<usize>> = errs.iter().map(|e| e.step).collect();
        assert_eq!(at, vec![Some(1), Some(2)]);
        assert!(errs[0].message.contains("outside the range"));
    }

    // AWS StepAdjustment: "For exact capacity, you must specify a non-negative value."
    #[test]
    fn negative_exact_capacity_is_rejected() {
        let errs = errors(
            &[below(5.0, -1.0), above(5.0, 4.0)],
            AdjustmentType::ExactCapacity,
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].step, Some(0));
        assert_eq!(errs[0].field, Field::Change);
        assert!(errs[0].message.contains("cannot be negative"));
    }

    #[test]
    fn every_problem_in_the_list_is_reported_at_once() {
        let errs = errors(
            &[
                step(None, None, 0.5),
                between(3.0, 1.0, 1.0),
                above(5.0, 2.0),
            ],
            AdjustmentType::ChangeInCapacity,
        );
        let at: Vec<(Option<usize>, Field)> = errs.iter().map(|e| (e.step, e.field)).collect();
        assert_eq!(
            at,
            vec![
                (Some(0), Field::Step),
                (Some(0), Field::Change),
                (Some(1), Field::Upper),
            ]
        );
    }

    #[test]
    fn errors_display_as_their_message() {
        let errs = errors(&[], AdjustmentType::ChangeInCapacity);
        assert_eq!(errs[0].to_string(), errs[0].message);
    }

    // ---- min_adjustment_magnitude ----

    #[test]
    fn min_adjustment_magnitude_is_accepted_for_percent_changes() {
        assert_eq!(
            validate_min_adjustment_magnitude(Some(2), AdjustmentType::PercentChangeInCapacity),
            Ok(Some(2))
        );
        assert_eq!(
            validate_min_adjustment_magnitude(None, AdjustmentType::ExactCapacity),
            Ok(None)
        );
    }

    #[test]
    fn min_adjustment_magnitude_is_rejected_for_other_adjustment_types() {
        for adjustment in [
            AdjustmentType::ChangeInCapacity,
            AdjustmentType::ExactCapacity,
        ] {
            let err = validate_min_adjustment_magnitude(Some(2), adjustment).expect_err("rejected");
            assert_eq!(err.field, Field::MinAdjustmentMagnitude);
            assert!(err.message.contains(adjustment.as_aws_str()));
        }
    }

    #[test]
    fn negative_or_oversized_min_adjustment_magnitude_is_rejected() {
        let percent = AdjustmentType::PercentChangeInCapacity;
        assert!(validate_min_adjustment_magnitude(Some(-1), percent).is_err());
        assert!(validate_min_adjustment_magnitude(Some(i64::MAX), percent).is_err());
    }

    // ---- Names ----

    #[test]
    fn adjustment_types_round_trip_through_their_aws_names() {
        for adjustment in [
            AdjustmentType::ChangeInCapacity,
            AdjustmentType::PercentChangeInCapacity,
            AdjustmentType::ExactCapacity,
        ] {
            assert_eq!(
                AdjustmentType::from_aws_str(adjustment.as_aws_str()),
                Some(adjustment)
            );
        }
        assert_eq!(AdjustmentType::from_aws_str("changeincapacity"), None);
        assert_eq!(AdjustmentType::default(), AdjustmentType::ChangeInCapacity);
        assert_eq!(AggregationType::Maximum.as_aws_str(), "Maximum");
    }
}
