//! CDK's step normalisation and alarm placement (`normalizeIntervals` and
//! `findAlarmThresholds` in aws-cdk-lib/aws-autoscaling-common/lib/interval-utils.ts, and
//! `StepScalingPolicy` in aws-cdk-lib/aws-applicationautoscaling/lib/step-scaling-policy.ts):
//! from the user's steps to the number line, the alarm thresholds and each policy's step
//! adjustments, with the checks on the way.

use std::cmp::Ordering;

use super::error::{Field, StepError};
use super::kinds::{AdjustmentType, AlarmSide, ComparisonOperator};
use super::{number, span};

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
    /// from what AWS holds ([`crate::scaling::step_policy::one_side`]).
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
