//! `queuescale_step_scaling_policy`: AWS CDK's `scaleOnMetric` in HCL. The steps compile
//! (`scaling::steps`, CDK's algorithm) into up to two alarms and step policies, named
//! `NAME-lower` and `NAME-upper`, on a scalable target managed elsewhere.
//!
//! Plans show the normalised steps, intervals, thresholds, alarms and policies; a plan
//! warns when another step policy on the same target and metric pulls the other way.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::ownership::Owner;
use super::reconcile;
use super::scalable_target::own_tags_from;
use super::support::{aws_error, decimal, int_at, null_object, validate_object_name};
use super::tags;
use super::{notify, objects, support};
use crate::aws::{self, app_autoscaling as aas, cloudwatch as cw};
use crate::provider::Clients;
use crate::scaling::model::{
    AlarmMetric, Metric, MetricQuery, MetricStat, PolicyKind, QuerySource,
    parse_service_resource_id,
};
use crate::scaling::step_policy::{
    self, MAX_NAME_LEN, StepSpec, normalised_steps, object_name, objects as compiled_objects,
    one_side, same_metric, side_label, steps_from_aws,
};
use crate::scaling::steps::{
    self, AdjustmentType, AggregationType, AlarmSide, Field, StepError, StepInput,
    default_aggregation, scale_in_out_overlaps,
};
use crate::tfplugin::{
    AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, PlannedChange, Resource, Schema,
    Type, Value,
};

/// The resource type.
pub struct StepScalingPolicy;

/// The resource type name.
pub const TYPE_NAME: &str = "queuescale_step_scaling_policy";

const DEFAULT_STATISTIC: &str = "Average";
const DEFAULT_PERIOD: i64 = 300;

fn metric_attrs(stat_name: &str) -> Vec<Attribute> {
    vec![
        Attribute::required("namespace", Type::String)
            .describe("Metric namespace, e.g. `AWS/SQS`."),
        Attribute::required("metric_name", Type::String).describe("Metric name."),
        Attribute::optional("dimensions", Type::map(Type::String)).describe("Metric dimensions."),
        Attribute::with_default(stat_name, Type::String, Value::from(DEFAULT_STATISTIC)).describe(
            "CloudWatch statistic, spelt as CloudWatch does: `SampleCount`, `Average`, `Sum`, \
             `Minimum`, `Maximum`, `IQM`, or an extended statistic such as `p90`, `tm90`, \
             `wm90`, `tc90`, `ts90`, `TM(10%:90%)` or `PR(:300)`.",
        ),
        Attribute::with_default("period_seconds", Type::Number, Value::int(DEFAULT_PERIOD))
            .describe(
                "Period in seconds: 10, 20, 30 or a multiple of 60, the same for every metric \
                 of one alarm; times `evaluation_periods` it may not exceed one day (seven days \
                 for periods of an hour or more).",
            ),
    ]
}

fn schema() -> Schema {
    let [alarm_actions, ok_actions] = notify::attributes("its alarms");
    let metric_block = Block::new(metric_attrs("statistic")).describe(
        "The metric the alarms watch (CDK's `metric` as a `Metric`). Exactly one of `metric` or \
         `metric_query`.",
    );
    let query_block = Block::new(vec![
        Attribute::required("id", Type::String).describe(
            "Id other expressions refer to, unique in the alarm: a lowercase letter, then \
             letters, digits or `_`.",
        ),
        Attribute::optional("expression", Type::String).describe(
            "A metric math expression over the other queries' ids, or a Metrics Insights query \
             (`SELECT …`). The plan checks metric math for its syntax (reporting the column), \
             for ids no other query has and for expressions that read each other in a cycle; \
             which functions exist is left to CloudWatch. An alarm takes at most 20 queries: 10 \
             metrics and 10 expressions.",
        ),
        Attribute::optional("label", Type::String).describe("Label."),
        Attribute::with_default("return_data", Type::Bool, Value::Bool(false))
            .describe("Whether this query is the alarm's series (exactly one is)."),
    ])
    .with_blocks(vec![NestedBlock::new(
        "metric",
        Nesting::Single,
        Block::new(metric_attrs("stat")).describe("A metric (instead of `expression`)."),
    )])
    .describe(
        "One query of a metric math alarm (CDK's `metric` as a `MathExpression`). Exactly one of \
         `metric` or `metric_query`.",
    );
    let step_block = Block::new(vec![
        Attribute::optional("lower", Type::Number).and_computed().describe(
            "Metric value where the step starts (inclusive above the alarm threshold). When left \
             out, taken from the step below as CDK does (0 for the lowest step); the plan shows \
             the result. A bound you set is kept as written, also on a step of `change = 0` \
             that joins the no-action range (see `intervals`).",
        ),
        Attribute::optional("upper", Type::Number).and_computed().describe(
            "Metric value where the step ends; null means +∞. When left out, taken from the step \
             above, like `lower`.",
        ),
        Attribute::required("change", Type::Number)
            .describe("The adjustment, read according to `adjustment_type`."),
    ])
    .describe("One scaling step (CDK's `ScalingInterval`): 2 to 40 of them, in any order.");
    let number = |name: &str, text: &str| Attribute::computed(name, Type::Number).describe(text);
    Schema::new(
        Block::new(vec![
            Attribute::computed("id", Type::String)
                .use_state_for_unknown()
                .describe("`CLUSTER/SERVICE/NAME`, the import id."),
            Attribute::required("name", Type::String).describe(
                "Base of the policy and alarm names (`NAME-lower`, `NAME-upper`); unique per \
                 account and region. Letters, digits, `.`, `_`, `-`. Renaming writes the \
                 objects under the new names, then deletes the old ones.",
            ),
            Attribute::required("scalable_target_id", Type::String).requires_replace().describe(
                "The scalable target, `service/CLUSTER/SERVICE` (`queuescale_scalable_target.x.id`).",
            ),
            Attribute::with_default(
                "adjustment_type",
                Type::String,
                Value::from(AdjustmentType::ChangeInCapacity.as_aws_str()),
            )
            .describe(
                "How each step's `change` applies: `ChangeInCapacity` (tasks to add or remove), \
                 `PercentChangeInCapacity` (a percentage of the running tasks) or \
                 `ExactCapacity` (the number of tasks to run).",
            ),
            Attribute::optional("cooldown_seconds", Type::Number)
                .describe("Seconds after a scaling activity before the next (AWS's default when unset)."),
            Attribute::optional("min_adjustment_magnitude", Type::Number)
                .describe("Smallest change in tasks for `PercentChangeInCapacity`."),
            Attribute::with_default("evaluation_periods", Type::Number, Value::int(1))
                .describe("Periods the alarms evaluate."),
            Attribute::optional("datapoints_to_alarm", Type::Number).describe(
                "Breaching periods among `evaluation_periods` needed to alarm (needs \
                 `evaluation_periods`; unset: all of them).",
            ),
            Attribute::optional("metric_aggregation_type", Type::String).and_computed().describe(
                "`Average`, `Minimum` or `Maximum`: how AWS aggregates the alarm's datapoints. \
                 Left out, it follows the statistic as in CDK: `Minimum` and `Maximum` keep \
                 theirs, other statistics give `Average`, metric math none.",
            ),
            Attribute::optional("tags", Type::map(Type::String)).describe("Tags for the alarms."),
            alarm_actions,
            ok_actions,
            Attribute::computed("tags_all", Type::map(Type::String))
                .describe("Tags including the provider's `default_tags`."),
            Attribute::computed(
                "intervals",
                Type::list(Type::object([
                    ("lower", Type::Number),
                    ("upper", Type::Number),
                    ("change", Type::Number),
                ])),
            )
            .describe(
                "The normalised number line from 0 to +∞ (`upper` null) with at most one \
                 no-action range (`change` null), into which steps of `change = 0` merge \
                 (except with `ExactCapacity`).",
            ),
            number("lower_threshold", "Threshold of the lower alarm (`<=`), null when there is none."),
            number("upper_threshold", "Threshold of the upper alarm (`>=`), null when there is none."),
            objects::policies_attribute(
                "The step policies as AWS holds them, bounds relative to their alarm's threshold.",
            ),
            objects::metrics_attribute(),
        ])
        .with_blocks(vec![
            NestedBlock::new("metric", Nesting::Single, metric_block),
            NestedBlock::new("metric_query", Nesting::List, query_block),
            NestedBlock::new("step", Nesting::List, step_block).items(2, steps::MAX_STEPS as i64),
        ])
        .describe(
            "Step scaling on a CloudWatch metric exactly as AWS CDK's `scaleOnMetric` builds it: \
             the same alarms and step policies from the same steps, with the relative step \
             bounds computed for you and CDK's errors at plan time. Warns when another step \
             policy on the same target and metric scales the other way.",
        ),
    )
}

