//! ECS: only what scaling needs, whether a service exists.

use aws_sdk_ecs::Client;

use super::error::AwsError;

/// Checks that `service` exists and is active in `cluster`.
///
/// # Errors
/// [`AwsError::NotFound`] naming the service (or the cluster) when ECS does not have it,
/// or has it only as INACTIVE (deleted); API errors.
pub async fn find_service(client: &Client, cluster: &str, service: &str) -> Result<(), AwsError> {
    let id = format!("{service:?} in cluster {cluster:?}");
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
