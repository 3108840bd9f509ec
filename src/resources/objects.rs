//! How compiled policies and alarms appear in state and plans: computed lists of objects
//! with their names, ARNs, steps, targets and metric math, so `terraform plan` shows
//! what will exist. Shared by the scaling-policy resources.
//!
//! An object whose `arn` is unknown in a plan will be written; one whose `arn` is null in
//! state does not exist in AWS.

use std::collections::BTreeMap;

use crate::scaling::model::{
    Alarm, AlarmMetric, MetricQuery, MetricStat, Policy, PolicyKind, QuerySource,
};
use crate::tfplugin::{Attribute, Type, Value};

/// One metric math query (or a single metric) as shown in state.
pub fn query_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("label", Type::String),
        ("return_data", Type::Bool),
        ("expression", Type::String),
        ("namespace", Type::String),
        ("metric_name", Type::String),
        ("dimensions", Type::map(Type::String)),
        ("stat", Type::String),
        ("period", Type::Number),
    ])
}

/// One step adjustment as AWS holds it.
pub fn step_type() -> Type {
    Type::object([
        ("lower_bound", Type::Number),
        ("upper_bound", Type::Number),
        ("scaling_adjustment", Type::Number),
    ])
}

/// A scaling policy as shown in state.
pub fn policy_type() -> Type {
    Type::object([
        ("purpose", Type::String),
        ("name", Type::String),
        ("arn", Type::String),
        ("policy_type", Type::String),
        ("target_value", Type::Number),
        ("disable_scale_in", Type::Bool),
        ("scale_out_cooldown", Type::Number),
        ("scale_in_cooldown", Type::Number),
        ("adjustment_type", Type::String),
        ("cooldown", Type::Number),
        ("metric_aggregation_type", Type::String),
        ("min_adjustment_magnitude", Type::Number),
        ("steps", Type::list(step_type())),
        ("metric_queries", Type::list(query_type())),
    ])
}

/// A metric alarm as shown in state.
pub fn alarm_type() -> Type {
    Type::object([
        ("purpose", Type::String),
        ("name", Type::String),
        ("arn", Type::String),
        ("description", Type::String),
        ("comparison_operator", Type::String),
        ("threshold", Type::Number),
        ("evaluation_periods", Type::Number),
        ("datapoints_to_alarm", Type::Number),
        ("treat_missing_data", Type::String),
        ("metric_queries", Type::list(query_type())),
        ("actions", Type::list(Type::String)),
    ])
}

/// The `policies` attribute.
pub fn policies_attribute(text: &str) -> Attribute {
    Attribute::computed("policies", Type::list(policy_type())).describe(text)
}

/// The `alarms` attribute.
pub fn alarms_attribute(text: &str) -> Attribute {
    Attribute::computed("alarms", Type::list(alarm_type())).describe(text)
}

fn opt_int(v: Option<i32>) -> Value {
    v.map_or(Value::Null, |n| Value::int(n.into()))
}

fn opt_f64(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::number)
}

fn dims(d: &BTreeMap<String, String>) -> Value {
    Value::string_map(d)
}

