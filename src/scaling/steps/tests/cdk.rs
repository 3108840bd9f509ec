//! CDK's own test cases for step computation, one table row each: the steps and the
//! adjustment type, and what CDK makes of them (the number line, each alarm's threshold and
//! its policy's step adjustments) or the error it throws.
//!
//! Where we report more than CDK (it stops at its first error), the row lists every error
//! we report and says so.

use super::*;

/// An alarm as a row expects it.
struct Alarm {
    /// The alarm threshold.
    threshold: f64,
    /// Index of the number-line piece the threshold comes from.
    interval: usize,
    /// The policy's step adjustments, in CDK's order (outward from the threshold).
    adjustments: Vec<StepAdjustment>,
}

fn alarm(threshold: f64, interval: usize, adjustments: Vec<StepAdjustment>) -> Option<Alarm> {
    Some(Alarm {
        threshold,
        interval,
        adjustments,
    })
}

/// What compiling a row's steps must give.
enum Outcome {
    /// The steps compile to this number line and these alarms (`None`: no such alarm).
    Compiles {
        line: Vec<(f64, f64, Option<i32>)>,
        lower: Option<Alarm>,
        upper: Option<Alarm>,
    },
    /// The steps are rejected with exactly these errors, in this order: the user's step at
    /// fault, the setting, and a part of the message.
    Fails(Vec<(Option<usize>, Field, &'static str)>),
}

struct Case {
    /// The CDK test (or the CDK code path) the row comes from.
    cdk: &'static str,
    steps: Vec<StepInput>,
    adjustment: AdjustmentType,
    outcome: Outcome,
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

/// The 41 steps of 'scalingSteps has a maximum of 40 steps': `lower = 20i`,
/// `upper = 21i - 1`, `change = i + 1`.
fn forty_one_steps() -> Vec<StepInput> {
    (0..41_i32)
        .map(|i| between(f64::from(i * 20), f64::from(i * 21 - 1), f64::from(i + 1)))
        .collect()
}

// The cases of aws/aws-cdk, packages/aws-cdk-lib:
//   aws-applicationautoscaling/test/step-scaling-policy.test.ts (`scaleOnMetric` on an
//     ECS-style scalable target, built by aws-applicationautoscaling/lib/step-scaling-policy.ts),
//   aws-autoscaling-common/test/intervals.test.ts (the shared `normalizeIntervals` and
//     `findAlarmThresholds` of aws-autoscaling-common/lib/interval-utils.ts),
//   aws-autoscaling/test/scaling.test.ts 'step scaling' (EC2's `scaleOnMetric`, same shared code),
//   and the errors interval-utils.ts throws.
// The property tests of the first two files are in `properties`.
fn cases() -> Vec<Case> {
    use AdjustmentType::ChangeInCapacity;
    vec![
        Case {
            cdk: "step-scaling-policy.test.ts 'test step scaling on metric' (the same steps as \
                  'step scaling from percentile metric' and both 'step scaling with evaluation \
                  period …' tests)",
            steps: vec![below(0.0, -1.0), above(100.0, 1.0), above(500.0, 5.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Compiles {
                line: vec![
                    piece(0.0, 0.0, Some(-1)),
                    piece(0.0, 100.0, None),
                    piece(100.0, 500.0, Some(1)),
                    piece(500.0, INF, Some(5)),
                ],
                lower: alarm(0.0, 0, vec![adj(None, Some(0.0), -1)]),
                upper: alarm(
                    100.0,
                    2,
                    vec![adj(Some(0.0), Some(400.0), 1), adj(Some(400.0), None, 5)],
                ),
            },
        },
        Case {
            cdk: "step-scaling-policy.test.ts 'scalingSteps must have at least 2 steps'",
            steps: vec![between(0.0, 2.0, 1.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Fails(vec![(None, Field::Step, "at least 2 step blocks, got 1")]),
        },
        Case {
            cdk: "step-scaling-policy.test.ts 'scalingSteps has a maximum of 40 steps' (CDK \
                  stops at the count; we also report that its first step, 0 to -1, is backwards)",
            steps: forty_one_steps(),
            adjustment: ChangeInCapacity,
            outcome: Outcome::Fails(vec![
                (None, Field::Step, "at most 40 step blocks, got 41"),
                (Some(0), Field::Upper, "lower (0) is above upper (-1)"),
            ]),
        },
        Case {
            cdk: "intervals.test.ts 'test bounds propagation'",
            steps: realistic_relative_steps(),
            adjustment: ChangeInCapacity,
            outcome: Outcome::Compiles {
                line: vec![
                    piece(0.0, 10.0, Some(-2)),
                    piece(10.0, 20.0, Some(-1)),
                    piece(20.0, 80.0, None),
                    piece(80.0, 90.0, Some(1)),
                    piece(90.0, INF, Some(2)),
                ],
                lower: alarm(
                    20.0,
                    1,
                    vec![adj(Some(-10.0), Some(0.0), -1), adj(None, Some(-10.0), -2)],
                ),
                upper: alarm(
                    80.0,
                    3,
                    vec![adj(Some(0.0), Some(10.0), 1), adj(Some(10.0), None, 2)],
                ),
            },
        },
        Case {
            cdk: "intervals.test.ts 'test interval completion' (incompleteLowerRelativeIntervals)",
            steps: vec![above(65.0, 2.0), above(85.0, 3.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Compiles {
                line: vec![
                    piece(0.0, 65.0, None),
                    piece(65.0, 85.0, Some(2)),
                    piece(85.0, INF, Some(3)),
                ],
                lower: None,
                upper: alarm(
                    65.0,
                    1,
                    vec![adj(Some(0.0), Some(20.0), 2), adj(Some(20.0), None, 3)],
                ),
            },
        },
        Case {
            cdk: "intervals.test.ts 'test interval completion' (incompleteUpperRelativeIntervals)",
            steps: vec![below(65.0, 2.0), below(85.0, 3.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Compiles {
                line: vec![
                    piece(0.0, 65.0, Some(2)),
                    piece(65.0, 85.0, Some(3)),
                    piece(85.0, INF, None),
                ],
                lower: alarm(
                    85.0,
                    1,
                    vec![adj(Some(-20.0), Some(0.0), 3), adj(None, Some(-20.0), 2)],
                ),
                upper: None,
            },
        },
        Case {
            cdk: "intervals.test.ts 'bounds propagation fails if middle boundary missing' \
                  (interval-utils.ts: 'Could not determine the lower and upper bounds')",
            steps: vec![above(0.0, -2.0), below(20.0, -1.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Fails(vec![(
                Some(0),
                Field::Upper,
                "set upper on step[0] or lower on step[1]",
            )]),
        },
        Case {
            cdk: "aws-autoscaling scaling.test.ts 'step scaling': the upper alarm carries \
                  scale-in steps",
            steps: vec![
                between(0.0, 2.0, 1.0),
                between(3.0, 5.0, -1.0),
                above(5.0, -2.0),
            ],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Compiles {
                line: vec![
                    piece(0.0, 2.0, Some(1)),
                    piece(2.0, 3.0, None),
                    piece(3.0, 5.0, Some(-1)),
                    piece(5.0, INF, Some(-2)),
                ],
                lower: alarm(2.0, 0, vec![adj(None, Some(0.0), 1)]),
                upper: alarm(
                    3.0,
                    2,
                    vec![adj(Some(0.0), Some(2.0), -1), adj(Some(2.0), None, -2)],
                ),
            },
        },
        Case {
            cdk: "interval-utils.ts throws 'Must supply at least one of 'upper' or 'lower''",
            steps: vec![below(0.0, -1.0), step(None, None, 1.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Fails(vec![(Some(1), Field::Step, "neither lower nor upper")]),
        },
        Case {
            cdk: "interval-utils.ts throws 'Two intervals overlap'",
            steps: vec![between(0.0, 10.0, 1.0), between(5.0, 20.0, 2.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Fails(vec![(
                Some(1),
                Field::Step,
                "step[1] (5 to 20) overlaps step[0] (0 to 10)",
            )]),
        },
        Case {
            cdk: "interval-utils.ts throws 'Can have at most one no-change interval'",
            steps: vec![below(0.0, -1.0), between(1.0, 3.0, 1.0), above(5.0, 3.0)],
            adjustment: ChangeInCapacity,
            outcome: Outcome::Fails(vec![(
                Some(2),
                Field::Step,
                "2 metric ranges have no scaling action (0 to 1, 3 to 5)",
            )]),
        },
    ]
}

fn check_alarm(cdk: &str, side: AlarmSide, got: Option<&AlarmPolicy>, want: Option<&Alarm>) {
    match (got, want) {
        (None, None) => {}
        (Some(got), Some(want)) => {
            assert_eq!(got.side, side, "{cdk}");
            assert_eq!(got.comparison(), side.comparison(), "{cdk}");
            assert_eq!(got.threshold, want.threshold, "{cdk}: {side:?} threshold");
            assert_eq!(
                got.threshold_interval, want.interval,
                "{cdk}: {side:?} piece"
            );
            assert_eq!(got.adjustments, want.adjustments, "{cdk}: {side:?} steps");
        }
        (got, want) => panic!(
            "{cdk}: {side:?} alarm: got {got:?}, want one: {}",
            want.is_some()
        ),
    }
}

#[test]
fn cdks_step_computation_cases() {
    for case in cases() {
        let cdk = case.cdk;
        match (compile(&case.steps, case.adjustment), case.outcome) {
            (Ok(compiled), Outcome::Compiles { line, lower, upper }) => {
                assert_eq!(line_of(&compiled), line, "{cdk}: number line");
                check_alarm(
                    cdk,
                    AlarmSide::Lower,
                    compiled.lower.as_ref(),
                    lower.as_ref(),
                );
                check_alarm(
                    cdk,
                    AlarmSide::Upper,
                    compiled.upper.as_ref(),
                    upper.as_ref(),
                );
            }
            (Err(errors), Outcome::Fails(want)) => {
                let at: Vec<(Option<usize>, Field)> =
                    errors.iter().map(|e| (e.step, e.field)).collect();
                let want_at: Vec<(Option<usize>, Field)> =
                    want.iter().map(|w| (w.0, w.1)).collect();
                assert_eq!(at, want_at, "{cdk}: {errors:#?}");
                for (error, (_, _, says)) in errors.iter().zip(&want) {
                    assert!(error.message.contains(says), "{cdk}: {}", error.message);
                }
            }
            (Ok(compiled), Outcome::Fails(_)) => panic!("{cdk}: compiled to {compiled:#?}"),
            (Err(errors), Outcome::Compiles { .. }) => panic!("{cdk}: failed with {errors:#?}"),
        }
    }
}

// step-scaling-policy.ts: `alarmDescription` of the lower and upper alarm.
#[test]
fn alarm_descriptions_are_cdks() {
    assert_eq!(
        AlarmSide::Lower.cdk_alarm_description(),
        "Lower threshold scaling alarm"
    );
    assert_eq!(
        AlarmSide::Upper.cdk_alarm_description(),
        "Upper threshold scaling alarm"
    );
}

// The alarm's evaluation settings in aws-applicationautoscaling/test/step-scaling-policy.test.ts
// (all with the steps of 'test step scaling on metric'), checked as
// aws-applicationautoscaling/lib/step-scaling-policy.ts checks them: the settings given, and
// the alarm's `EvaluationPeriods` and `DatapointsToAlarm`, or the setting at fault and a part
// of our message (CDK's own message in the row's name).
#[test]
fn cdks_evaluation_setting_cases() {
    type Row = (
        &'static str,
        Option<i64>,
        Option<i64>,
        Result<(u32, Option<u32>), (Field, &'static str)>,
    );
    let rows: [Row; 7] = [
        (
            "'test step scaling on metric': `evaluationPeriods ?? 1`",
            None,
            None,
            Ok((1, None)),
        ),
        (
            "'step scaling with evaluation period configured'",
            Some(10),
            None,
            Ok((10, None)),
        ),
        (
            "'step scaling with invalid evaluation period throws error' \
             (evaluationPeriods cannot be less than 1, got: 0)",
            Some(0),
            None,
            Err((
                Field::EvaluationPeriods,
                "evaluation_periods must be at least 1, got 0",
            )),
        ),
        (
            "'step scaling with evaluation period & data points to alarm configured'",
            Some(10),
            Some(6),
            Ok((10, Some(6))),
        ),
        (
            "'step scaling with invalid datapointsToAlarm throws error' \
             (datapointsToAlarm cannot be less than 1, got: 0)",
            Some(10),
            Some(0),
            Err((
                Field::DatapointsToAlarm,
                "datapoints_to_alarm must be at least 1, got 0",
            )),
        ),
        (
            "'step scaling with datapointsToAlarm is greater than evaluationPeriods throws error'",
            Some(10),
            Some(15),
            Err((
                Field::DatapointsToAlarm,
                "datapoints_to_alarm (15) cannot be more than evaluation_periods (10)",
            )),
        ),
        (
            "'step scaling with datapointsToAlarm without evaluationPeriods throws error' \
             (evaluationPeriods must be set if datapointsToAlarm is set)",
            None,
            Some(15),
            Err((
                Field::DatapointsToAlarm,
                "datapoints_to_alarm is set but evaluation_periods is not",
            )),
        ),
    ];
    for (cdk, evaluation_periods, datapoints_to_alarm, want) in rows {
        let got = alarm_periods(evaluation_periods, datapoints_to_alarm);
        match (got, want) {
            (Ok(got), Ok((evaluation_periods, datapoints_to_alarm))) => assert_eq!(
                got,
                AlarmPeriods {
                    evaluation_periods,
                    datapoints_to_alarm
                },
                "{cdk}"
            ),
            (Err(errors), Err((field, says))) => {
                assert_eq!(errors.len(), 1, "{cdk}: {errors:#?}");
                assert_eq!(errors[0].step, None, "{cdk}");
                assert_eq!(errors[0].field, field, "{cdk}");
                assert!(
                    errors[0].message.contains(says),
                    "{cdk}: {}",
                    errors[0].message
                );
            }
            (got, want) => panic!("{cdk}: got {got:?}, want {want:?}"),
        }
    }
}

// The `MetricAggregationType` CDK picks when none is given: aws-applicationautoscaling/lib/
// step-scaling-policy.ts `aggregationTypeFromMetric`, as 'test step scaling on metric' (a
// Metric without a statistic, which CDK gives Average) and 'step scaling from percentile
// metric' assert it. (The rows with an explicit `metricAggregationType: MAXIMUM` pass it
// through; that is the resource's job, not this module's.)
#[test]
fn cdks_default_aggregation_cases() {
    let rows: [(&str, Option<&str>, Option<AggregationType>); 5] = [
        (
            "'test step scaling on metric'",
            Some("Average"),
            Some(AggregationType::Average),
        ),
        (
            "'step scaling from percentile metric'",
            Some("p99"),
            Some(AggregationType::Average),
        ),
        (
            "aggregationTypeFromMetric: Minimum",
            Some("Minimum"),
            Some(AggregationType::Minimum),
        ),
        (
            "aggregationTypeFromMetric: Maximum",
            Some("Maximum"),
            Some(AggregationType::Maximum),
        ),
        (
            "aggregationTypeFromMetric: a math expression has no statistic",
            None,
            None,
        ),
    ];
    for (cdk, statistic, want) in rows {
        assert_eq!(default_aggregation(statistic), want, "{cdk}");
    }
}