/// A metric block (`metric` or a query's `metric`) as a metric stat.
fn metric_stat(block: &Value, stat_attr: &str) -> Option<MetricStat> {
    Some(MetricStat {
        metric: Metric {
            namespace: block.get("namespace").as_str()?.to_owned(),
            name: block.get("metric_name").as_str()?.to_owned(),
            dimensions: block.get("dimensions").as_string_map(),
        },
        stat: block.get(stat_attr).as_str()?.to_owned(),
        period: int_at(block, "period_seconds"),
        unit: None,
    })
}

/// The alarm metric, when known.
fn alarm_metric(v: &Value) -> Option<AlarmMetric> {
    if !v.get("metric").is_null() {
        return metric_stat(v.get("metric"), "statistic").map(AlarmMetric::Single);
    }
    v.get("metric_query")
        .elements()
        .iter()
        .map(|q| {
            let source = match q.get("expression").as_str() {
                Some(e) => QuerySource::Expression(e.to_owned()),
                None => QuerySource::Metric(metric_stat(q.get("metric"), "stat")?),
            };
            Some(MetricQuery {
                id: q.get("id").as_str()?.to_owned(),
                label: q.get("label").as_str().map(str::to_owned),
                return_data: q.get("return_data").as_bool()?,
                source,
            })
        })
        .collect::<Option<Vec<_>>>()
        .map(AlarmMetric::Math)
}

/// The steps of `v`, when known.
fn step_inputs(v: &Value) -> Option<Vec<StepInput>> {
    v.get("step")
        .elements()
        .iter()
        .map(|s| {
            let bound = |a: &str| match s.get(a) {
                Value::Null => Some(None),
                b => b.as_f64().map(Some),
            };
            Some(StepInput {
                lower: bound("lower")?,
                upper: bound("upper")?,
                change: s.get("change").as_f64()?,
            })
        })
        .collect()
}

fn aggregation_from(s: &str) -> Option<AggregationType> {
    [
        AggregationType::Average,
        AggregationType::Minimum,
        AggregationType::Maximum,
    ]
    .into_iter()
    .find(|a| a.as_aws_str() == s)
}

/// The spec from a plan whose inputs are all known. `given` supplies the inputs that are
/// optional and computed — the steps and `metric_aggregation_type` — as the user gave them:
/// the configuration at plan time (the plan holds earlier computed values or unknowns
/// there), the plan itself at apply.
fn spec_from(v: &Value, given: &Value) -> Option<StepSpec> {
    let adjustment_type = AdjustmentType::from_aws_str(v.get("adjustment_type").as_str()?)?;
    let metric = alarm_metric(v)?;
    let aggregation = match given.get("metric_aggregation_type") {
        Value::Null => match &metric {
            AlarmMetric::Single(ms) => default_aggregation(Some(&ms.stat)),
            AlarmMetric::Math(_) => None,
        },
        a => Some(aggregation_from(a.as_str()?)?),
    };
    let int_or_none = |attr: &str| match v.get(attr) {
        Value::Null => Some(None),
        x => x.as_i64().map(Some),
    };
    Some(StepSpec {
        name: v.get("name").as_str()?.to_owned(),
        resource_id: v.get("scalable_target_id").as_str()?.to_owned(),
        metric,
        adjustment_type,
        cooldown: int_or_none("cooldown_seconds")?.and_then(|n| i32::try_from(n).ok()),
        min_adjustment_magnitude: steps::validate_min_adjustment_magnitude(
            int_or_none("min_adjustment_magnitude")?,
            adjustment_type,
        )
        .ok()?,
        aggregation,
        periods: steps::alarm_periods(
            int_or_none("evaluation_periods")?,
            int_or_none("datapoints_to_alarm")?,
        )
        .ok()?,
        steps: steps::compile(&step_inputs(given)?, adjustment_type).ok()?,
        notify: notify::from(v)?,
    })
}

/// Where a CDK error belongs.
///
/// An error about a whole step points at its `lower` bound: Terraform places a diagnostic
/// only on an attribute, so a path ending at `step[i]` itself would be shown at the
/// resource. When the step has no `lower`, Terraform falls back to the start of that step
/// block, which is where such an error belongs.
fn error_path(e: &StepError) -> AttrPath {
    let at = |attr: &str| match e.step {
        Some(i) => AttrPath::root("step").index(i).attr(attr),
        None => AttrPath::root("step"),
    };
    match e.field {
        Field::Step | Field::Lower => at("lower"),
        Field::Upper => at("upper"),
        Field::Change => at("change"),
        Field::MinAdjustmentMagnitude => AttrPath::root("min_adjustment_magnitude"),
        Field::EvaluationPeriods => AttrPath::root("evaluation_periods"),
        Field::DatapointsToAlarm => AttrPath::root("datapoints_to_alarm"),
    }
}

fn report(diags: &mut Diagnostics, errors: &[StepError]) {
    for e in errors {
        diags.error_at(error_path(e), "Invalid scaling steps", e.message.clone());
    }
}

