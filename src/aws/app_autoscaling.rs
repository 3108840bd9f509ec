//! Application Auto Scaling for ECS services: finders and idempotent writers for scalable
//! targets, scaling policies and their tags, speaking the domain model of
//! `scaling::model`.
//!
//! Every call names its action and id in errors; AWS "not found" becomes
//! [`AwsError::NotFound`] here and nowhere else.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_applicationautoscaling::types as t;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;
use super::limit::{Op, Paced, has_next_token};
use super::retry::{self, with_retries};
use crate::scaling::model::{
    ECS_DESIRED_COUNT, Metric, MetricQuery, MetricStat, Policy, PolicyKind, QuerySource,
    StepPolicy, Suspension, Target, TargetTrackingPolicy, parse_service_resource_id,
};
use crate::scaling::steps::{AdjustmentType, AggregationType, StepAdjustment};

/// Application Auto Scaling, paced under the account's quotas.
pub type Client = Paced<aws_sdk_applicationautoscaling::Client>;

const NOT_FOUND: &[&str] = &["ObjectNotFoundException"];

fn dimension() -> t::ScalableDimension {
    t::ScalableDimension::from(ECS_DESIRED_COUNT)
}

fn build_err(action: &'static str, id: &str, e: impl std::fmt::Display) -> AwsError {
    AwsError::Api {
        action,
        id: id.to_owned(),
        code: None,
        message: format!("invalid request: {e}"),
    }
}

/// A scalable target as AWS holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedTarget {
    /// Its configuration.
    pub target: Target,
    /// `ScalableTargetARN`.
    pub arn: String,
}

/// Finds the ECS service's scalable target.
///
/// # Errors
/// [`AwsError::NotFound`] when the service is not registered; API errors.
pub async fn find_scalable_target(
    client: &Client,
    resource_id: &str,
) -> Result<ObservedTarget, AwsError> {
    let action = "reading scalable target";
    client.pace(Op::DescribeScalableTargets).await?;
    let out = client
        .describe_scalable_targets()
        .service_namespace(t::ServiceNamespace::Ecs)
        .scalable_dimension(dimension())
        .resource_ids(resource_id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(action, "scalable target", resource_id, e, NOT_FOUND))?;
    let found = out
        .scalable_targets()
        .iter()
        .find(|s| s.resource_id() == resource_id)
        .ok_or_else(|| AwsError::NotFound {
            what: "scalable target",
            id: resource_id.to_owned(),
        })?;
    let s = found.suspended_state();
    Ok(ObservedTarget {
        target: Target {
            resource_id: resource_id.to_owned(),
            min_capacity: found.min_capacity(),
            max_capacity: found.max_capacity(),
            suspension: Suspension {
                dynamic_in: s
                    .and_then(t::SuspendedState::dynamic_scaling_in_suspended)
                    .unwrap_or(false),
                dynamic_out: s
                    .and_then(t::SuspendedState::dynamic_scaling_out_suspended)
                    .unwrap_or(false),
                scheduled: s
                    .and_then(t::SuspendedState::scheduled_scaling_suspended)
                    .unwrap_or(false),
            },
        },
        arn: found.scalable_target_arn().unwrap_or_default().to_owned(),
    })
}

/// Registers (or updates: the call is an upsert) a scalable target; `tags` apply only
/// when it is created. When AAS says the ECS service does not exist, ECS is asked once:
/// a service ECS does not have fails at once ([`AwsError::NotFound`] naming it); one
/// that ECS has is waited for (it was just created), as are IAM permissions propagating.
///
/// # Errors
/// [`AwsError::NotFound`] for a missing service, API errors, [`AwsError::Timeout`],
/// [`AwsError::Stopped`].
pub async fn register_scalable_target(
    client: &Client,
    ecs: &super::ecs::Client,
    stop: &CancellationToken,
    target: &Target,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let action = "registering scalable target";
    let id = target.resource_id.as_str();
    let checked_ecs = std::sync::atomic::AtomicBool::new(false);
    with_retries(
        &[retry::ECS_SERVICE_VISIBLE, retry::ROLE_PROPAGATION],
        stop,
        action,
        id,
        || async {
            let s = &target.suspension;
            client.pace(Op::RegisterScalableTarget).await?;
            let mut req = client
                .register_scalable_target()
                .service_namespace(t::ServiceNamespace::Ecs)
                .scalable_dimension(dimension())
                .resource_id(id)
                .min_capacity(target.min_capacity)
                .max_capacity(target.max_capacity)
                .suspended_state(
                    t::SuspendedState::builder()
                        .dynamic_scaling_in_suspended(s.dynamic_in)
                        .dynamic_scaling_out_suspended(s.dynamic_out)
                        .scheduled_scaling_suspended(s.scheduled)
                        .build(),
                );
            for (k, v) in tags {
                req = req.tags(k, v);
            }
            match req.send().await {
                Ok(out) => Ok(out.scalable_target_arn().unwrap_or_default().to_owned()),
                Err(e) => {
                    let err = AwsError::from_sdk(action, "scalable target", id, e, &[]);
                    if (retry::ECS_SERVICE_VISIBLE.matches)(&err)
                        && !checked_ecs.swap(true, std::sync::atomic::Ordering::SeqCst)
                        && let Some((cluster, service)) = parse_service_resource_id(id)
                    {
                        super::ecs::find_service(ecs, cluster, service).await?;
                    }
                    Err(err)
                }
            }
        },
    )
    .await
}