fn stat_fields(ms: &MetricStat) -> [(&'static str, Value); 5] {
    [
        ("namespace", Value::from(ms.metric.namespace.as_str())),
        ("metric_name", Value::from(ms.metric.name.as_str())),
        ("dimensions", dims(&ms.metric.dimensions)),
        ("stat", Value::from(ms.stat.as_str())),
        ("period", opt_int(ms.period)),
    ]
}

/// A query as a state value.
pub fn query_value(q: &MetricQuery) -> Value {
    let mut v = Value::object([
        ("id", Value::from(q.id.as_str())),
        ("label", Value::opt_string(q.label.as_deref())),
        ("return_data", Value::Bool(q.return_data)),
        ("expression", Value::Null),
        ("namespace", Value::Null),
        ("metric_name", Value::Null),
        ("dimensions", Value::Null),
        ("stat", Value::Null),
        ("period", Value::Null),
    ]);
    match &q.source {
        QuerySource::Expression(e) => v.set("expression", Value::from(e.as_str())),
        QuerySource::Metric(ms) => {
            for (k, x) in stat_fields(ms) {
                v.set(k, x);
            }
        }
    }
    v
}

/// A policy as a state value, with its ARN (null: does not exist; unknown: to be written).
pub fn policy_value(purpose: &str, p: &Policy, arn: Value) -> Value {
    let mut v = Value::object(
        policy_type_keys()
            .map(|k| (k, Value::Null))
            .collect::<Vec<_>>(),
    );
    v.set("purpose", Value::from(purpose));
    v.set("name", Value::from(p.name.as_str()));
    v.set("arn", arn);
    v.set("steps", Value::List(Vec::new()));
    v.set("metric_queries", Value::List(Vec::new()));
    match &p.kind {
        PolicyKind::TargetTracking(t) => {
            v.set("policy_type", Value::from("TargetTrackingScaling"));
            v.set("target_value", Value::number(t.target_value));
            v.set("disable_scale_in", Value::Bool(t.disable_scale_in));
            v.set("scale_out_cooldown", opt_int(t.scale_out_cooldown));
            v.set("scale_in_cooldown", opt_int(t.scale_in_cooldown));
            v.set(
                "metric_queries",
                Value::List(t.metrics.iter().map(query_value).collect()),
            );
        }
        PolicyKind::Step(s) => {
            v.set("policy_type", Value::from("StepScaling"));
            v.set(
                "adjustment_type",
                Value::from(s.adjustment_type.as_aws_str()),
            );
            v.set("cooldown", opt_int(s.cooldown));
            v.set(
                "metric_aggregation_type",
                Value::opt_string(s.aggregation.map(|a| a.as_aws_str())),
            );
            v.set(
                "min_adjustment_magnitude",
                opt_int(s.min_adjustment_magnitude),
            );
            v.set(
                "steps",
                Value::List(
                    s.steps
                        .iter()
                        .map(|a| {
                            Value::object([
                                ("lower_bound", opt_f64(a.lower_bound)),
                                ("upper_bound", opt_f64(a.upper_bound)),
                                (
                                    "scaling_adjustment",
                                    Value::int(a.scaling_adjustment.into()),
                                ),
                            ])
                        })
                        .collect(),
                ),
            );
        }
    }
    v
}

fn policy_type_keys() -> impl Iterator<Item = String> {
    let Type::Object(attrs) = policy_type() else {
        unreachable!("policy_type is an object")
    };
    attrs.into_keys()
}

/// An alarm as a state value, with its ARN and actions.
pub fn alarm_value(purpose: &str, a: &Alarm, arn: Value, actions: Value) -> Value {
    let queries = match &a.metric {
        AlarmMetric::Math(qs) => qs.iter().map(query_value).collect(),
        AlarmMetric::Single(ms) => vec![query_value(&MetricQuery {
            id: "m1".into(),
            label: None,
            return_data: true,
            source: QuerySource::Metric(ms.clone()),
        })],
    };
    Value::object([
        ("purpose", Value::from(purpose)),
        ("name", Value::from(a.name.as_str())),
        ("arn", arn),
        ("description", Value::from(a.description.as_str())),
        (
            "comparison_operator",
            Value::from(a.comparison.as_aws_str()),
        ),
        ("threshold", Value::number(a.threshold)),
        (
            "evaluation_periods",
            Value::int(a.evaluation_periods.into()),
        ),
        ("datapoints_to_alarm", opt_int(a.datapoints_to_alarm)),
        (
            "treat_missing_data",
            Value::from(a.missing_data.as_aws_str()),
        ),
        ("metric_queries", Value::List(queries)),
        ("actions", actions),
    ])
}

/// Whether two state objects describe the same configuration (ARNs aside).
pub fn same_config(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        v.set("arn", Value::Null);
        v
    };
    strip(a).semantically_equal(&strip(b))
}

/// The entry of a computed list with this `purpose`.
pub fn by_purpose<'a>(list: &'a Value, purpose: &str) -> Option<&'a Value> {
    list.elements()
        .iter()
        .find(|e| e.get("purpose").as_str() == Some(purpose))
}

/// The ARN of an entry, when it is a known, non-null string.
pub fn arn_of(entry: Option<&Value>) -> Option<&str> {
    entry.and_then(|e| e.get("arn").as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::model::{Comparison, Metric, MissingData, StepPolicy};
    use crate::scaling::steps::{AdjustmentType, StepAdjustment};
    use crate::tfplugin::msgpack;

    fn step_policy() -> Policy {
        Policy {
            name: "p".into(),
            resource_id: "service/c/s".into(),
            kind: PolicyKind::Step(StepPolicy {
                adjustment_type: AdjustmentType::ExactCapacity,
                cooldown: Some(60),
                aggregation: None,
                min_adjustment_magnitude: None,
                steps: vec![StepAdjustment {
                    lower_bound: Some(0.0),
                    upper_bound: None,
                    scaling_adjustment: 1,
                }],
            }),
        }
    }

    #[test]
    fn policy_values_fit_the_schema_type_and_encode() {
        let v = policy_value("wake", &step_policy(), Value::Unknown);
        assert!(msgpack::encode(&v, &policy_type()).is_ok());
        assert_eq!(
            v.get("steps").elements()[0].get("upper_bound"),
            &Value::Null
        );
        assert_eq!(v.get("adjustment_type"), &Value::from("ExactCapacity"));
    }

    #[test]
    fn alarm_values_fit_the_schema_type() {
        let a = Alarm {
            name: "a".into(),
            description: "d".into(),
            metric: AlarmMetric::Math(vec![MetricQuery::metric(
                "m",
                MetricStat {
                    metric: Metric {
                        namespace: "AWS/SQS".into(),
                        name: "X".into(),
                        dimensions: BTreeMap::new(),
                    },
                    stat: "Maximum".into(),
                    period: Some(60),
                    unit: None,
                },
                "M",
            )]),
            comparison: Comparison::GreaterOrEqual,
            threshold: 1.0,
            evaluation_periods: 1,
            datapoints_to_alarm: Some(1),
            missing_data: MissingData::NotBreaching,
            actions: vec![],
        };
        let v = alarm_value("wake", &a, Value::Null, Value::List(vec![]));
        assert!(msgpack::encode(&v, &alarm_type()).is_ok());
    }

    #[test]
    fn same_config_ignores_only_the_arn() {
        let a = policy_value("wake", &step_policy(), Value::from("arn:1"));
        let b = policy_value("wake", &step_policy(), Value::Unknown);
        assert!(same_config(&a, &b));
        let mut c = b.clone();
        c.set("cooldown", Value::int(61));
        assert!(!same_config(&a, &c));
    }
}