fn validate(config: &Value, diags: &mut Diagnostics) {
    validate_object_name(config, MAX_NAME_LEN, "policy and alarm", diags);
    notify::validate(config, diags);
    if let Some(id) = config.get("scalable_target_id").as_str()
        && parse_service_resource_id(id).is_none()
    {
        diags.error_at(
            AttrPath::root("scalable_target_id"),
            "Invalid scalable_target_id",
            format!("{id:?} is not service/CLUSTER/SERVICE (use queuescale_scalable_target.x.id)."),
        );
    }
    let adjustment = match config.get("adjustment_type") {
        Value::Null => Some(AdjustmentType::ChangeInCapacity),
        v => v.as_str().and_then(AdjustmentType::from_aws_str),
    };
    if let Some(a) = config.get("adjustment_type").as_str()
        && adjustment.is_none()
    {
        diags.error_at(
            AttrPath::root("adjustment_type"),
            "Invalid adjustment_type",
            format!("{a:?}: use ChangeInCapacity, PercentChangeInCapacity or ExactCapacity."),
        );
    }
    validate_metric(config, diags);
    if let Some(a) = config.get("metric_aggregation_type").as_str()
        && aggregation_from(a).is_none()
    {
        diags.error_at(
            AttrPath::root("metric_aggregation_type"),
            "Invalid metric_aggregation_type",
            format!("{a:?}: use Average, Minimum or Maximum."),
        );
    }
    if let Some(c) = config.get("cooldown_seconds").as_f64()
        && !(c.fract() == 0.0 && (0.0..=86_400.0).contains(&c))
    {
        diags.error_at(
            AttrPath::root("cooldown_seconds"),
            "Invalid cooldown_seconds",
            format!("cooldown_seconds must be a whole number from 0 to 86400, not {c}."),
        );
    }
    let known = |attr: &str| match config.get(attr) {
        Value::Null => Some(None),
        v => v
            .as_f64()
            .map(|f| Some(f as i64))
            .filter(|_| v.as_f64().is_some_and(|f| f.fract() == 0.0)),
    };
    if let (Some(eval), Some(dtp)) = (known("evaluation_periods"), known("datapoints_to_alarm"))
        && let Err(errors) = steps::alarm_periods(eval, dtp)
    {
        report(diags, &errors);
    }
    if let (Some(adjustment), Some(magnitude)) = (adjustment, known("min_adjustment_magnitude"))
        && let Err(e) = steps::validate_min_adjustment_magnitude(magnitude, adjustment)
    {
        report(diags, &[e]);
    }
    if let (Some(adjustment), Some(inputs)) = (adjustment, step_inputs(config))
        && config.get("step").elements().len() == inputs.len()
        && let Err(errors) = steps::compile(&inputs, adjustment)
    {
        report(diags, &errors);
    }
    if let Some(t) = config.get("tags").entries() {
        tags::validate(t, &AttrPath::root("tags"), diags);
    }
}

/// Checks the metric block or the metric_query blocks against CloudWatch's rules (see
/// `scaling::step_policy`), each error at the attribute it is about.
fn validate_metric(config: &Value, diags: &mut Diagnostics) {
    let single = config.get("metric");
    let queries = config.get("metric_query");
    if queries.is_unknown() || single.is_unknown() {
        return;
    }
    let has_queries = !queries.elements().is_empty();
    if single.is_null() != has_queries {
        diags.error_at(
            AttrPath::root("metric"),
            if has_queries {
                "Both metric and metric_query"
            } else {
                "Missing metric"
            },
            "Give exactly one of a metric block or metric_query blocks.",
        );
        return;
    }
    // The alarm's period, when every period involved is known and valid.
    let period = if has_queries {
        validate_queries(queries, diags)
    } else {
        validate_metric_block(single, &AttrPath::root("metric"), "statistic", diags)
    };
    let evaluation_periods = match config.get("evaluation_periods") {
        Value::Null => Some(1),
        v => v.as_i64(),
    };
    if let (Some(period), Some(n)) = (period, evaluation_periods)
        && let Err(message) = step_policy::check_evaluation_window(period, n)
    {
        diags.error_at(
            AttrPath::root("evaluation_periods"),
            "Alarm evaluation window too long",
            message,
        );
    }
}

/// Checks one metric block (at `at`) and returns its period when known and valid.
fn validate_metric_block(
    block: &Value,
    at: &AttrPath,
    stat_attr: &str,
    diags: &mut Diagnostics,
) -> Option<i64> {
    if let Some(stat) = block.get(stat_attr).as_str()
        && let Err(message) = step_policy::check_statistic(stat)
    {
        diags.error_at(at.clone().attr(stat_attr), "Invalid statistic", message);
    }
    let period = match block.get("period_seconds") {
        Value::Null => DEFAULT_PERIOD as f64,
        v => v.as_f64()?,
    };
    match step_policy::check_period(period) {
        // Whole and positive, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        Ok(()) => Some(period as i64),
        Err(message) => {
            diags.error_at(
                at.clone().attr("period_seconds"),
                "Invalid period_seconds",
                message,
            );
            None
        }
    }
}

/// Checks the metric_query blocks and returns their common period when known.
fn validate_queries(queries: &Value, diags: &mut Diagnostics) -> Option<i64> {
    let all = queries.elements();
    let root = || AttrPath::root("metric_query");
    let (mut metrics, mut expressions, mut returning) = (0, 0, 0);
    let mut return_data_known = true;
    let mut ids: Vec<&str> = Vec::new();
    // (index, period) of each metric query with a known, valid period.
    let mut periods: Vec<(usize, i64)> = Vec::new();
    for (i, q) in all.iter().enumerate() {
        let at = root().index(i);
        if let Value::String(id) = q.get("id") {
            if let Err(message) = step_policy::check_query_id(id) {
                diags.error_at(at.clone().attr("id"), "Invalid query id", message);
            } else if ids.contains(&id.as_str()) {
                diags.error_at(
                    at.clone().attr("id"),
                    "Duplicate query id",
                    format!("Another metric_query already has the id {id:?}; ids must be unique."),
                );
            }
            ids.push(id);
        }
        let (expr, metric) = (q.get("expression"), q.get("metric"));
        if !expr.is_unknown() && !metric.is_unknown() && expr.is_null() == metric.is_null() {
            // At `expression`: Terraform shows that line, or the block when it is absent.
            diags.error_at(
                at.clone().attr("expression"),
                "Query needs an expression or a metric",
                "Give each metric_query exactly one of expression or a metric block.",
            );
        }
        if !expr.is_null() {
            expressions += 1;
        }
        if !metric.is_null() {
            metrics += 1;
            let metric_at = at.clone().attr("metric");
            if let Some(p) = validate_metric_block(metric, &metric_at, "stat", diags) {
                periods.push((i, p));
            }
        }
        match q.get("return_data") {
            Value::Bool(true) => returning += 1,
            Value::Unknown => return_data_known = false,
            _ => {}
        }
    }
    let texts: Vec<(Option<&str>, Option<&str>)> = all
        .iter()
        .map(|q| (q.get("id").as_str(), q.get("expression").as_str()))
        .collect();
    for problem in step_policy::check_expressions(&texts) {
        diags.error_at(
            root().index(problem.index).attr("expression"),
            problem.summary,
            problem.detail,
        );
    }
    for (count, limit, what) in [
        (all.len(), step_policy::MAX_QUERIES, "metric_query blocks"),
        (
            metrics,
            step_policy::MAX_METRIC_STATS,
            "metric_query blocks with a metric",
        ),
        (
            expressions,
            step_policy::MAX_EXPRESSIONS,
            "metric_query blocks with an expression",
        ),
    ] {
        if count > limit {
            diags.error_at(
                root(),
                "Too many metric queries",
                format!("An alarm takes at most {limit} {what}; this one has {count}."),
            );
        }
    }
    if return_data_known && returning != 1 {
        diags.error_at(
            root(),
            "One query must return data",
            format!("Exactly one metric_query needs return_data = true; {returning} do."),
        );
    }
    // One period for all metrics of a math alarm: AWS's alarm guide, as the project's
    // notes on CloudWatch record it ("up to 10 metric queries, all with the same period");
    // the API reference does not say it in so many words.
    let (_, first) = *periods.first()?;
    let mut same = true;
    for (i, p) in &periods[1..] {
        if *p != first {
            same = false;
            diags.error_at(
                root().index(*i).attr("metric").attr("period_seconds"),
                "Metric periods differ",
                format!(
                    "All metrics of one alarm need the same period: this one has {p} s, the \
                     first metric {first} s."
                ),
            );
        }
    }
    same.then_some(first)
}

