//! What `queuescale_step_scaling_policy` puts into AWS: CDK's `scaleOnMetric` result
//! (see `steps`) turned into model alarms and step policies, plus the pieces the
//! resource needs around it — rebuilding another policy's zones from what AWS holds (for
//! the conflict warning) and the user's steps from the two policies (for import).
//!
//! Pure: no I/O, no Terraform or AWS SDK types.

use super::model::{
    Alarm, AlarmMetric, Comparison, MetricQuery, MissingData, Notify, Policy, PolicyKind,
    StepPolicy,
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
    /// Whom the alarms tell when they change state.
    pub notify: Notify,
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
                actions: spec.notify.alarm.clone(),
                ok_actions: spec.notify.ok.clone(),
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

/// Puts a step policy's adjustments in the order [`objects`] writes them: nearest to the
/// alarm threshold first, so ascending above it and descending below it.
///
/// AWS keeps step adjustments in the order they were written, and the order means nothing
/// to it (the ranges may not overlap; PutScalingPolicy, `StepAdjustments`). Adjustments
/// written in another order, by hand or by another tool, describe the same policy: reading
/// them back in this order keeps them from showing as a change.
pub fn sort_adjustments(adjustments: &mut [StepAdjustment]) {
    let distance = |a: &StepAdjustment| match (a.lower_bound, a.upper_bound) {
        (Some(lower), _) if lower >= 0.0 => lower,
        (_, Some(upper)) => -upper,
        (Some(lower), None) => -lower,
        (None, None) => 0.0,
    };
    adjustments.sort_by(|a, b| {
        distance(a)
            .partial_cmp(&distance(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
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

// ---- CloudWatch's rules for what the alarms watch ----

/// Most queries in one alarm's `Metrics`, of which at most [`MAX_METRIC_STATS`] fetch a
/// metric and at most [`MAX_EXPRESSIONS`] are expressions (CloudWatch API reference,
/// `MetricDataQuery`: "A single PutMetricAlarm call can include up to 20 MetricDataQuery
/// structures ... as many as 10 ... MetricStat ... and as many as 10 ... Expression").
pub const MAX_QUERIES: usize = 20;
/// Most metric queries in one alarm (see [`MAX_QUERIES`]).
pub const MAX_METRIC_STATS: usize = 10;
/// Most expression queries in one alarm (see [`MAX_QUERIES`]).
pub const MAX_EXPRESSIONS: usize = 10;
/// Longest query id (CloudWatch API reference, `MetricDataQuery.Id`: 1 to 255 characters).
pub const MAX_QUERY_ID_LEN: usize = 255;

/// Checks a metric math query id (CloudWatch API reference, `MetricDataQuery.Id`: "The
/// first character must be a lowercase letter", then letters, numbers and underscores,
/// at most [`MAX_QUERY_ID_LEN`] characters).
///
/// # Errors
/// What is wrong with the id.
pub fn check_query_id(id: &str) -> Result<(), String> {
    let mut chars = id.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        Err(format!(
            "{id:?} is not a query id: start with a lowercase letter, then use letters, digits \
             or '_'."
        ))
    } else if id.len() > MAX_QUERY_ID_LEN {
        Err(format!(
            "the id has {} characters; CloudWatch allows at most {MAX_QUERY_ID_LEN}.",
            id.len()
        ))
    } else {
        Ok(())
    }
}

/// Checks an alarm period in seconds (CloudWatch API reference, PutMetricAlarm `Period`:
/// "Valid values are 10, 20, 30, and any multiple of 60"; the same holds for the period of
/// each metric in a math alarm).
///
/// # Errors
/// What CloudWatch accepts instead.
pub fn check_period(period: f64) -> Result<(), String> {
    let valid = period.fract() == 0.0
        && (period == 10.0
            || period == 20.0
            || period == 30.0
            || (period >= 60.0 && period % 60.0 == 0.0));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "period_seconds must be 10, 20, 30 or a multiple of 60, not {period}."
        ))
    }
}

/// Checks how far back an alarm looks (CloudWatch API reference, PutMetricAlarm `Period`:
/// "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For alarms
/// with a period of less than one hour (3,600 seconds), the total evaluation period can't
/// be longer than one day (86,400 seconds)").
///
/// # Errors
/// The window, the limit and the largest `evaluation_periods` that fits.
pub fn check_evaluation_window(period: i64, evaluation_periods: i64) -> Result<(), String> {
    let (limit, limit_text) = if period < 3_600 {
        (86_400, "one day (86400 s) for periods under an hour")
    } else {
        (604_800, "seven days (604800 s)")
    };
    let window = period.saturating_mul(evaluation_periods);
    if period <= 0 || window <= limit {
        return Ok(());
    }
    Err(format!(
        "{evaluation_periods} evaluation periods of {period} s look back {window} s, but \
         CloudWatch allows at most {limit_text}; use at most {} evaluation periods or a \
         longer period.",
        limit / period
    ))
}

/// A problem with one query's expression, found before any call to CloudWatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionProblem {
    /// Index of the query whose expression it is.
    pub index: usize,
    /// One-line summary.
    pub summary: &'static str,
    /// What is wrong and where.
    pub detail: String,
}

/// Checks the expressions of one alarm's queries, given as `(id, expression)` per query in
/// order (`None` where a value is not known yet, or a query has a metric instead):
///
/// * each parses as metric math ([`crate::sim::math::parse`]); an error names the
///   character column and what was expected there. The parser accepts any function name
///   written in uppercase, so functions the simulator does not evaluate (`SORT`,
///   `ANOMALY_DETECTION_BAND`, `SEARCH`, …) are left for CloudWatch to judge;
/// * each reads only ids that other queries have (CloudWatch user guide, "Using metric
///   math": an expression uses "the value shown in the Id column" of a metric or of
///   another expression), checked once every id is known;
/// * no expressions read each other in a cycle. **Assumption**: AWS does not describe
///   this case; such expressions have no series to start from, so we take it that
///   PutMetricAlarm refuses them, and refuse them at plan.
///
/// An expression that is a Metrics Insights query (it starts with `SELECT`; the API
/// reference, `MetricDataQuery.Expression`, allows "a Metrics Insights query, or a metric
/// math expression") is not metric math and is not checked here.
pub fn check_expressions(queries: &[(Option<&str>, Option<&str>)]) -> Vec<ExpressionProblem> {
    let mut problems = Vec::new();
    let ids_known = queries.iter().all(|(id, _)| id.is_some());
    let ids: Vec<&str> = queries.iter().filter_map(|(id, _)| *id).collect();
    // Per query: the queries its expression reads, when it parsed as metric math.
    let mut reads: Vec<Option<Vec<usize>>> = vec![None; queries.len()];
    for (index, (own, expression)) in queries.iter().enumerate() {
        let Some(expression) = expression.filter(|e| !is_metrics_insights_query(e)) else {
            continue;
        };
        let parsed = match crate::sim::math::parse(expression) {
            Ok(parsed) => parsed,
            Err(error) => {
                problems.push(ExpressionProblem {
                    index,
                    summary: "Invalid metric math expression",
                    detail: format!("{expression:?} does not parse: {error}."),
                });
                continue;
            }
        };
        let referenced = parsed.referenced_ids();
        if ids_known {
            let undefined: Vec<&str> = referenced
                .iter()
                .copied()
                .filter(|r| !ids.contains(r) || Some(*r) == *own)
                .collect();
            if !undefined.is_empty() {
                problems.push(ExpressionProblem {
                    index,
                    summary: "Expression refers to unknown ids",
                    detail: format!(
                        "{expression:?} refers to {}, which no other metric_query has as its id \
                         (ids: {}).",
                        undefined.join(", "),
                        ids.join(", ")
                    ),
                });
            }
        }
        reads[index] = Some(
            referenced
                .iter()
                .filter_map(|r| queries.iter().position(|(id, _)| *id == Some(*r)))
                .collect(),
        );
    }
    if ids_known {
        for index in 0..queries.len() {
            if let Some(path) = cycle_through(index, queries, &reads) {
                problems.push(ExpressionProblem {
                    index,
                    summary: "Expressions refer to each other in a cycle",
                    detail: format!(
                        "{}: each of these expressions needs another's result first, so none \
                         has a value; CloudWatch cannot evaluate them.",
                        path.join(" -> ")
                    ),
                });
            }
        }
    }
    problems.sort_by_key(|p| p.index);
    problems
}

/// The shortest chain of ids from query `start`'s expression back to itself through other
/// expressions (`e1 -> e2 -> e1`), if there is one. A query reading its own id is reported
/// as an unknown id instead, so that step is left out here.
fn cycle_through<'a>(
    start: usize,
    queries: &[(Option<&'a str>, Option<&str>)],
    reads: &[Option<Vec<usize>>],
) -> Option<Vec<&'a str>> {
    let id_of = |i: usize| queries[i].0;
    let next = |i: usize| -> Vec<usize> {
        reads[i]
            .iter()
            .flatten()
            .copied()
            .filter(|&j| j != i && reads[j].is_some())
            .collect()
    };
    reads[start].as_ref()?;
    // Breadth first, remembering where each query was reached from.
    let mut from: Vec<Option<usize>> = vec![None; queries.len()];
    let mut queue = std::collections::VecDeque::from(vec![start]);
    while let Some(i) = queue.pop_front() {
        for j in next(i) {
            if j == start {
                let mut path = vec![id_of(start)?];
                let mut at = i;
                while at != start {
                    path.push(id_of(at)?);
                    at = from[at]?;
                }
                path.push(id_of(start)?);
                let last = path.len() - 1;
                path[1..last].reverse();
                return Some(path);
            }
            if from[j].is_none() {
                from[j] = Some(i);
                queue.push_back(j);
            }
        }
    }
    None
}

/// Whether `expression` is a Metrics Insights query rather than metric math: its first
/// word is `SELECT`, in any case. **Assumption**: Metrics Insights keywords are not case
/// sensitive, as in SQL.
fn is_metrics_insights_query(expression: &str) -> bool {
    expression
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("SELECT"))
}

