//! CloudWatch metric alarms: finders and idempotent writers speaking `scaling::model`.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types as t;

use super::error::AwsError;
use super::limit::{Op, Paced, has_next_token};
use crate::scaling::model::{
    Alarm, AlarmMetric, Comparison, Metric, MetricQuery, MetricStat, MissingData, QuerySource,
};

/// CloudWatch, paced under the account's quotas.
pub type Client = Paced<aws_sdk_cloudwatch::Client>;

/// An alarm as CloudWatch holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedAlarm {
    /// Its configuration (actions included).
    pub alarm: Alarm,
    /// `AlarmArn`.
    pub arn: String,
}

/// Finds alarms by name (one call per 100 names); names that do not exist are absent
/// from the answer.
///
/// # Errors
/// API errors.
pub async fn find_alarms_by_names(
    client: &Client,
    names: &[String],
) -> Result<Vec<ObservedAlarm>, AwsError> {
    let mut found = Vec::new();
    for chunk in names.chunks(100) {
        let pages = client
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .alarm_types(t::AlarmType::MetricAlarm)
            .into_paginator()
            .send();
        client
            .for_each_page(
                Op::DescribeAlarms,
                pages,
                |out| has_next_token(out.next_token()),
                |e| AwsError::from_sdk("reading alarms", "alarms", &chunk.join(","), e, &[]),
                |out| found.extend(out.metric_alarms().iter().filter_map(observed_alarm)),
            )
            .await?;
    }
    Ok(found)
}

fn metric_from_aws(m: Option<&t::Metric>) -> Metric {
    Metric {
        namespace: m
            .and_then(t::Metric::namespace)
            .unwrap_or_default()
            .to_owned(),
        name: m
            .and_then(t::Metric::metric_name)
            .unwrap_or_default()
            .to_owned(),
        dimensions: m
            .map(|m| dimensions_from_aws(m.dimensions()))
            .unwrap_or_default(),
    }
}

