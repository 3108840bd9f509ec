//! What `queuescale_step_scaling_policy` puts into AWS: CDK's `scaleOnMetric` result
//! (see `steps.rs`) turned into model alarms and step policies, plus the pieces the
//! resource needs around it — rebuilding another policy's zones from what AWS holds (for
//! the conflict warning) and the user's steps from the two policies (for import).
//!
//! Pure: no I/O, no Terraform or AWS SDK types.

use super::model::{
    Alarm, AlarmMetric, Comparison, MetricQuery, MissingData, Policy, PolicyKind, StepPolicy,
};
use super::steps::{
    AdjustmentType, AggregationType, AlarmPeriods, AlarmPolicy, AlarmSide, ComparisonOperator,
    CompiledSteps, StepAdjustment, StepInput,
};

/// The resource's configuration, validated and compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSpec {
    /// Base of the policy and alarm names.
    pub name: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// What the alarms watch.
    pub metric: AlarmMetric,
    /// How changes apply.
    pub adjustment_type: AdjustmentType,
    /// Cooldown in seconds (unset: AWS's default).
    pub cooldown: Option<i32>,
    /// Floor for percent changes.
    pub min_adjustment_magnitude: Option<i32>,
    /// Aggregation of alarm datapoints.
    pub aggregation: Option<AggregationType>,
    /// Evaluation periods and datapoints to alarm.
    pub periods: AlarmPeriods,
    /// CDK's compiled steps.
    pub steps: CompiledSteps,
}

/// The purpose label (and name suffix) of a side: `lower` or `upper`.
pub const fn side_label(side: AlarmSide) -> &'static str {
    match side {
        AlarmSide::Lower => "lower",
        AlarmSide::Upper => "upper",
    }
}

/// The policy and alarm name of one side.
pub fn object_name(name: &str, side: AlarmSide) -> String {
    format!("{name}-{}", side_label(side))
}

/// Longest `name` whose object names fit CloudWatch's 255 characters.
pub const MAX_NAME_LEN: usize = 255 - "-lower".len();

fn comparison(op: ComparisonOperator) -> Comparison {
    match op {
        ComparisonOperator::LessThanOrEqualToThreshold => Comparison::LessOrEqual,
        ComparisonOperator::GreaterThanOrEqualToThreshold => Comparison::GreaterOrEqual,
    }
}

/// Objects keyed by the side of the no-action range they serve.
pub type BySide<T> = Vec<(AlarmSide, T)>;

/// The step policies and alarms of `spec`, one per side, lower first. Alarm actions are
/// left empty until the policies exist.
pub fn objects(spec: &StepSpec) -> (BySide<Policy>, BySide<Alarm>) {
    let mut policies = Vec::new();
    let mut alarms = Vec::new();
    for side in spec.steps.policies() {
        let name = object_name(&spec.name, side.side);
        policies.push((
            side.side,
            Policy {
                name: name.clone(),
                resource_id: spec.resource_id.clone(),
                kind: PolicyKind::Step(StepPolicy {
                    adjustment_type: spec.adjustment_type,
                    cooldown: spec.cooldown,
                    aggregation: spec.aggregation,
                    min_adjustment_magnitude: spec.min_adjustment_magnitude,
                    steps: side.adjustments.clone(),
                }),
            },
        ));
        alarms.push((
            side.side,
            Alarm {
                name,
                description: side.side.cdk_alarm_description().to_owned(),
                metric: spec.metric.clone(),
                comparison: comparison(side.comparison()),
                threshold: side.threshold,
                evaluation_periods: i32::try_from(spec.periods.evaluation_periods)
                    .unwrap_or(i32::MAX),
                datapoints_to_alarm: spec
                    .periods
                    .datapoints_to_alarm
                    .map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
                // CDK leaves TreatMissingData unset, which CloudWatch treats as `missing`.
                missing_data: MissingData::Missing,
                actions: Vec::new(),
            },
        ));
    }
    (policies, alarms)
}

/// One side of a step policy as AWS holds it (its alarm's comparison and threshold, its
/// adjustments), as [`CompiledSteps`] for [`super::steps::scale_in_out_overlaps`].
/// `None` for a comparison that is not one of step scaling's two.
pub fn one_side(
    adjustment_type: AdjustmentType,
    comparison: Comparison,
    threshold: f64,
    adjustments: &[StepAdjustment],
) -> Option<CompiledSteps> {
    let side = match comparison {
        Comparison::LessOrEqual | Comparison::Less => AlarmSide::Lower,
        Comparison::GreaterOrEqual | Comparison::Greater => AlarmSide::Upper,
    };
    let policy = AlarmPolicy {
        side,
        threshold,
        threshold_interval: 0,
        adjustments: adjustments.to_vec(),
    };
    let (lower, upper) = match side {
        AlarmSide::Lower => (Some(policy), None),
        AlarmSide::Upper => (None, Some(policy)),
    };
    Some(CompiledSteps {
        adjustment_type,
        intervals: Vec::new(),
        lower,
        upper,
        ranges: Vec::new(),
    })
}