/// The import id.
fn import_id(v: &Value) -> Option<String> {
    let (cluster, service) = parse_service_resource_id(v.get("scalable_target_id").as_str()?)?;
    Some(format!("{cluster}/{service}/{}", v.get("name").as_str()?))
}

/// The objects a plan whose inputs are known compiles to (steps from `config`), as
/// modify_plan plans them and apply writes them; for the simulator.
pub(crate) fn planned_objects(planned: &Value, config: &Value) -> Option<reconcile::Desired> {
    spec_from(planned, config).map(|spec| desired(&spec))
}

/// Who the objects of the policy `name` on `resource_id` belong to.
fn owner(resource_id: &str, name: &str) -> Owner {
    Owner::new(TYPE_NAME, resource_id, Some(name))
}

fn desired(spec: &StepSpec) -> reconcile::Desired {
    let (policies, alarms) = compiled_objects(spec);
    reconcile::Desired {
        resource_id: spec.resource_id.clone(),
        owner: owner(&spec.resource_id, &spec.name),
        policies: policies
            .into_iter()
            .map(|(s, p)| (side_label(s).to_owned(), p))
            .collect(),
        alarms: alarms
            .into_iter()
            .map(|(s, a)| (side_label(s).to_owned(), a))
            .collect(),
    }
}

/// Sets the computed values that follow from the spec: the step bounds the user left out
/// (filled in from the neighbouring steps), intervals, thresholds, the aggregation default.
///
/// # Guarantees
/// A bound the user configured keeps its planned value, which Terraform has set to the
/// configuration: a configured attribute must be planned exactly as configured. The
/// normalised number line, where steps of 0 merge into the no-action range, is shown in
/// `intervals` only.
fn set_derived(p: &mut Value, spec: &StepSpec, user_steps: &[StepInput]) {
    let normalised = normalised_steps(user_steps, &spec.steps);
    let blocks: Vec<Value> = p
        .get("step")
        .elements()
        .iter()
        .zip(user_steps.iter().zip(&normalised))
        .map(|(block, (given, s))| {
            let mut b = block.clone();
            if given.lower.is_none() {
                b.set("lower", s.lower.map_or(Value::Null, decimal));
            }
            if given.upper.is_none() {
                b.set("upper", s.upper.map_or(Value::Null, decimal));
            }
            b
        })
        .collect();
    p.set("step", Value::List(blocks));
    let intervals = spec
        .steps
        .intervals
        .iter()
        .map(|iv| {
            Value::object([
                ("lower", decimal(iv.lower)),
                (
                    "upper",
                    if iv.upper.is_finite() {
                        decimal(iv.upper)
                    } else {
                        Value::Null
                    },
                ),
                (
                    "change",
                    iv.change.map_or(Value::Null, |c| Value::int(c.into())),
                ),
            ])
        })
        .collect();
    p.set("intervals", Value::List(intervals));
    p.set(
        "lower_threshold",
        spec.steps
            .lower
            .as_ref()
            .map_or(Value::Null, |l| decimal(l.threshold)),
    );
    p.set(
        "upper_threshold",
        spec.steps
            .upper
            .as_ref()
            .map_or(Value::Null, |u| decimal(u.threshold)),
    );
    p.set(
        "metric_aggregation_type",
        Value::opt_string(spec.aggregation.map(AggregationType::as_aws_str)),
    );
}

/// Warns when another step policy on the same target watches the same metric and scales
/// the other way somewhere this one scales (one read of the target's policies, one of
/// their alarms).
async fn warn_about_conflicts(client: &Clients, spec: &StepSpec, diags: &mut Diagnostics) {
    let ours: Vec<String> = [AlarmSide::Lower, AlarmSide::Upper]
        .iter()
        .map(|s| object_name(&spec.name, *s))
        .collect();
    let found = async {
        let policies = aas::list_scaling_policies(&client.aas, &spec.resource_id).await?;
        let others: Vec<aas::ObservedPolicy> = policies
            .into_iter()
            .filter(|p| {
                !ours.contains(&p.policy.name) && matches!(p.policy.kind, PolicyKind::Step(_))
            })
            .collect();
        let names: Vec<String> = others.iter().flat_map(|p| p.alarm_names.clone()).collect();
        let alarms = if names.is_empty() {
            Vec::new()
        } else {
            cw::find_alarms_by_names(&client.cloudwatch, &names).await?
        };
        Ok::<_, aws::AwsError>((others, alarms))
    }
    .await;
    let (others, alarms) = match found {
        Ok(x) => x,
        Err(e) => {
            diags.warning(
                "Could not check for conflicting scaling policies",
                format!(
                    "Reading the other policies of {} failed: {e}",
                    spec.resource_id
                ),
            );
            return;
        }
    };
    for other in &others {
        let PolicyKind::Step(step) = &other.policy.kind else {
            continue;
        };
        let Some(alarm) = alarms
            .iter()
            .find(|a| other.alarm_names.contains(&a.alarm.name))
        else {
            continue;
        };
        if !same_metric(&alarm.alarm.metric, &spec.metric) {
            continue;
        }
        let Some(theirs) = one_side(
            step.adjustment_type,
            alarm.alarm.comparison,
            alarm.alarm.threshold,
            &step.steps,
        ) else {
            continue;
        };
        let overlaps = scale_in_out_overlaps(&spec.steps, &theirs);
        if overlaps.is_empty() {
            continue;
        }
        let lines: Vec<String> = overlaps.iter().map(|o| format!("- {o}")).collect();
        diags.warning_at(
            AttrPath::root("step"),
            format!(
                "Scaling policies in conflict: {} and {}",
                spec.name, other.policy.name
            ),
            format!(
                "Policy {} ({}, alarm {} {} {}) watches the same metric on {} and pulls \
                 capacity the other way:\n{}\nAWS runs both: while the metric stays in such a \
                 range, both alarms re-fire every minute and the task count swings between \
                 the two policies instead of settling. Keep one policy, or move the steps so \
                 their scale-in and scale-out ranges do not meet.",
                other.policy.name,
                step.adjustment_type.as_aws_str(),
                alarm.alarm.name,
                alarm.alarm.comparison.symbol(),
                crate::scaling::backlog_policy::fmt_number(alarm.alarm.threshold),
                spec.resource_id,
                lines.join("\n")
            ),
        );
    }
}

/// Why a plan could not be applied (see [`support::incomplete`]).
fn incomplete(planned: &Value, diags: &mut Diagnostics) {
    support::incomplete(planned, validate, diags);
}