/// The statistics CloudWatch names with a word (PutMetricAlarm's `Statistic`, plus `IQM`,
/// an extended statistic without parameters).
const NAMED_STATISTICS: [&str; 6] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"];

/// Checks a statistic against the grammar of CloudWatch's user guide, "CloudWatch
/// statistics definitions" (Statistics-definitions, section "Syntax"):
///
/// * `SampleCount`, `Average`, `Sum`, `Minimum`, `Maximum`, and `IQM`, spelt exactly so;
/// * a percentile `pN`, and `tmN`, `wmN`, `tcN`, `tsN` (trimmed mean, winsorized mean,
///   trimmed count, trimmed sum up to the N-th percentile), lowercase, N from 0 to 100;
/// * `TM(a:b)`, `WM(a:b)`, `TC(a:b)`, `TS(a:b)` in uppercase, where `a` and `b` (either may
///   be left out, not both) are both percentages (`10%`, 0 to 100) or both metric values;
/// * `PR(a:b)`, percentile rank, whose bounds are metric values.
///
/// Numbers have up to 10 decimal places. Assumptions where the guide is silent: bounds
/// are not negative (the guide says these statistics do not exist for metrics with
/// negative values), `a` lies below `b`, and one range does not mix a percentage and a
/// value. PutMetricAlarm's API reference lists a narrower sample (`TM(X%:X%)` with X from
/// 10 to 90); we follow the user guide's grammar, which it refers to.
///
/// # Errors
/// A message saying what is wrong and what CloudWatch accepts instead.
pub fn check_statistic(stat: &str) -> Result<(), String> {
    if NAMED_STATISTICS.contains(&stat) || extended_statistic(stat) {
        return Ok(());
    }
    let lower = stat.to_ascii_lowercase();
    let hint = if let Some(name) = NAMED_STATISTICS
        .iter()
        .find(|n| n.to_ascii_lowercase() == lower)
    {
        format!(" Statistic names are case-sensitive: write {name}.")
    } else if let Some(name) = [("avg", "Average"), ("min", "Minimum"), ("max", "Maximum")]
        .iter()
        .find_map(|(alias, name)| (*alias == lower).then_some(name))
    {
        format!(" CloudWatch does not know CDK's short names: write {name}.")
    } else if lower == "median" {
        " CloudWatch has no Median: the median is the percentile p50.".to_owned()
    } else if extended_statistic(&lower) {
        format!(" Write the short form in lowercase: {lower}.")
    } else {
        String::new()
    };
    Err(format!(
        "{stat:?} is not a CloudWatch statistic. Use SampleCount, Average, Sum, Minimum, \
         Maximum, IQM, or an extended statistic such as p90, tm90, wm90, tc90, ts90, \
         TM(10%:90%) or PR(:300).{hint}"
    ))
}

