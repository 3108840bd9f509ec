//! Named, narrow retries for AWS's eventual consistency: each retries only the errors it
//! names, for at most its own timeout, and gives up at once when Terraform says stop.
//! Throttling and transient network errors are retried by the SDK (adaptive mode).

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;

/// A retry policy for one known eventual-consistency condition.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// What is being waited for, for messages.
    pub name: &'static str,
    /// Longest total wait.
    pub timeout: Duration,
    /// Whether an error is the condition this retry waits out.
    pub matches: fn(&AwsError) -> bool,
}

fn message_says(e: &AwsError, code: &str, needles: &[&str]) -> bool {
    e.code() == Some(code) && needles.iter().any(|n| e.message().contains(n))
}

/// A just-created ECS service is not yet visible to Application Auto Scaling.
pub const ECS_SERVICE_VISIBLE: Retry = Retry {
    name: "ECS service becoming visible to Application Auto Scaling",
    timeout: Duration::from_secs(120),
    matches: |e| {
        message_says(
            e,
            "ValidationException",
            &["doesn't exist", "does not exist"],
        )
    },
};

/// The service-linked role or its permissions are still propagating.
pub const ROLE_PROPAGATION: Retry = Retry {
    name: "IAM permissions propagating",
    timeout: Duration::from_secs(120),
    matches: |e| e.code() == Some("FailedResourceAccessException"),
};

/// A just-registered scalable target is not yet visible to PutScalingPolicy.
pub const TARGET_VISIBLE: Retry = Retry {
    name: "scalable target becoming visible",
    timeout: Duration::from_secs(60),
    matches: |e| e.code() == Some("ObjectNotFoundException") || e.is_not_found(),
};

/// Runs `op` until it succeeds, fails with an error none of `retries` matches, a retry's
/// timeout passes, or `stop` is cancelled. Waits 0.5 s, doubling up to 5 s.
///
/// # Errors
/// The first non-matching error, [`AwsError::Timeout`], or [`AwsError::Stopped`].
pub async fn with_retries<T, F, Fut>(
    retries: &[Retry],
    stop: &CancellationToken,
    action: &'static str,
    id: &str,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        let err = match op().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let Some(retry) = retries.iter().find(|r| (r.matches)(&err)) else {
            return Err(err);
        };
        let waited = started.elapsed();
        if waited + delay > retry.timeout {
            return Err(AwsError::Timeout {
                action,
                id: id.to_owned(),
                retry: retry.name,
                waited,
                last: err.to_string(),
            });
        }
        tracing::debug!(retry = retry.name, action, id, error = %err, "retrying");
        tokio::select! {
            () = stop.cancelled() => return Err(AwsError::Stopped { action, id: id.to_owned() }),
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn api(code: &str, message: &str) -> AwsError {
        AwsError::Api {
            action: "testing",
            id: "x".into(),
            code: Some(code.into()),
            message: message.into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_named_condition_is_retried_until_it_clears() {
        let calls = AtomicU32::new(0);
        let out = with_retries(
            &[ECS_SERVICE_VISIBLE],
            &CancellationToken::new(),
            "registering",
            "x",
            || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        Err(api(
                            "ValidationException",
                            "ECS service doesn't exist: service/c/s",
                        ))
                    } else {
                        Ok(n)
                    }
                }
            },
        )
        .await;
        assert_eq!(out.unwrap(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let out: Result<(), _> = with_retries(
            &[ECS_SERVICE_VISIBLE],
            &CancellationToken::new(),
            "registering",
            "x",
            || {
                calls.fetch_add(1, Ordering::SeqCst);
                async {
                    Err(api(
                        "ValidationException",
                        "Maximum capacity cannot be less than minimum",
                    ))
                }
            },
        )
        .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_retry_gives_up_after_its_timeout_with_the_last_error() {
        let out: Result<(), _> = with_retries(
            &[TARGET_VISIBLE],
            &CancellationToken::new(),
            "putting policy",
            "p",
            || async {
                Err(api(
                    "ObjectNotFoundException",
                    "No scalable target registered",
                ))
            },
        )
        .await;
        match out {
            Err(AwsError::Timeout { retry, last, .. }) => {
                assert_eq!(retry, TARGET_VISIBLE.name);
                assert!(last.contains("No scalable target"));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_request_ends_the_wait() {
        let stop = CancellationToken::new();
        stop.cancel();
        let out: Result<(), _> = with_retries(
            &[ROLE_PROPAGATION],
            &stop,
            "putting policy",
            "p",
            || async { Err(api("FailedResourceAccessException", "not authorized")) },
        )
        .await;
        assert!(matches!(out, Err(AwsError::Stopped { .. })));
    }
}
