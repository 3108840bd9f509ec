//! SQS: only what scaling needs, whether a queue exists.

use super::error::AwsError;
use super::limit::{Op, Paced};

/// SQS, paced under the account's quotas.
pub type Client = Paced<aws_sdk_sqs::Client>;

/// Checks that the queue `name` exists (one GetQueueUrl call).
///
/// # Errors
/// [`AwsError::NotFound`] when it does not; API errors.
pub async fn find_queue(client: &Client, name: &str) -> Result<(), AwsError> {
    client.pace(Op::GetQueueUrl).await?;
    client
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
    Ok(())
}