/// Whether `stat` is one of the parameterised forms [`check_statistic`] lists.
fn extended_statistic(stat: &str) -> bool {
    if let Some(n) = ["tm", "wm", "tc", "ts", "p"]
        .iter()
        .find_map(|prefix| stat.strip_prefix(prefix))
        .filter(|n| !n.starts_with('('))
    {
        return decimal_number(n).is_some_and(|v| v <= 100.0);
    }
    let Some((kind, range)) = ["TM", "WM", "TC", "TS", "PR"]
        .iter()
        .find_map(|prefix| Some((*prefix, stat.strip_prefix(prefix)?)))
    else {
        return false;
    };
    let Some((a, b)) = range
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.split_once(':'))
    else {
        return false;
    };
    // Each bound: (is a percentage, value); an empty bound is open.
    let bound = |text: &str| -> Option<Option<(bool, f64)>> {
        if text.is_empty() {
            return Some(None);
        }
        match text.strip_suffix('%') {
            Some(p) if kind != "PR" => decimal_number(p)
                .filter(|v| *v <= 100.0)
                .map(|v| Some((true, v))),
            Some(_) => None,
            None => decimal_number(text).map(|v| Some((false, v))),
        }
    };
    match (bound(a), bound(b)) {
        (Some(Some((pa, va))), Some(Some((pb, vb)))) => pa == pb && va < vb,
        (Some(Some(_)), Some(None)) | (Some(None), Some(Some(_))) => true,
        _ => false,
    }
}