/// Deregisters a scalable target (AWS also deletes its policies).
///
/// # Errors
/// [`AwsError::NotFound`] when it is not registered; API errors.
pub async fn deregister_scalable_target(
    client: &Client,
    resource_id: &str,
) -> Result<(), AwsError> {
    client.pace(Op::DeregisterScalableTarget).await?;
    client
        .deregister_scalable_target()
        .service_namespace(t::ServiceNamespace::Ecs)
        .scalable_dimension(dimension())
        .resource_id(resource_id)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "deregistering scalable target",
                "scalable target",
                resource_id,
                e,
                NOT_FOUND,
            )
        })?;
    Ok(())
}

/// A scaling policy as AWS holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPolicy {
    /// Its configuration.
    pub policy: Policy,
    /// `PolicyARN`.
    pub arn: String,
    /// Names of the alarms tied to it (AAS-managed ones for target tracking).
    pub alarm_names: Vec<String>,
}

/// Finds the named policies of one target (one call per 10 names). Policies that do not
/// exist are simply absent from the answer.
///
/// # Errors
/// API errors.
pub async fn find_scaling_policies(
    client: &Client,
    resource_id: &str,
    names: &[String],
) -> Result<Vec<ObservedPolicy>, AwsError> {
    let action = "reading scaling policies";
    let mut found = Vec::new();
    for chunk in names.chunks(10) {
        let pages = client
            .describe_scaling_policies()
            .service_namespace(t::ServiceNamespace::Ecs)
            .scalable_dimension(dimension())
            .resource_id(resource_id)
            .set_policy_names(Some(chunk.to_vec()))
            .into_paginator()
            .send();
        client
            .for_each_page(
                Op::DescribeScalingPolicies,
                pages,
                |out| has_next_token(out.next_token()),
                |e| AwsError::from_sdk(action, "scaling policies", resource_id, e, NOT_FOUND),
                |out| {
                    found.extend(
                        out.scaling_policies()
                            .iter()
                            .filter(|p| {
                                chunk.iter().any(|n| n == p.policy_name())
                                    && p.resource_id() == resource_id
                            })
                            .map(observed_policy),
                    );
                },
            )
            .await?;
    }
    Ok(found)
}

/// All policies of a target (used to look for conflicting policies).
///
/// # Errors
/// API errors.
pub async fn list_scaling_policies(
    client: &Client,
    resource_id: &str,
) -> Result<Vec<ObservedPolicy>, AwsError> {
    let action = "listing scaling policies";
    let mut found = Vec::new();
    let pages = client
        .describe_scaling_policies()
        .service_namespace(t::ServiceNamespace::Ecs)
        .scalable_dimension(dimension())
        .resource_id(resource_id)
        .into_paginator()
        .send();
    client
        .for_each_page(
            Op::DescribeScalingPolicies,
            pages,
            |out| has_next_token(out.next_token()),
            |e| AwsError::from_sdk(action, "scaling policies", resource_id, e, NOT_FOUND),
            |out| {
                found.extend(
                    out.scaling_policies()
                        .iter()
                        .filter(|p| p.resource_id() == resource_id)
                        .map(observed_policy),
                );
            },
        )
        .await?;
    Ok(found)
}

