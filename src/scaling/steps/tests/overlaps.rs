//! The source stack's two policies on one queue metric: their alarms, their zones, and
//! where they pull capacity opposite ways.

use super::*;

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
