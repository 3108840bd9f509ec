//! SQS: only what scaling needs, whether a queue exists and its URL.

use super::error::AwsError;
use super::limit::{Op, Paced};

/// SQS, paced under the account's quotas.
pub type Client = Paced<aws_sdk_sqs::Client>;

/// Checks that the queue `name` exists (one GetQueueUrl call).
///
/// # Errors
/// [`AwsError::NotFound`] when it does not; API errors.
pub async fn find_queue(client: &Client, name: &str) -> Result<(), AwsError> {
    queue_url(client, name).await.map(|_| ())
}

/// The URL of the queue `name` (one GetQueueUrl call).
///
/// # Errors
/// [`AwsError::NotFound`] when it does not exist; API errors.
pub async fn queue_url(client: &Client, name: &str) -> Result<String, AwsError> {
    client.pace(Op::GetQueueUrl).await?;
    let out = client
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "reading SQS queue",
                "SQS queue",
                name,
                e,
                &[
                    "QueueDoesNotExist",
                    "AWS.SimpleQueueService.NonExistentQueue",
                ],
            )
        })?;
    Ok(out.queue_url().unwrap_or_default().to_owned())
}
