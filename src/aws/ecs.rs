//! ECS: only what scaling needs: whether a service exists, whether its cluster publishes
//! Container Insights metrics.

use super::error::AwsError;
use super::limit::{Op, Paced};

/// ECS, paced under the account's quotas.
pub type Client = Paced<aws_sdk_ecs::Client>;

/// Checks that `service` exists and is active in `cluster`.
///
/// # Errors
/// [`AwsError::NotFound`] naming the service (or the cluster) when ECS does not have it,
/// or has it only as INACTIVE (deleted); API errors.
pub async fn find_service(client: &Client, cluster: &str, service: &str) -> Result<(), AwsError> {
    let id = format!("{service:?} in cluster {cluster:?}");
    client.pace(Op::DescribeServices).await?;
    let out = client
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "reading ECS service",
                "ECS service",
                &id,
                e,
                &["ClusterNotFoundException"],
            )
        })?;
    let active = out
        .services()
        .iter()
        .any(|s| s.service_name() == Some(service) && s.status() != Some("INACTIVE"));
    if active {
        Ok(())
    } else {
        Err(AwsError::NotFound {
            what: "ECS service",
            id,
        })
    }
}

/// The cluster's `containerInsights` setting (`enabled`, `enhanced`, `disabled`), or
/// `None` when ECS reports none.
///
/// # Errors
/// [`AwsError::NotFound`] when the cluster does not exist; API errors.
pub async fn container_insights(
    client: &Client,
    cluster: &str,
) -> Result<Option<String>, AwsError> {
    client.pace(Op::DescribeClusters).await?;
    let out = client
        .describe_clusters()
        .clusters(cluster)
        .include(aws_sdk_ecs::types::ClusterField::Settings)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "reading ECS cluster settings",
                "ECS cluster",
                cluster,
                e,
                &["ClusterNotFoundException"],
            )
        })?;
    let found = out
        .clusters()
        .iter()
        .find(|c| c.cluster_name() == Some(cluster))
        .ok_or_else(|| AwsError::NotFound {
            what: "ECS cluster",
            id: cluster.to_owned(),
        })?;
    Ok(found
        .settings()
        .iter()
        .find(|s| s.name().map(|n| n.as_str()) == Some("containerInsights"))
        .and_then(|s| s.value().map(str::to_owned)))
}