/// A non-negative decimal with up to 10 decimal places (`12`, `0.005`), as the
/// statistics' bounds are written.
fn decimal_number(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let well_formed = !whole.is_empty()
        && digits(whole)
        && digits(fraction)
        && fraction.len() <= 10
        && fraction.is_empty() != text.contains('.');
    well_formed.then(|| text.parse().ok()).flatten()
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
            notify: Notify::default(),
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
    fn adjustments_read_in_any_order_sort_back_to_the_written_order() {
        let compiled = compile(&initial(), AdjustmentType::ChangeInCapacity).expect("valid");
        let wide = compile(
            &[
                step(None, Some(10.0), -2.0),
                step(Some(10.0), Some(20.0), -1.0),
                step(Some(80.0), None, 1.0),
            ],
            AdjustmentType::ChangeInCapacity,
        )
        .expect("valid");
        for policy in compiled.policies().chain(wide.policies()) {
            let written = policy.adjustments.clone();
            let mut read = written.clone();
            read.reverse();
            sort_adjustments(&mut read);
            assert_eq!(read, written, "{:?}", policy.side);
            let mut rotated = written.clone();
            rotated.rotate_left(1);
            sort_adjustments(&mut rotated);
            assert_eq!(rotated, written, "{:?}", policy.side);
        }
        assert!(
            wide.lower
                .as_ref()
                .is_some_and(|l| l.adjustments.len() == 2),
            "the lower side has two steps to order"
        );
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
    fn statistics_follow_cloudwatchs_grammar() {
        let accepted = [
            "SampleCount",
            "Average",
            "Sum",
            "Minimum",
            "Maximum",
            "IQM",
            "p0",
            "p50",
            "p99.9",
            "p100",
            "p99.0000000001",
            "tm90",
            "wm98",
            "tc90",
            "ts99.5",
            "TM(2%:98%)",
            "TM(150:1000)",
            "TM(:95%)",
            "TM(10%:)",
            "WM(10%:90%)",
            "TC(0.005:0.030)",
            "TC(:0.5)",
            "TS(80%:)",
            "PR(:300)",
            "PR(100:2000)",
        ];
        for stat in accepted {
            assert_eq!(check_statistic(stat), Ok(()), "{stat}");
        }
        let refused = [
            "Median",
            "average",
            "avg",
            "max",
            "P90",
            "TM90",
            "tm(10%:90%)",
            "p101",
            "p",
            "p-1",
            "p99.",
            "p99.00000000001",
            "tm",
            "TM()",
            "TM(:)",
            "TM(10%)",
            "TM(90%:10%)",
            "TM(10%:500)",
            "TM(10%:101%)",
            "PR(10%:20%)",
            "PR(-1:5)",
            "XX(1:2)",
            "",
        ];
        for stat in refused {
            assert!(check_statistic(stat).is_err(), "{stat}");
        }
    }

    #[test]
    fn statistic_errors_say_what_to_write_instead() {
        let says = |stat: &str, hint: &str| {
            let message = check_statistic(stat).expect_err(stat);
            assert!(message.contains(hint), "{stat}: {message}");
        };
        says("Median", "p50");
        says("average", "write Average");
        says("max", "write Maximum");
        says("TM90", "lowercase: tm90");
        says("P90", "lowercase: p90");
        says("Mode", "such as p90");
    }

    #[test]
    fn query_ids_start_lowercase_and_fit_255_characters() {
        assert_eq!(check_query_id("in_flight2"), Ok(()));
        for bad in ["M1", "1m", "_m", "m-1", "m 1", ""] {
            assert!(check_query_id(bad).is_err(), "{bad}");
        }
        assert_eq!(check_query_id(&"m".repeat(255)), Ok(()));
        assert!(check_query_id(&"m".repeat(256)).is_err());
    }

    #[test]
    fn periods_are_10_20_30_or_whole_minutes() {
        for ok in [10.0, 20.0, 30.0, 60.0, 300.0, 3_600.0, 86_400.0] {
            assert_eq!(check_period(ok), Ok(()), "{ok}");
        }
        for bad in [0.0, -60.0, 1.0, 5.0, 45.0, 90.0, 60.5] {
            assert!(check_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn alarms_look_back_at_most_a_day_under_hourly_periods_and_a_week_otherwise() {
        assert_eq!(check_evaluation_window(300, 288), Ok(()));
        let too_long = check_evaluation_window(300, 289).expect_err("a day and 5 minutes");
        assert!(
            too_long.contains("at most 288 evaluation periods"),
            "{too_long}"
        );
        assert_eq!(check_evaluation_window(60, 1_440), Ok(()));
        assert!(check_evaluation_window(60, 1_441).is_err());
        assert!(check_evaluation_window(10, 8_641).is_err());
        assert_eq!(check_evaluation_window(3_600, 168), Ok(()));
        assert!(check_evaluation_window(3_600, 169).is_err());
        assert_eq!(check_evaluation_window(86_400, 7), Ok(()));
        assert!(check_evaluation_window(86_400, 8).is_err());
        assert!(check_evaluation_window(300, i64::MAX).is_err());
    }

    /// `check_expressions` on queries given as (id, expression), `None` for a metric.
    fn expression_problems(queries: &[(&str, Option<&str>)]) -> Vec<(usize, &'static str, String)> {
        let given: Vec<(Option<&str>, Option<&str>)> =
            queries.iter().map(|(id, e)| (Some(*id), *e)).collect();
        check_expressions(&given)
            .into_iter()
            .map(|p| (p.index, p.summary, p.detail))
            .collect()
    }

    #[test]
    fn documented_expressions_and_functions_we_do_not_evaluate_pass() {
        for e in [
            "visible + in_flight",
            "SUM(METRICS())",
            "IF(visible > 0, in_flight / visible, 0)",
            "FILL(visible, REPEAT)",
            "(visible + in_flight) / 2",
            "100 * visible / in_flight",
            "ANOMALY_DETECTION_BAND(visible, 2)",
            "FIRST(SORT(METRICS(), AVG, DESC))",
            "SUM(SEARCH('{AWS/SQS,QueueName} MetricName=\"x\"', 'Sum', 60))",
            "SELECT MAX(ApproximateNumberOfMessagesVisible) FROM \"AWS/SQS\"",
            "select avg(CPUUtilization) from SCHEMA(\"AWS/EC2\", InstanceId)",
        ] {
            let problems =
                expression_problems(&[("visible", None), ("in_flight", None), ("e1", Some(e))]);
            assert!(problems.is_empty(), "{e}: {problems:?}");
        }
    }

    #[test]
    fn a_syntax_error_is_shown_with_its_column_at_its_query() {
        let problems = expression_problems(&[
            ("m1", None),
            ("e1", Some("m1 * 2")),
            ("e2", Some("IF(m1 > 0, e1, 0))")),
            ("e3", Some("fill(m1, 0)")),
        ]);
        assert_eq!(
            problems,
            [
                (
                    2,
                    "Invalid metric math expression",
                    "\"IF(m1 > 0, e1, 0))\" does not parse: unexpected \")\" at column 18; \
                     expected an operator or the end of the expression."
                        .to_owned()
                ),
                (
                    3,
                    "Invalid metric math expression",
                    "\"fill(m1, 0)\" does not parse: \"fill\" is not a function at column 1; \
                     expected a function name in uppercase (FILL)."
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn unknown_and_own_ids_are_refused_once_all_ids_are_known() {
        let problems = expression_problems(&[
            ("visible", None),
            ("backlog", Some("visible + delayed + backlog + delayed")),
        ]);
        assert_eq!(
            problems,
            [(
                1,
                "Expression refers to unknown ids",
                "\"visible + delayed + backlog + delayed\" refers to delayed, backlog, which no \
                 other metric_query has as its id (ids: visible, backlog)."
                    .to_owned()
            )]
        );
        // An id not known yet: references wait, syntax does not.
        let pending = check_expressions(&[
            (None, None),
            (Some("e1"), Some("m1 + unknown")),
            (Some("e2"), Some("m1 +")),
        ]);
        assert_eq!(
            pending
                .iter()
                .map(|p| (p.index, p.summary))
                .collect::<Vec<_>>(),
            [(2, "Invalid metric math expression")]
        );
    }

    #[test]
    fn expressions_that_read_each_other_in_a_cycle_are_refused_at_each() {
        let problems = expression_problems(&[
            ("m1", None),
            ("e1", Some("e3 + m1")),
            ("e2", Some("e1 * 2")),
            ("e3", Some("e2 - 1")),
            ("e4", Some("e1 + e2")),
        ]);
        let summary = "Expressions refer to each other in a cycle";
        let tail = ": each of these expressions needs another's result first, so none has a \
                    value; CloudWatch cannot evaluate them.";
        assert_eq!(
            problems,
            [
                (1, summary, format!("e1 -> e3 -> e2 -> e1{tail}")),
                (2, summary, format!("e2 -> e1 -> e3 -> e2{tail}")),
                (3, summary, format!("e3 -> e2 -> e1 -> e3{tail}")),
            ],
            "e4 reads the cycle but is not in it"
        );
        let two = expression_problems(&[("a", Some("b")), ("b", Some("a * 2"))]);
        assert_eq!(
            two.iter().map(|p| p.0).collect::<Vec<_>>(),
            [0, 1],
            "{two:?}"
        );
        assert!(
            expression_problems(&[("m1", None), ("e1", Some("m1")), ("e2", Some("e1 + m1"))])
                .is_empty()
        );
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
