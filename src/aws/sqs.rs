//! SQS: only what scaling needs, whether a queue exists.

use aws_sdk_sqs::Client;

use super::error::AwsError;

/// Checks that the queue `name` exists (one GetQueueUrl call).
///
/// # Errors
/// [`AwsError::NotFound`] when it does not; API errors.
pub async fn find_queue(client: &Client, name: &str) -> Result<(), AwsError> {
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
