//! Where a compiled policy acts and which way ([`CompiledSteps::zones`]), and the metric
//! ranges where two policies on the same metric pull capacity opposite ways
//! ([`scale_in_out_overlaps`]). CDK has no such check; it is ours.

use std::cmp::Ordering;
use std::fmt;

use super::compiler::{CompiledSteps, StepAdjustment};
use super::kinds::{AdjustmentType, AlarmSide};
use super::number;

impl CompiledSteps {
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
pub(super) fn absolute(threshold: f64, bound: Option<f64>, unbounded: f64) -> f64 {
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
