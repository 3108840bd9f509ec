//! The objects this provider puts into AWS, as plain values: scalable targets, scaling
//! policies (step and target tracking) and metric alarms.
//!
//! Resources compile their configuration into these, the `aws` layer writes them and reads
//! them back into the same types, so drift is a comparison of values. No I/O here, and no
//! AWS SDK or Terraform types.

use std::collections::BTreeMap;

use super::steps::{AdjustmentType, AggregationType, StepAdjustment};

/// The scalable dimension of an ECS service.
pub const ECS_DESIRED_COUNT: &str = "ecs:service:DesiredCount";

/// Application Auto Scaling's resource id of an ECS service.
pub fn service_resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// Splits `service/CLUSTER/SERVICE` into its names.
pub fn parse_service_resource_id(id: &str) -> Option<(&str, &str)> {
    let rest = id.strip_prefix("service/")?;
    let (cluster, service) = rest.split_once('/')?;
    (!cluster.is_empty() && !service.is_empty() && !service.contains('/'))
        .then_some((cluster, service))
}

/// Which kinds of scaling are suspended on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Suspension {
    /// Dynamic (policy-driven) scale-in suspended.
    pub dynamic_in: bool,
    /// Dynamic scale-out suspended.
    pub dynamic_out: bool,
    /// Scheduled actions suspended.
    pub scheduled: bool,
}

/// A scalable target for an ECS service's desired count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Fewest tasks (0 allowed).
    pub min_capacity: i32,
    /// Most tasks.
    pub max_capacity: i32,
    /// Suspended scaling.
    pub suspension: Suspension,
}

/// A metric with its dimensions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Metric {
    /// Namespace, e.g. `AWS/SQS`.
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Dimensions by name.
    pub dimensions: BTreeMap<String, String>,
}

/// A metric and how to aggregate it over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricStat {
    /// The metric.
    pub metric: Metric,
    /// Statistic (`Sum`, `Maximum`, `SampleCount`, `p90`, …).
    pub stat: String,
    /// Period in seconds (alarms only; target tracking fixes its own).
    pub period: Option<i32>,
    /// Unit filter, rarely used.
    pub unit: Option<String>,
}

/// What a metric query reads: a metric or an expression over other queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuerySource {
    /// A metric.
    Metric(MetricStat),
    /// A metric math expression over other query ids.
    Expression(String),
}

/// One entry of a metric math query list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// Id other expressions refer to (lowercase first letter).
    pub id: String,
    /// Human-readable label.
    pub label: Option<String>,
    /// Whether this entry is the result (exactly one is).
    pub return_data: bool,
    /// What it reads.
    pub source: QuerySource,
}

impl MetricQuery {
    /// A metric entry that is not returned.
    pub fn metric(id: &str, stat: MetricStat, label: &str) -> MetricQuery {
        MetricQuery {
            id: id.to_owned(),
            label: Some(label.to_owned()),
            return_data: false,
            source: QuerySource::Metric(stat),
        }
    }

    /// An expression entry.
    pub fn expression(id: &str, expr: &str, label: &str, return_data: bool) -> MetricQuery {
        MetricQuery {
            id: id.to_owned(),
            label: Some(label.to_owned()),
            return_data,
            source: QuerySource::Expression(expr.to_owned()),
        }
    }
}

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlarmMetric {
    /// One metric with a statistic and period.
    Single(MetricStat),
    /// Metric math: several queries, one returned.
    Math(Vec<MetricQuery>),
}

/// How an alarm compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`
    GreaterOrEqual,
    /// `GreaterThanThreshold`
    Greater,
    /// `LessThanOrEqualToThreshold`
    LessOrEqual,
    /// `LessThanThreshold`
    Less,
}

impl Comparison {
    /// CloudWatch's name.
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            Comparison::GreaterOrEqual => "GreaterThanOrEqualToThreshold",
            Comparison::Greater => "GreaterThanThreshold",
            Comparison::LessOrEqual => "LessThanOrEqualToThreshold",
            Comparison::Less => "LessThanThreshold",
        }
    }

    /// Parses CloudWatch's name.
    pub fn from_aws_str(s: &str) -> Option<Comparison> {
        [
            Comparison::GreaterOrEqual,
            Comparison::Greater,
            Comparison::LessOrEqual,
            Comparison::Less,
        ]
        .into_iter()
        .find(|c| c.as_aws_str() == s)
    }

    /// The operator as a symbol, for summaries (`>=`).
    pub const fn symbol(self) -> &'static str {
        match self {
            Comparison::GreaterOrEqual => ">=",
            Comparison::Greater => ">",
            Comparison::LessOrEqual => "<=",
            Comparison::Less => "<",
        }
    }
}