/// Whether two alarms watch the same data (labels aside).
pub fn same_metric(a: &AlarmMetric, b: &AlarmMetric) -> bool {
    fn unlabelled(queries: &[MetricQuery]) -> Vec<MetricQuery> {
        queries
            .iter()
            .map(|q| MetricQuery {
                label: None,
                ..q.clone()
            })
            .collect()
    }
    match (a, b) {
        (AlarmMetric::Single(x), AlarmMetric::Single(y)) => x == y,
        (AlarmMetric::Math(x), AlarmMetric::Math(y)) => unlabelled(x) == unlabelled(y),
        _ => false,
    }
}

/// The user's steps recovered from the two policies AWS holds (each with its alarm
/// threshold), in ascending order with explicit bounds: what an import writes to state.
/// The lowest step of the lower policy starts at 0, as CDK's normalisation puts it.
pub fn steps_from_aws(
    lower: Option<(f64, &[StepAdjustment])>,
    upper: Option<(f64, &[StepAdjustment])>,
) -> Vec<StepInput> {
    let mut steps = Vec::new();
    if let Some((t, adjustments)) = lower {
        for a in adjustments {
            steps.push(StepInput {
                lower: Some(a.lower_bound.map_or(0.0, |b| t + b)),
                upper: a.upper_bound.map(|b| t + b),
                change: f64::from(a.scaling_adjustment),
            });
        }
    }
    if let Some((t, adjustments)) = upper {
        for a in adjustments {
            steps.push(StepInput {
                lower: a.lower_bound.map(|b| t + b),
                upper: a.upper_bound.map(|b| t + b),
                change: f64::from(a.scaling_adjustment),
            });
        }
    }
    steps.sort_by(|a, b| {
        a.lower
            .unwrap_or(0.0)
            .partial_cmp(&b.lower.unwrap_or(0.0))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    steps
}

/// Each user step with its bounds made explicit as CDK fills them in from the neighbouring
/// steps (an upper bound of +∞ stays `None`), in the user's order: what plans and state
/// show for the bounds a user left out. Bounds the user gave are kept exactly; a step whose
/// `change` of 0 was merged into the no-action range keeps its own range (the merged range
/// is in [`CompiledSteps::intervals`]).
pub fn normalised_steps(user: &[StepInput], compiled: &CompiledSteps) -> Vec<StepInput> {
    user.iter()
        .zip(&compiled.ranges)
        .map(|(s, r)| StepInput {
            lower: Some(r.lower),
            upper: r.upper.is_finite().then_some(r.upper),
            change: s.change,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::model::{Metric, MetricStat};
    use crate::scaling::steps::{Direction, compile, scale_in_out_overlaps};

    fn step(lower: Option<f64>, upper: Option<f64>, change: f64) -> StepInput {
        StepInput {
            lower,
            upper,
            change,
        }
    }

    fn queue_metric() -> AlarmMetric {
        AlarmMetric::Single(MetricStat {
            metric: Metric {
                namespace: "AWS/SQS".into(),
                name: "ApproximateNumberOfMessagesVisible".into(),
                dimensions: [("QueueName".to_string(), "jobs".to_string())].into(),
            },
            stat: "Maximum".into(),
            period: Some(300),
            unit: None,
        })
    }

    /// The source stack's first policy (ChangeInCapacity, cooldown 60).
    fn initial() -> Vec<StepInput> {
        vec![
            step(None, Some(0.0), -1.0),
            step(Some(1.0), None, 1.0),
            step(Some(5.0), None, 3.0),
            step(Some(10.0), None, 5.0),
        ]
    }

    /// The source stack's second policy (PercentChangeInCapacity).
    fn percent() -> Vec<StepInput> {
        vec![step(None, Some(10.0), -10.0), step(Some(15.0), None, 67.0)]
    }

    fn spec(steps: &[StepInput], adjustment: AdjustmentType) -> StepSpec {
        StepSpec {
            name: "initial".into(),
            resource_id: "service/main/worker".into(),
            metric: queue_metric(),
            adjustment_type: adjustment,
            cooldown: Some(60),
            min_adjustment_magnitude: None,
            aggregation: Some(AggregationType::Maximum),
            periods: AlarmPeriods {
                evaluation_periods: 1,
                datapoints_to_alarm: None,
            },
            steps: compile(steps, adjustment).expect("valid steps"),
        }
    }

    #[test]
    fn the_source_stacks_first_policy_becomes_two_cdk_alarms_and_policies() {
        let (policies, alarms) = objects(&spec(&initial(), AdjustmentType::ChangeInCapacity));
        let names: Vec<&str> = alarms.iter().map(|(_, a)| a.name.as_str()).collect();
        assert_eq!(names, ["initial-lower", "initial-upper"]);
        assert_eq!(
            (alarms[0].1.comparison, alarms[0].1.threshold),
            (Comparison::LessOrEqual, 0.0)
        );
        assert_eq!(
            (alarms[1].1.comparison, alarms[1].1.threshold),
            (Comparison::GreaterOrEqual, 1.0)
        );
        assert_eq!(alarms[0].1.description, "Lower threshold scaling alarm");
        assert_eq!(alarms[1].1.missing_data, MissingData::Missing);
        let PolicyKind::Step(upper) = &policies[1].1.kind else {
            panic!("step policy")
        };
        let adjustments: Vec<(Option<f64>, Option<f64>, i32)> = upper
            .steps
            .iter()
            .map(|a| (a.lower_bound, a.upper_bound, a.scaling_adjustment))
            .collect();
        assert_eq!(
            adjustments,
            [
                (Some(0.0), Some(4.0), 1),
                (Some(4.0), Some(9.0), 3),
                (Some(9.0), None, 5)
            ]
        );
        assert_eq!(upper.cooldown, Some(60));
        assert_eq!(policies[0].1.resource_id, "service/main/worker");
    }

    #[test]
    fn import_recovers_steps_that_compile_to_the_same_objects() {
        for (steps, adjustment) in [
            (initial(), AdjustmentType::ChangeInCapacity),
            (percent(), AdjustmentType::PercentChangeInCapacity),
            (
                vec![step(Some(0.0), Some(3.0), 1.0), step(Some(3.0), None, 2.0)],
                AdjustmentType::ExactCapacity,
            ),
        ] {
            let original = spec(&steps, adjustment);
            let (policies, alarms) = objects(&original);
            let side = |s: AlarmSide| {
                let threshold = alarms.iter().find(|(x, _)| *x == s)?.1.threshold;
                let PolicyKind::Step(p) = &policies.iter().find(|(x, _)| *x == s)?.1.kind else {
                    return None;
                };
                Some((threshold, p.steps.clone()))
            };
            let (lower, upper) = (side(AlarmSide::Lower), side(AlarmSide::Upper));
            let recovered = steps_from_aws(
                lower.as_ref().map(|(t, a)| (*t, a.as_slice())),
                upper.as_ref().map(|(t, a)| (*t, a.as_slice())),
            );
            let again = spec(&recovered, adjustment);
            assert_eq!(objects(&again), objects(&original), "{steps:?}");
        }
    }

    #[test]
    fn normalised_bounds_compile_to_the_same_objects_as_the_users_steps() {
        let cases = [
            (initial(), AdjustmentType::ChangeInCapacity),
            (percent(), AdjustmentType::PercentChangeInCapacity),
            // A zero change merged into the gap, and steps written from high to low.
            (
                vec![
                    step(Some(20.0), None, 2.0),
                    step(Some(5.0), Some(20.0), 0.0),
                    step(None, Some(4.0), -1.0),
                ],
                AdjustmentType::ChangeInCapacity,
            ),
            // An uncovered range in the middle.
            (
                vec![step(None, Some(2.0), -1.0), step(Some(8.0), None, 1.0)],
                AdjustmentType::ChangeInCapacity,
            ),
            // No gap at all: CDK splits in the middle.
            (
                vec![
                    step(None, Some(10.0), -2.0),
                    step(Some(10.0), Some(20.0), -1.0),
                    step(Some(20.0), None, 1.0),
                ],
                AdjustmentType::ChangeInCapacity,
            ),
        ];
        for (steps, adjustment) in cases {
            let compiled = compile(&steps, adjustment).expect("valid");
            let normalised = normalised_steps(&steps, &compiled);
            assert!(
                normalised.iter().all(|s| s.lower.is_some()),
                "{normalised:?}"
            );
            let again = compile(&normalised, adjustment).expect("normalised steps are valid");
            assert_eq!(again.lower, compiled.lower, "{steps:?}");
            assert_eq!(again.upper, compiled.upper, "{steps:?}");
        }
    }

    #[test]
    fn policies_rebuilt_from_aws_reveal_the_source_stacks_fight() {
        let ours = compile(&initial(), AdjustmentType::ChangeInCapacity).expect("valid");
        let (percent_policies, percent_alarms) =
            objects(&spec(&percent(), AdjustmentType::PercentChangeInCapacity));
        let mut found = Vec::new();
        for ((_, policy), (_, alarm)) in percent_policies.iter().zip(&percent_alarms) {
            let PolicyKind::Step(p) = &policy.kind else {
                panic!("step policy")
            };
            let other = one_side(
                p.adjustment_type,
                alarm.comparison,
                alarm.threshold,
                &p.steps,
            )
            .expect("a side");
            found.extend(scale_in_out_overlaps(&ours, &other));
        }
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].range.to_string(), "[1, 10]");
        assert_eq!(found[0].this_direction, Direction::ScaleOut);
        assert_eq!(found[0].other_adjustments, [-10]);
    }

    #[test]
    fn metrics_compare_without_labels() {
        let q = |label: Option<&str>| MetricQuery {
            id: "e1".into(),
            label: label.map(str::to_owned),
            return_data: true,
            source: crate::scaling::model::QuerySource::Expression("m1 * 2".into()),
        };
        assert!(same_metric(
            &AlarmMetric::Math(vec![q(Some("a"))]),
            &AlarmMetric::Math(vec![q(None)])
        ));
        assert!(!same_metric(
            &AlarmMetric::Math(vec![q(None)]),
            &queue_metric()
        ));
    }
}
