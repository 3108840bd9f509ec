//! The checks beyond CDK's: every problem reported at once, pointing at the user's step,
//! and the inputs CDK accepts but AWS would refuse or never act on; plus the settings and
//! names around the steps.

use super::*;

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
fn an_empty_step_list_is_rejected_for_the_whole_list() {
    let errs = errors(&[], AdjustmentType::ChangeInCapacity);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].step, None);
    assert!(errs[0].message.contains("got 0"));
}

// From 'scalingSteps has a maximum of 40 steps', with the test's own 41 steps.

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