#[async_trait]
impl Resource<Clients> for StepScalingPolicy {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate(config, diags);
    }

    async fn modify_plan(
        &self,
        client: Option<&Clients>,
        change: &mut PlannedChange,
        diags: &mut Diagnostics,
    ) {
        if change.is_destroy() {
            return;
        }
        let prior = change.prior.clone();
        let config = change.config.clone();
        let p = &mut change.planned;
        if let Some(id) = import_id(p) {
            p.set("id", Value::from(id));
        }
        // Steps come from configuration: the plan may carry bounds computed earlier.
        let spec = spec_from(p, &config);
        match (&spec, step_inputs(&config)) {
            (Some(spec), Some(user_steps)) => {
                set_derived(p, spec, &user_steps);
                let desired = desired(spec);
                if let Some(client) = client {
                    reconcile::claim(client, &desired, diags);
                }
                objects::store(p, &reconcile::plan(&desired, &prior));
            }
            _ => {
                for attr in ["intervals", "lower_threshold", "upper_threshold"] {
                    p.set(attr, Value::Unknown);
                }
                objects::store_unknown(p);
                let blocks = p
                    .get("step")
                    .elements()
                    .iter()
                    .zip(config.get("step").elements())
                    .map(|(b, c)| {
                        let mut b = b.clone();
                        for bound in ["lower", "upper"] {
                            if c.get(bound).is_null() {
                                b.set(bound, Value::Unknown);
                            }
                        }
                        b
                    })
                    .collect();
                p.set("step", Value::List(blocks));
                if config.get("metric_aggregation_type").is_null() {
                    p.set("metric_aggregation_type", Value::Unknown);
                }
            }
        }
        tags::plan_tags_all(client.map(|c| &c.default_tags), p);
        if let (Some(client), Some(spec)) = (client, &spec) {
            warn_about_conflicts(client, spec, diags).await;
        }
    }

    async fn create(&self, client: &Clients, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(spec) = spec_from(planned, planned) else {
            incomplete(planned, diags);
            return Value::Null;
        };
        match aws::optional(aas::find_scalable_target(&client.aas, &spec.resource_id).await) {
            Ok(Some(_)) => {}
            Ok(None) => {
                diags.error_at(
                    AttrPath::root("scalable_target_id"),
                    "Scalable target not found",
                    format!(
                        "{} is not registered with Application Auto Scaling in region {}: create \
                         it first (queuescale_scalable_target).",
                        spec.resource_id, client.region
                    ),
                );
                return Value::Null;
            }
            Err(e) => {
                aws_error(diags, &e);
                return Value::Null;
            }
        }
        let desired = desired(&spec);
        if let Err(e) = reconcile::check_new_objects(client, &desired, &Value::Null).await {
            reconcile::report(diags, &e);
            return Value::Null;
        }
        let mut state = planned.clone();
        objects::store_none(&mut state);
        state.set("tags_all", Value::Map(BTreeMap::new()));
        let out = apply(client, &desired, &state, planned, diags).await;
        if !diags.has_errors() {
            reconcile::warn_other_policies(client, &desired, diags).await;
        }
        let made = !objects::is_empty(&out);
        if made { out } else { Value::Null }
    }

    async fn read(&self, client: &Clients, state: &Value, diags: &mut Diagnostics) -> Value {
        match observe(client, state).await {
            Ok(v) => v,
            Err(e) => {
                reconcile::report(diags, &e);
                state.clone()
            }
        }
    }

    async fn update(
        &self,
        client: &Clients,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(spec) = spec_from(planned, planned) else {
            incomplete(planned, diags);
            return prior.clone();
        };
        let desired = desired(&spec);
        if let Err(e) = reconcile::check_new_objects(client, &desired, prior).await {
            reconcile::report(diags, &e);
            return prior.clone();
        }
        apply(client, &desired, prior, planned, diags).await
    }

    async fn delete(&self, client: &Clients, state: &Value, diags: &mut Diagnostics) {
        if let (Some(resource_id), Some(name)) = (
            state.get("scalable_target_id").as_str(),
            state.get("name").as_str(),
        ) {
            let names: Vec<String> = [AlarmSide::Lower, AlarmSide::Upper]
                .iter()
                .map(|s| object_name(name, *s))
                .collect();
            let unrecorded = reconcile::Unrecorded {
                alarms: names.clone(),
                policies: names,
            };
            let owner = owner(resource_id, name);
            let _ = reconcile::delete(client, &owner, resource_id, state, &unrecorded, true, diags)
                .await;
        }
    }

    async fn import(&self, client: &Clients, id: &str, diags: &mut Diagnostics) -> Value {
        let trimmed = id
            .strip_prefix("service/")
            .filter(|r| r.split('/').count() == 3);
        let parts: Vec<&str> = trimmed.unwrap_or(id).split('/').collect();
        let [cluster, service, name] = parts.as_slice() else {
            diags.error(
                "Invalid import id",
                format!(
                    "{id:?} is not CLUSTER/SERVICE/NAME (e.g. main/worker/by-queue-depth; also \
                     accepted: service/CLUSTER/SERVICE/NAME, the scalable target's id followed \
                     by the name)."
                ),
            );
            return Value::Null;
        };
        if [cluster, service, name].iter().any(|p| p.is_empty()) {
            diags.error("Invalid import id", format!("{id:?} has an empty part."));
            return Value::Null;
        }
        let resource_id = format!("service/{cluster}/{service}");
        if let Err(e) = check_import(client, &resource_id, name).await {
            diags.error("Cannot import", e);
            return Value::Null;
        }
        let mut state = null_object(&schema());
        state.set("name", Value::from(*name));
        state.set("scalable_target_id", Value::from(resource_id));
        state.set("id", Value::from(format!("{cluster}/{service}/{name}")));
        state
    }
}

/// Before import: a step policy of `name` (its lower or upper side) must exist on the
/// target, and its alarms must invoke that target's policies and carry no other
/// resource's owner tag.
///
/// # Errors
/// A sentence saying what does not match.
async fn check_import(client: &Clients, resource_id: &str, name: &str) -> Result<(), String> {
    let names: Vec<String> = [AlarmSide::Lower, AlarmSide::Upper]
        .iter()
        .map(|s| object_name(name, *s))
        .collect();
    let policies = aas::find_scaling_policies(&client.aas, resource_id, &names)
        .await
        .map_err(|e| e.to_string())?;
    if policies.is_empty() {
        return Err(format!(
            "No step scaling policy named {name:?} on {resource_id} in region {}: neither \
             {:?} nor {:?} exists. The id is CLUSTER/SERVICE/NAME with the resource's `name`.",
            client.region, names[0], names[1]
        ));
    }
    reconcile::check_import_alarms(client, resource_id, &owner(resource_id, name), &names).await
}

/// Writes the objects and returns the state of what exists.
async fn apply(
    client: &Clients,
    desired: &reconcile::Desired,
    state: &Value,
    planned: &Value,
    diags: &mut Diagnostics,
) -> Value {
    let mut out = planned.clone();
    out.set("policies", state.get("policies").clone());
    out.set("metrics", state.get("metrics").clone());
    out.set("tags_all", state.get("tags_all").clone());
    let want = planned.get("tags_all").as_string_map();
    let had = state.get("tags_all").as_string_map();
    let tags = reconcile::Tags {
        had: &had,
        want: &want,
    };
    if reconcile::write(client, desired, state, tags, &mut out, diags)
        .await
        .is_ok()
    {
        out.set("tags_all", Value::string_map(&want));
    }
    out
}