fn dimensions_from_aws(d: &[t::Dimension]) -> BTreeMap<String, String> {
    d.iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_owned(),
                d.value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn observed_alarm(a: &t::MetricAlarm) -> Option<ObservedAlarm> {
    let metric = if a.metrics().is_empty() {
        AlarmMetric::Single(MetricStat {
            metric: Metric {
                namespace: a.namespace().unwrap_or_default().to_owned(),
                name: a.metric_name().unwrap_or_default().to_owned(),
                dimensions: dimensions_from_aws(a.dimensions()),
            },
            stat: a
                .extended_statistic()
                .map(str::to_owned)
                .or_else(|| a.statistic().map(|s| s.as_str().to_owned()))
                .unwrap_or_default(),
            period: a.period(),
            unit: a.unit().map(|u| u.as_str().to_owned()),
        })
    } else {
        AlarmMetric::Math(
            a.metrics()
                .iter()
                .map(|q| MetricQuery {
                    id: q.id().unwrap_or_default().to_owned(),
                    label: q.label().map(str::to_owned),
                    return_data: q.return_data().unwrap_or(true),
                    source: match (q.expression(), q.metric_stat()) {
                        (Some(e), _) => QuerySource::Expression(e.to_owned()),
                        (None, ms) => QuerySource::Metric(MetricStat {
                            metric: metric_from_aws(ms.and_then(t::MetricStat::metric)),
                            stat: ms
                                .and_then(t::MetricStat::stat)
                                .unwrap_or_default()
                                .to_owned(),
                            period: ms.and_then(t::MetricStat::period),
                            unit: ms
                                .and_then(t::MetricStat::unit)
                                .map(|u| u.as_str().to_owned()),
                        }),
                    },
                })
                .collect(),
        )
    };
    Some(ObservedAlarm {
        arn: a.alarm_arn().unwrap_or_default().to_owned(),
        alarm: Alarm {
            name: a.alarm_name()?.to_owned(),
            description: a.alarm_description().unwrap_or_default().to_owned(),
            metric,
            comparison: a
                .comparison_operator()
                .and_then(|c| Comparison::from_aws_str(c.as_str()))
                .unwrap_or(Comparison::GreaterOrEqual),
            threshold: a.threshold().unwrap_or_default(),
            evaluation_periods: a.evaluation_periods().unwrap_or(1),
            datapoints_to_alarm: a.datapoints_to_alarm(),
            missing_data: a
                .treat_missing_data()
                .and_then(MissingData::from_aws_str)
                .unwrap_or(MissingData::Missing),
            actions: a.alarm_actions().to_vec(),
            ok_actions: a.ok_actions().to_vec(),
        },
    })
}

fn dimensions_to_aws(d: &BTreeMap<String, String>) -> Vec<t::Dimension> {
    d.iter()
        .map(|(k, v)| t::Dimension::builder().name(k).value(v).build())
        .collect()
}

fn metric_to_aws(m: &Metric) -> t::Metric {
    t::Metric::builder()
        .namespace(&m.namespace)
        .metric_name(&m.name)
        .set_dimensions(Some(dimensions_to_aws(&m.dimensions)))
        .build()
}

/// Standard statistics go in `Statistic`; percentiles and the like in `ExtendedStatistic`.
fn is_standard_statistic(s: &str) -> bool {
    matches!(s, "SampleCount" | "Average" | "Sum" | "Minimum" | "Maximum")
}

/// Creates or replaces an alarm (PutMetricAlarm is an upsert by name). `tags` apply only
/// when the alarm is created; use [`sync_tags`] for an existing one.
///
/// # Errors
/// API errors.
pub async fn put_metric_alarm(
    client: &Client,
    alarm: &Alarm,
    tags: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let mut req = client
        .put_metric_alarm()
        .alarm_name(&alarm.name)
        .alarm_description(&alarm.description)
        .actions_enabled(true)
        .set_alarm_actions(Some(alarm.actions.clone()))
        .set_ok_actions(Some(alarm.ok_actions.clone()))
        .comparison_operator(t::ComparisonOperator::from(alarm.comparison.as_aws_str()))
        .threshold(alarm.threshold)
        .evaluation_periods(alarm.evaluation_periods)
        .set_datapoints_to_alarm(alarm.datapoints_to_alarm)
        .treat_missing_data(alarm.missing_data.as_aws_str());
    match &alarm.metric {
        AlarmMetric::Single(ms) => {
            req = req
                .namespace(&ms.metric.namespace)
                .metric_name(&ms.metric.name)
                .set_dimensions(Some(dimensions_to_aws(&ms.metric.dimensions)))
                .set_period(ms.period)
                .set_unit(ms.unit.as_deref().map(t::StandardUnit::from));
            req = if is_standard_statistic(&ms.stat) {
                req.statistic(t::Statistic::from(ms.stat.as_str()))
            } else {
                req.extended_statistic(&ms.stat)
            };
        }
        AlarmMetric::Math(queries) => {
            for q in queries {
                let mut b = t::MetricDataQuery::builder()
                    .id(&q.id)
                    .set_label(q.label.clone())
                    .return_data(q.return_data);
                b = match &q.source {
                    QuerySource::Expression(e) => b.expression(e),
                    QuerySource::Metric(ms) => b.metric_stat(
                        t::MetricStat::builder()
                            .metric(metric_to_aws(&ms.metric))
                            .set_period(ms.period)
                            .stat(&ms.stat)
                            .set_unit(ms.unit.as_deref().map(t::StandardUnit::from))
                            .build(),
                    ),
                };
                req = req.metrics(b.build());
            }
        }
    }
    for (k, v) in tags {
        req = req.tags(t::Tag::builder().key(k).value(v).build());
    }
    client.pace(Op::PutMetricAlarm).await?;
    req.send()
        .await
        .map_err(|e| AwsError::from_sdk("putting alarm", "alarm", &alarm.name, e, &[]))?;
    Ok(())
}

/// Deletes alarms by name. Names that do not exist are ignored (CloudWatch deletes the
/// ones that do), so this is idempotent.
///
/// # Errors
/// API errors.
pub async fn delete_alarms(client: &Client, names: &[String]) -> Result<(), AwsError> {
    for chunk in names.chunks(100) {
        client.pace(Op::DeleteAlarms).await?;
        let result = client
            .delete_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                AwsError::from_sdk(
                    "deleting alarms",
                    "alarms",
                    &chunk.join(","),
                    e,
                    &["ResourceNotFound"],
                )
            });
        super::error::ignore_not_found(result)?;
    }
    Ok(())
}

/// The tags on an alarm.
///
/// # Errors
/// [`AwsError::NotFound`] when the alarm does not exist; API errors.
pub async fn list_tags(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    client.pace(Op::ListAlarmTags).await?;
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "reading tags",
                "alarm",
                arn,
                e,
                &["ResourceNotFoundException"],
            )
        })?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
        .collect())
}

/// Makes an alarm's tags exactly `want`, given `have`: at most one call each to add and
/// to remove.
///
/// # Errors
/// API errors.
pub async fn sync_tags(
    client: &Client,
    arn: &str,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> Result<(), AwsError> {
    let super::TagChanges { remove, set } = super::tag_changes(have, want);
    let set: Vec<t::Tag> = set
        .iter()
        .map(|(k, v)| t::Tag::builder().key(k).value(v).build())
        .collect();
    if !remove.is_empty() {
        client.pace(Op::TagAlarm).await?;
        client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("removing tags", "alarm", arn, e, &[]))?;
    }
    if !set.is_empty() {
        client.pace(Op::TagAlarm).await?;
        client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("tagging", "alarm", arn, e, &[]))?;
    }
    Ok(())
}