/// How an alarm treats periods without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingData {
    /// `missing`: not enough data → INSUFFICIENT_DATA.
    Missing,
    /// `notBreaching`: treated as within the threshold.
    NotBreaching,
    /// `breaching`: treated as beyond the threshold.
    Breaching,
    /// `ignore`: keep the current state.
    Ignore,
}

impl MissingData {
    /// CloudWatch's name.
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            MissingData::Missing => "missing",
            MissingData::NotBreaching => "notBreaching",
            MissingData::Breaching => "breaching",
            MissingData::Ignore => "ignore",
        }
    }

    /// Parses CloudWatch's name.
    pub fn from_aws_str(s: &str) -> Option<MissingData> {
        [
            MissingData::Missing,
            MissingData::NotBreaching,
            MissingData::Breaching,
            MissingData::Ignore,
        ]
        .into_iter()
        .find(|m| m.as_aws_str() == s)
    }
}

/// A CloudWatch metric alarm whose action is one scaling policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// Alarm name (unique per region).
    pub name: String,
    /// Description.
    pub description: String,
    /// What it watches.
    pub metric: AlarmMetric,
    /// Comparison with the threshold.
    pub comparison: Comparison,
    /// Threshold.
    pub threshold: f64,
    /// Periods evaluated.
    pub evaluation_periods: i32,
    /// Breaching periods among them needed to alarm (`None`: all).
    pub datapoints_to_alarm: Option<i32>,
    /// Missing-data treatment.
    pub missing_data: MissingData,
    /// ARNs the alarm invokes when it goes into ALARM: the notifications it was compiled
    /// with; its scaling policy's ARN is put first once the policy exists.
    pub actions: Vec<String>,
    /// ARNs it notifies when it returns to OK.
    pub ok_actions: Vec<String>,
}

/// Whom an alarm tells when it changes state, beside invoking its scaling policy: SNS
/// topic ARNs, or any other action CloudWatch accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notify {
    /// Notified when the alarm goes into ALARM.
    pub alarm: Vec<String>,
    /// Notified when it returns to OK.
    pub ok: Vec<String>,
}

impl Notify {
    /// CloudWatch takes at most 5 `AlarmActions` and 5 `OKActions` (PutMetricAlarm, API
    /// reference); one alarm action is the scaling policy.
    pub const MAX_ALARM: usize = 4;
    /// See [`Notify::MAX_ALARM`].
    pub const MAX_OK: usize = 5;
}

/// Whether an alarm action is a scaling policy (Application Auto Scaling's ARNs are
/// `arn:PARTITION:autoscaling:REGION:ACCOUNT:scalingPolicy:…`) rather than a notification.
pub fn is_scaling_policy_arn(arn: &str) -> bool {
    arn.split(':').nth(5) == Some("scalingPolicy")
}

/// A step scaling policy.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPolicy {
    /// How changes apply.
    pub adjustment_type: AdjustmentType,
    /// Cooldown in seconds (`None`: AWS default).
    pub cooldown: Option<i32>,
    /// Aggregation of alarm datapoints (`None`: AWS default, Average).
    pub aggregation: Option<AggregationType>,
    /// Floor for percent changes.
    pub min_adjustment_magnitude: Option<i32>,
    /// Steps, bounds relative to the alarm threshold.
    pub steps: Vec<StepAdjustment>,
}

/// A target tracking policy on a customized metric (metric math).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTrackingPolicy {
    /// The value the metric is kept at.
    pub target_value: f64,
    /// The metric queries (one returned), without periods.
    pub metrics: Vec<MetricQuery>,
    /// Scale-out cooldown in seconds.
    pub scale_out_cooldown: Option<i32>,
    /// Scale-in cooldown in seconds.
    pub scale_in_cooldown: Option<i32>,
    /// Never scale in by this policy.
    pub disable_scale_in: bool,
}

/// What a scaling policy does.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyKind {
    /// Step scaling, triggered by an alarm.
    Step(StepPolicy),
    /// Target tracking (AAS manages its alarms).
    TargetTracking(TargetTrackingPolicy),
}

/// A scaling policy on an ECS service's scalable target.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Policy name (unique per target; cannot be renamed).
    pub name: String,
    /// `service/CLUSTER/SERVICE`.
    pub resource_id: String,
    /// Its configuration.
    pub kind: PolicyKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_resource_ids_round_trip() {
        let id = service_resource_id("main", "worker");
        assert_eq!(id, "service/main/worker");
        assert_eq!(parse_service_resource_id(&id), Some(("main", "worker")));
        for bad in ["main/worker", "service/main", "service//w", "service/a/b/c"] {
            assert_eq!(parse_service_resource_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn aws_names_parse_back() {
        for c in [Comparison::Greater, Comparison::LessOrEqual] {
            assert_eq!(Comparison::from_aws_str(c.as_aws_str()), Some(c));
        }
        assert_eq!(
            MissingData::from_aws_str("notBreaching"),
            Some(MissingData::NotBreaching)
        );
    }
}