/// Refreshes the policies and alarms (one call each; plus one tag read when the resource
/// manages tags). Returns null when neither exists any more. On import, recovers every
/// input from what AWS holds.
async fn observe(client: &Clients, state: &Value) -> Result<Value, reconcile::ObjectError> {
    let mut out = state.clone();
    let (Some(resource_id), Some(name)) = (
        state.get("scalable_target_id").as_str(),
        state.get("name").as_str(),
    ) else {
        return Ok(out);
    };
    let importing = state.get("step").is_null();
    let (policies, alarms) = if importing {
        let both: Vec<(String, String)> = [AlarmSide::Lower, AlarmSide::Upper]
            .iter()
            .map(|s| (side_label(*s).to_owned(), object_name(name, *s)))
            .collect();
        (both.clone(), both)
    } else {
        reconcile::recorded(state)
    };
    let owner = owner(resource_id, name);
    let wanted = spec_from(state, state).map(|spec| desired(&spec));
    let mut observed = reconcile::read(
        client,
        &owner,
        resource_id,
        &policies,
        &alarms,
        state,
        wanted.as_ref(),
    )
    .await?;
    sort_observed_adjustments(&mut observed);
    if !observed.any() {
        tracing::warn!(
            name,
            "the step scaling policy is gone; removing it from state"
        );
        return Ok(Value::Null);
    }
    let prior_all = state.get("tags_all");
    if (prior_all.is_null() || prior_all.entries().is_some_and(|m| !m.is_empty()))
        && let Some((_, all)) = &observed.alarm_tags
    {
        out.set(
            "tags",
            own_tags_from(all, &client.default_tags, state.get("tags"), prior_all),
        );
        out.set("tags_all", Value::string_map(all));
    } else if !prior_all.is_null() {
        out.set("tags_all", Value::Map(BTreeMap::new()));
    }
    if importing {
        derive_inputs(&mut out, name, &observed);
    }
    objects::store(&mut out, &observed.lists);
    Ok(out)
}

/// Puts the step adjustments AWS returned in the order the compiler writes them (see
/// `step_policy::sort_adjustments`), for import. (The state text lists them by bound
/// whatever the order.)
fn sort_observed_adjustments(observed: &mut reconcile::Observed) {
    for found in &mut observed.found_policies {
        if let PolicyKind::Step(step) = &mut found.policy.kind {
            step_policy::sort_adjustments(&mut step.steps);
        }
    }
}

fn metric_value(ms: &MetricStat, stat_attr: &str) -> Value {
    Value::object([
        ("namespace", Value::from(ms.metric.namespace.as_str())),
        ("metric_name", Value::from(ms.metric.name.as_str())),
        (
            "dimensions",
            if ms.metric.dimensions.is_empty() {
                Value::Null
            } else {
                Value::string_map(&ms.metric.dimensions)
            },
        ),
        (stat_attr, Value::from(ms.stat.as_str())),
        (
            "period_seconds",
            ms.period.map_or(Value::Null, |p| Value::int(p.into())),
        ),
    ])
}

