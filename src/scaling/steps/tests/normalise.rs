//! Normalisation details of interval-utils.ts beyond CDK's own test cases: zero changes,
//! the split without a gap, CDK's full generator schedule, ordering and number edge cases.

use super::*;

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