fn observed_policy(p: &t::ScalingPolicy) -> ObservedPolicy {
    let kind = if let Some(tt) = p.target_tracking_scaling_policy_configuration() {
        PolicyKind::TargetTracking(TargetTrackingPolicy {
            target_value: tt.target_value(),
            metrics: tt
                .customized_metric_specification()
                .map(|c| c.metrics().iter().map(query_from_aws).collect())
                .unwrap_or_default(),
            scale_out_cooldown: tt.scale_out_cooldown(),
            scale_in_cooldown: tt.scale_in_cooldown(),
            disable_scale_in: tt.disable_scale_in().unwrap_or(false),
        })
    } else {
        let step = p.step_scaling_policy_configuration();
        PolicyKind::Step(StepPolicy {
            adjustment_type: step
                .and_then(|s| s.adjustment_type())
                .and_then(|a| AdjustmentType::from_aws_str(a.as_str()))
                .unwrap_or_default(),
            cooldown: step.and_then(t::StepScalingPolicyConfiguration::cooldown),
            aggregation: step
                .and_then(|s| s.metric_aggregation_type())
                .and_then(|a| match a.as_str() {
                    "Minimum" => Some(AggregationType::Minimum),
                    "Maximum" => Some(AggregationType::Maximum),
                    "Average" => Some(AggregationType::Average),
                    _ => None,
                }),
            min_adjustment_magnitude: step
                .and_then(t::StepScalingPolicyConfiguration::min_adjustment_magnitude),
            steps: step
                .map(|s| {
                    s.step_adjustments()
                        .iter()
                        .map(|a| StepAdjustment {
                            lower_bound: a.metric_interval_lower_bound(),
                            upper_bound: a.metric_interval_upper_bound(),
                            scaling_adjustment: a.scaling_adjustment(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    };
    ObservedPolicy {
        policy: Policy {
            name: p.policy_name().to_owned(),
            resource_id: p.resource_id().to_owned(),
            kind,
        },
        arn: p.policy_arn().to_owned(),
        alarm_names: p
            .alarms()
            .iter()
            .map(|a| a.alarm_name().to_owned())
            .collect(),
    }
}

fn query_from_aws(q: &t::TargetTrackingMetricDataQuery) -> MetricQuery {
    let source = match (q.expression(), q.metric_stat()) {
        (Some(e), _) => QuerySource::Expression(e.to_owned()),
        (None, Some(ms)) => QuerySource::Metric(MetricStat {
            metric: Metric {
                namespace: ms
                    .metric()
                    .and_then(|m| m.namespace())
                    .unwrap_or_default()
                    .to_owned(),
                name: ms
                    .metric()
                    .and_then(|m| m.metric_name())
                    .unwrap_or_default()
                    .to_owned(),
                dimensions: ms
                    .metric()
                    .map(|m| {
                        m.dimensions()
                            .iter()
                            .map(|d| (d.name().to_owned(), d.value().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            stat: ms.stat().to_owned(),
            period: None,
            unit: ms.unit().map(str::to_owned),
        }),
        (None, None) => QuerySource::Expression(String::new()),
    };
    MetricQuery {
        id: q.id().to_owned(),
        label: q.label().map(str::to_owned),
        return_data: q.return_data().unwrap_or(false),
        source,
    }
}

fn query_to_aws(
    q: &MetricQuery,
    policy: &str,
) -> Result<t::TargetTrackingMetricDataQuery, AwsError> {
    let action = "putting scaling policy";
    let mut b = t::TargetTrackingMetricDataQuery::builder()
        .id(&q.id)
        .set_label(q.label.clone())
        .return_data(q.return_data);
    match &q.source {
        QuerySource::Expression(e) => b = b.expression(e),
        QuerySource::Metric(ms) => {
            let mut metric = t::TargetTrackingMetric::builder()
                .namespace(&ms.metric.namespace)
                .metric_name(&ms.metric.name);
            for (k, v) in &ms.metric.dimensions {
                metric = metric.dimensions(
                    t::TargetTrackingMetricDimension::builder()
                        .name(k)
                        .value(v)
                        .build()
                        .map_err(|e| build_err(action, policy, e))?,
                );
            }
            b = b.metric_stat(
                t::TargetTrackingMetricStat::builder()
                    .metric(metric.build())
                    .stat(&ms.stat)
                    .set_unit(ms.unit.clone())
                    .build()
                    .map_err(|e| build_err(action, policy, e))?,
            );
        }
    }
    b.build().map_err(|e| build_err(action, policy, e))
}

/// What putting a policy of `kind` costs: a target-tracking policy also writes alarms.
fn put_op(kind: &PolicyKind) -> Op {
    match kind {
        PolicyKind::Step(_) => Op::PutStepScalingPolicy,
        PolicyKind::TargetTracking(_) => Op::PutTargetTrackingPolicy,
    }
}

/// Puts a scaling policy (an upsert by name). Waits out a target not yet visible and IAM
/// propagation.
///
/// # Errors
/// [`AwsError::NotFound`] never: a missing target is retried, then reported as a timeout
/// or an API error.
pub async fn put_scaling_policy(
    client: &Client,
    stop: &CancellationToken,
    policy: &Policy,
) -> Result<ObservedPolicy, AwsError> {
    let action = "putting scaling policy";
    let name = policy.name.as_str();
    with_retries(
        &[retry::TARGET_VISIBLE, retry::ROLE_PROPAGATION],
        stop,
        action,
        name,
        || async {
            let mut req = client
                .put_scaling_policy()
                .policy_name(name)
                .service_namespace(t::ServiceNamespace::Ecs)
                .scalable_dimension(dimension())
                .resource_id(&policy.resource_id);
            match &policy.kind {
                PolicyKind::Step(s) => {
                    let mut cfg = t::StepScalingPolicyConfiguration::builder()
                        .adjustment_type(t::AdjustmentType::from(s.adjustment_type.as_aws_str()))
                        .set_cooldown(s.cooldown)
                        .set_min_adjustment_magnitude(s.min_adjustment_magnitude)
                        .set_metric_aggregation_type(
                            s.aggregation
                                .map(|a| t::MetricAggregationType::from(a.as_aws_str())),
                        );
                    for a in &s.steps {
                        cfg = cfg.step_adjustments(
                            t::StepAdjustment::builder()
                                .set_metric_interval_lower_bound(a.lower_bound)
                                .set_metric_interval_upper_bound(a.upper_bound)
                                .scaling_adjustment(a.scaling_adjustment)
                                .build()
                                .map_err(|e| build_err(action, name, e))?,
                        );
                    }
                    req = req
                        .policy_type(t::PolicyType::StepScaling)
                        .step_scaling_policy_configuration(cfg.build());
                }
                PolicyKind::TargetTracking(tt) => {
                    let metrics = tt
                        .metrics
                        .iter()
                        .map(|q| query_to_aws(q, name))
                        .collect::<Result<Vec<_>, _>>()?;
                    let cfg = t::TargetTrackingScalingPolicyConfiguration::builder()
                        .target_value(tt.target_value)
                        .customized_metric_specification(
                            t::CustomizedMetricSpecification::builder()
                                .set_metrics(Some(metrics))
                                .build(),
                        )
                        .set_scale_out_cooldown(tt.scale_out_cooldown)
                        .set_scale_in_cooldown(tt.scale_in_cooldown)
                        .disable_scale_in(tt.disable_scale_in)
                        .build()
                        .map_err(|e| build_err(action, name, e))?;
                    req = req
                        .policy_type(t::PolicyType::TargetTrackingScaling)
                        .target_tracking_scaling_policy_configuration(cfg);
                }
            }
            client.pace(put_op(&policy.kind)).await?;
            let out = req
                .send()
                .await
                // ObjectNotFoundException here means the policy's scalable target does not
                // exist (PutScalingPolicy API reference: "thrown if the scalable target
                // with the specified service namespace, resource ID, and scalable
                // dimension does not exist"), not that the policy is missing.
                .map_err(|e| {
                    AwsError::from_sdk(action, "scalable target", &policy.resource_id, e, NOT_FOUND)
                })?;
            Ok(ObservedPolicy {
                policy: policy.clone(),
                arn: out.policy_arn().to_owned(),
                alarm_names: out
                    .alarms()
                    .iter()
                    .map(|a| a.alarm_name().to_owned())
                    .collect(),
            })
        },
    )
    .await
}

/// Deletes a scaling policy (AWS also deletes the alarms it manages for target tracking).
///
/// # Errors
/// [`AwsError::NotFound`] when it does not exist; API errors.
pub async fn delete_scaling_policy(
    client: &Client,
    resource_id: &str,
    name: &str,
) -> Result<(), AwsError> {
    client.pace(Op::DeleteScalingPolicy).await?;
    client
        .delete_scaling_policy()
        .policy_name(name)
        .service_namespace(t::ServiceNamespace::Ecs)
        .scalable_dimension(dimension())
        .resource_id(resource_id)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "deleting scaling policy",
                "scaling policy",
                name,
                e,
                NOT_FOUND,
            )
        })?;
    Ok(())
}

/// The tags on a scalable target.
///
/// # Errors
/// [`AwsError::NotFound`] for an unknown ARN; API errors.
pub async fn list_tags(client: &Client, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    client.pace(Op::ListScalableTargetTags).await?;
    let out = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "reading tags",
                "scalable target",
                arn,
                e,
                &["ResourceNotFoundException"],
            )
        })?;
    Ok(out
        .tags()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// Makes the target's tags exactly `want` (given what it has now): one call to add or
/// change, one to remove, none when equal.
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
    let set: HashMap<String, String> = set.into_iter().collect();
    if !remove.is_empty() {
        client.pace(Op::TagScalableTarget).await?;
        client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(remove))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("removing tags", "scalable target", arn, e, &[]))?;
    }
    if !set.is_empty() {
        client.pace(Op::TagScalableTarget).await?;
        client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("tagging", "scalable target", arn, e, &[]))?;
    }
    Ok(())
}