/// On import, recovers the configuration from the policies and alarms AWS holds.
fn derive_inputs(out: &mut Value, name: &str, observed: &reconcile::Observed) {
    let side = |s: AlarmSide| {
        let alarm = observed
            .found_alarms
            .iter()
            .find(|a| a.alarm.name == object_name(name, s))?;
        let policy = observed
            .found_policies
            .iter()
            .find(|p| p.policy.name == object_name(name, s))?;
        let PolicyKind::Step(step) = &policy.policy.kind else {
            return None;
        };
        Some((alarm, step))
    };
    let (lower, upper) = (side(AlarmSide::Lower), side(AlarmSide::Upper));
    let Some((alarm, step)) = lower.or(upper) else {
        return;
    };
    notify::set_from_alarm(out, &alarm.alarm);
    match &alarm.alarm.metric {
        AlarmMetric::Single(ms) => {
            out.set("metric", metric_value(ms, "statistic"));
            out.set("metric_query", Value::List(Vec::new()));
        }
        AlarmMetric::Math(queries) => {
            out.set("metric", Value::Null);
            let qs = queries
                .iter()
                .map(|q| {
                    let (expression, metric) = match &q.source {
                        QuerySource::Expression(e) => (Value::from(e.as_str()), Value::Null),
                        QuerySource::Metric(ms) => (Value::Null, metric_value(ms, "stat")),
                    };
                    Value::object([
                        ("id", Value::from(q.id.as_str())),
                        ("expression", expression),
                        ("label", Value::opt_string(q.label.as_deref())),
                        ("return_data", Value::Bool(q.return_data)),
                        ("metric", metric),
                    ])
                })
                .collect();
            out.set("metric_query", Value::List(qs));
        }
    }
    out.set(
        "adjustment_type",
        Value::from(step.adjustment_type.as_aws_str()),
    );
    out.set(
        "cooldown_seconds",
        step.cooldown.map_or(Value::Null, |c| Value::int(c.into())),
    );
    out.set(
        "min_adjustment_magnitude",
        step.min_adjustment_magnitude
            .map_or(Value::Null, |m| Value::int(m.into())),
    );
    out.set(
        "metric_aggregation_type",
        Value::opt_string(step.aggregation.map(AggregationType::as_aws_str)),
    );
    out.set(
        "evaluation_periods",
        Value::int(alarm.alarm.evaluation_periods.into()),
    );
    out.set(
        "datapoints_to_alarm",
        alarm
            .alarm
            .datapoints_to_alarm
            .map_or(Value::Null, |d| Value::int(d.into())),
    );
    let recovered = steps_from_aws(
        lower.map(|(a, s)| (a.alarm.threshold, s.steps.as_slice())),
        upper.map(|(a, s)| (a.alarm.threshold, s.steps.as_slice())),
    );
    let blocks = recovered
        .iter()
        .map(|s| {
            Value::object([
                ("lower", s.lower.map_or(Value::Null, decimal)),
                ("upper", s.upper.map_or(Value::Null, decimal)),
                ("change", decimal(s.change)),
            ])
        })
        .collect();
    out.set("step", Value::List(blocks));
    if let Some(spec) = spec_from(out, out) {
        set_derived(out, &spec, &recovered);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(steps: &[(Option<f64>, Option<f64>, f64)], adjustment: &str) -> Value {
        let mut v = crate::resources::support::null_object(&schema());
        v.set("name", Value::from("initial"));
        v.set("scalable_target_id", Value::from("service/main/worker"));
        v.set("adjustment_type", Value::from(adjustment));
        v.set(
            "metric",
            Value::object([
                ("namespace", Value::from("AWS/SQS")),
                (
                    "metric_name",
                    Value::from("ApproximateNumberOfMessagesVisible"),
                ),
                (
                    "dimensions",
                    Value::Map([("QueueName".to_string(), Value::from("jobs"))].into()),
                ),
                ("statistic", Value::from("Maximum")),
                ("period_seconds", Value::int(300)),
            ]),
        );
        v.set("metric_query", Value::List(Vec::new()));
        v.set("evaluation_periods", Value::int(1));
        let num = |x: Option<f64>| x.map_or(Value::Null, Value::number);
        v.set(
            "step",
            Value::List(
                steps
                    .iter()
                    .map(|(l, u, c)| {
                        Value::object([
                            ("lower", num(*l)),
                            ("upper", num(*u)),
                            ("change", Value::number(*c)),
                        ])
                    })
                    .collect(),
            ),
        );
        v
    }

    fn errors_at(c: &Value) -> Vec<String> {
        let mut d = Diagnostics::new();
        validate(c, &mut d);
        d.iter()
            .filter_map(|x| x.attribute.as_ref())
            .map(ToString::to_string)
            .collect()
    }

    fn source_steps() -> Vec<(Option<f64>, Option<f64>, f64)> {
        vec![
            (None, Some(0.0), -1.0),
            (Some(1.0), None, 1.0),
            (Some(5.0), None, 3.0),
            (Some(10.0), None, 5.0),
        ]
    }

    #[test]
    fn the_source_stacks_policy_is_valid_and_compiles() {
        let c = config(&source_steps(), "ChangeInCapacity");
        assert!(errors_at(&c).is_empty());
        let spec = spec_from(&c, &c).expect("spec");
        assert_eq!(
            spec.aggregation,
            Some(AggregationType::Maximum),
            "CDK's default from the statistic"
        );
        assert_eq!(spec.steps.upper.as_ref().map(|u| u.threshold), Some(1.0));
    }

    #[test]
    fn step_errors_point_at_the_step_the_user_wrote() {
        let overlapping = config(
            &[(Some(0.0), Some(10.0), 1.0), (Some(5.0), None, 2.0)],
            "ChangeInCapacity",
        );
        // Whole-step errors name the step's lower bound: Terraform shows that line, or the
        // step block itself when the bound is absent.
        assert_eq!(errors_at(&overlapping), ["step[1].lower"]);
        let boundless = config(
            &[(None, None, 1.0), (Some(5.0), None, 2.0)],
            "ChangeInCapacity",
        );
        assert_eq!(errors_at(&boundless), ["step[0].lower"]);
        let one = config(&[(Some(5.0), None, 2.0)], "ChangeInCapacity");
        assert_eq!(errors_at(&one), ["step"]);
        let negative_exact = config(
            &[(None, Some(3.0), -1.0), (Some(3.0), None, 2.0)],
            "ExactCapacity",
        );
        assert_eq!(errors_at(&negative_exact), ["step[0].change"]);
    }

    #[test]
    fn alarm_settings_errors_point_at_their_attribute() {
        let mut c = config(&source_steps(), "ChangeInCapacity");
        c.set("evaluation_periods", Value::int(2));
        c.set("datapoints_to_alarm", Value::int(3));
        assert_eq!(errors_at(&c), ["datapoints_to_alarm"]);
        let mut m = config(&source_steps(), "ChangeInCapacity");
        m.set("min_adjustment_magnitude", Value::int(2));
        assert_eq!(errors_at(&m), ["min_adjustment_magnitude"]);
        let mut t = config(&source_steps(), "Sideways");
        t.set("cooldown_seconds", Value::int(-1));
        assert_eq!(errors_at(&t), ["adjustment_type", "cooldown_seconds"]);
    }

    #[test]
    fn metric_and_metric_query_are_exclusive_and_queries_are_checked() {
        let mut neither = config(&source_steps(), "ChangeInCapacity");
        neither.set("metric", Value::Null);
        assert_eq!(errors_at(&neither), ["metric"]);
        let mut math = neither.clone();
        math.set(
            "metric_query",
            Value::List(vec![Value::object([
                ("id", Value::from("M1")),
                ("expression", Value::Null),
                ("label", Value::Null),
                ("return_data", Value::Bool(false)),
                ("metric", Value::Null),
            ])]),
        );
        let at = errors_at(&math);
        assert!(at.contains(&"metric_query[0].id".to_string()), "{at:?}");
        assert!(
            at.contains(&"metric_query[0].expression".to_string()),
            "{at:?}"
        );
        assert!(at.contains(&"metric_query".to_string()), "{at:?}");
        let mut period = config(&source_steps(), "ChangeInCapacity");
        if let Some(m) = period.get_mut("metric") {
            m.set("period_seconds", Value::int(45));
        }
        assert_eq!(errors_at(&period), ["metric.period_seconds"]);
    }

    /// Every attribute of `block` and its nested blocks, with its path.
    fn all_attributes<'a>(block: &'a Block, at: &str, out: &mut Vec<(String, &'a Attribute)>) {
        for a in &block.attributes {
            out.push((format!("{at}{}", a.name), a));
        }
        for b in &block.blocks {
            all_attributes(&b.block, &format!("{at}{}.", b.name), out);
        }
    }

    // The docs add "Defaults to `X`." after the description of an attribute with a default.
    #[test]
    fn descriptions_leave_defaults_to_the_generated_docs() {
        let schema = schema();
        let mut attrs = Vec::new();
        all_attributes(&schema.block, "", &mut attrs);
        let with_default: Vec<&String> = attrs
            .iter()
            .filter(|(_, a)| a.default.is_some())
            .map(|(path, _)| path)
            .collect();
        assert!(with_default.len() >= 6, "{with_default:?}");
        for (path, a) in &attrs {
            if a.default.is_some() {
                assert!(
                    !a.description.to_lowercase().contains("default"),
                    "{path}: {}",
                    a.description
                );
            }
        }
    }

    /// A metric_query block: an expression, or a metric with its statistic and period.
    fn query(id: &str, expression: Option<&str>, metric: Option<(&str, i64)>, ret: bool) -> Value {
        let metric = metric.map_or(Value::Null, |(stat, period)| {
            Value::object([
                ("namespace", Value::from("AWS/SQS")),
                (
                    "metric_name",
                    Value::from("ApproximateNumberOfMessagesVisible"),
                ),
                ("dimensions", Value::Null),
                ("stat", Value::from(stat)),
                ("period_seconds", Value::int(period)),
            ])
        });
        Value::object([
            ("id", Value::from(id)),
            ("expression", Value::opt_string(expression)),
            ("label", Value::Null),
            ("return_data", Value::Bool(ret)),
            ("metric", metric),
        ])
    }

    fn math(queries: Vec<Value>) -> Value {
        let mut c = config(&source_steps(), "ChangeInCapacity");
        c.set("metric", Value::Null);
        c.set("metric_query", Value::List(queries));
        c
    }

    #[test]
    fn statistics_cloudwatch_does_not_know_are_refused_at_their_attribute() {
        let mut c = config(&source_steps(), "ChangeInCapacity");
        if let Some(m) = c.get_mut("metric") {
            m.set("statistic", Value::from("Median"));
        }
        assert_eq!(errors_at(&c), ["metric.statistic"]);
        let q = math(vec![
            query("m1", None, Some(("tm90", 60)), false),
            query("m2", None, Some(("avg", 60)), false),
            query("e1", Some("m1 + m2"), None, true),
        ]);
        assert_eq!(errors_at(&q), ["metric_query[1].metric.stat"]);
    }

    #[test]
    fn metric_queries_are_checked_against_cloudwatchs_rules() {
        let valid = || {
            vec![
                query("visible", None, Some(("Sum", 60)), false),
                query("in_flight", None, Some(("Sum", 60)), false),
                query("backlog", Some("visible + in_flight"), None, true),
            ]
        };
        assert!(errors_at(&math(valid())).is_empty());

        let mut undefined = valid();
        undefined[2] = query("backlog", Some("visible + delayed + backlog"), None, true);
        let c = math(undefined);
        assert_eq!(errors_at(&c), ["metric_query[2].expression"]);
        let mut d = Diagnostics::new();
        validate(&c, &mut d);
        let detail = &d.iter().next().expect("an error").detail;
        assert!(detail.contains("delayed, backlog"), "{detail}");

        let mut duplicate = valid();
        duplicate.push(query("in_flight", None, Some(("Sum", 60)), false));
        assert_eq!(errors_at(&math(duplicate)), ["metric_query[3].id"]);

        let mut periods = valid();
        periods[1] = query("in_flight", None, Some(("Sum", 300)), false);
        assert_eq!(
            errors_at(&math(periods)),
            ["metric_query[1].metric.period_seconds"]
        );

        let mut two_return = valid();
        two_return[0] = query("visible", None, Some(("Sum", 60)), true);
        assert_eq!(errors_at(&math(two_return)), ["metric_query"]);

        let mut eleven_metrics: Vec<Value> = (0..11)
            .map(|i| query(&format!("m{i}"), None, Some(("Sum", 60)), false))
            .collect();
        eleven_metrics.push(query("e1", Some("m0"), None, true));
        assert_eq!(errors_at(&math(eleven_metrics)), ["metric_query"]);

        let mut eleven_expressions = vec![query("m0", None, Some(("Sum", 60)), false)];
        eleven_expressions
            .extend((0..11).map(|i| query(&format!("e{i}"), Some("m0"), None, i == 0)));
        assert_eq!(errors_at(&math(eleven_expressions)), ["metric_query"]);

        let mut twenty_one: Vec<Value> = (0..10)
            .map(|i| query(&format!("m{i}"), None, Some(("Sum", 60)), false))
            .collect();
        twenty_one.extend((0..11).map(|i| query(&format!("e{i}"), Some("m0"), None, i == 0)));
        let at = errors_at(&math(twenty_one));
        assert_eq!(
            at,
            ["metric_query", "metric_query"],
            "20 queries and 10 expressions"
        );
    }

    #[test]
    fn expression_errors_are_shown_at_the_expression_of_their_query() {
        let syntax = math(vec![
            query("visible", None, Some(("Sum", 60)), false),
            query("in_flight", None, Some(("Sum", 60)), false),
            query("backlog", Some("(visible + in_flight))"), None, true),
        ]);
        assert_eq!(errors_at(&syntax), ["metric_query[2].expression"]);
        let mut d = Diagnostics::new();
        validate(&syntax, &mut d);
        let error = d.iter().next().expect("an error");
        assert_eq!(error.summary, "Invalid metric math expression");
        assert!(
            error.detail.contains("unexpected \")\" at column 22"),
            "{}",
            error.detail
        );

        let cycle = math(vec![
            query("visible", None, Some(("Sum", 60)), false),
            query("e1", Some("e2 + visible"), None, false),
            query("e2", Some("e1 * 2"), None, true),
        ]);
        assert_eq!(
            errors_at(&cycle),
            ["metric_query[1].expression", "metric_query[2].expression"]
        );

        // Functions the simulator does not evaluate are CloudWatch's to judge.
        let unevaluated = math(vec![
            query("visible", None, Some(("Sum", 60)), false),
            query(
                "band",
                Some("ANOMALY_DETECTION_BAND(visible, 2)"),
                None,
                false,
            ),
            query("e1", Some("FIRST(SORT(METRICS(), AVG, DESC))"), None, true),
        ]);
        assert!(errors_at(&unevaluated).is_empty());
    }

    #[test]
    fn an_evaluation_window_beyond_cloudwatchs_limit_is_refused() {
        let mut c = config(&source_steps(), "ChangeInCapacity");
        c.set("evaluation_periods", Value::int(288));
        assert!(errors_at(&c).is_empty(), "288 × 300 s is one day");
        c.set("evaluation_periods", Value::int(289));
        assert_eq!(errors_at(&c), ["evaluation_periods"]);
        let mut q = math(vec![
            query("m1", None, Some(("Sum", 3_600)), false),
            query("e1", Some("m1 * 2"), None, true),
        ]);
        q.set("evaluation_periods", Value::int(168));
        assert!(errors_at(&q).is_empty(), "a week of hours");
        q.set("evaluation_periods", Value::int(169));
        assert_eq!(errors_at(&q), ["evaluation_periods"]);
    }

    /// The plan of `c`'s steps as modify_plan makes it: (lower, upper) per step.
    fn planned_bounds(c: &Value) -> Vec<(Value, Value)> {
        let spec = spec_from(c, c).expect("spec");
        let mut p = c.clone();
        set_derived(&mut p, &spec, &step_inputs(c).expect("steps"));
        p.get("step")
            .elements()
            .iter()
            .map(|s| (s.get("lower").clone(), s.get("upper").clone()))
            .collect()
    }

    // CDK's full test schedule (aws-autoscaling-common test-utils.ts): the two steps of 0
    // merge into the no-action range [20, 80], which must not leak into their bounds.
    #[test]
    fn configured_bounds_of_zero_change_steps_are_planned_as_configured() {
        let schedule = [
            (Some(0.0), Some(10.0), -2.0),
            (Some(10.0), Some(20.0), -1.0),
            (Some(20.0), Some(60.0), 0.0),
            (Some(60.0), Some(80.0), 0.0),
            (Some(80.0), Some(90.0), 1.0),
            (Some(90.0), None, 2.0),
        ];
        let c = config(&schedule, "ChangeInCapacity");
        assert!(errors_at(&c).is_empty());
        let planned = planned_bounds(&c);
        for (i, (block, bounds)) in c.get("step").elements().iter().zip(&planned).enumerate() {
            assert_eq!(
                (block.get("lower"), block.get("upper")),
                (&bounds.0, &bounds.1),
                "step[{i}]"
            );
        }
        // Left out, a zero step's bounds come from its neighbours, not from the merged range.
        let stripped = [
            (Some(0.0), Some(10.0), -2.0),
            (Some(10.0), Some(20.0), -1.0),
            (None, Some(60.0), 0.0),
            (Some(60.0), None, 0.0),
            (Some(80.0), Some(90.0), 1.0),
            (Some(90.0), None, 2.0),
        ];
        let planned = planned_bounds(&config(&stripped, "ChangeInCapacity"));
        assert_eq!(planned[2], (Value::int(20), Value::int(60)));
        assert_eq!(planned[3], (Value::int(60), Value::int(80)));
    }

    #[test]
    fn planned_step_bounds_are_the_normalised_ones() {
        let c = config(&source_steps(), "ChangeInCapacity");
        let spec = spec_from(&c, &c).expect("spec");
        let mut p = c.clone();
        set_derived(&mut p, &spec, &step_inputs(&c).expect("steps"));
        let bounds: Vec<(Value, Value)> = p
            .get("step")
            .elements()
            .iter()
            .map(|s| (s.get("lower").clone(), s.get("upper").clone()))
            .collect();
        assert_eq!(bounds[0], (Value::int(0), Value::int(0)));
        assert_eq!(bounds[1], (Value::int(1), Value::int(5)));
        assert_eq!(bounds[3], (Value::int(10), Value::Null));
        assert_eq!(p.get("lower_threshold"), &Value::int(0));
        assert_eq!(p.get("upper_threshold"), &Value::int(1));
        assert_eq!(p.get("metric_aggregation_type"), &Value::from("Maximum"));
    }
}
