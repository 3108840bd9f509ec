//! Deadlines and named, narrow retries for AWS's eventual consistency: each retry waits
//! out only the errors it names, for at most its own timeout, and gives up at once when
//! Terraform says stop. Throttling and transient network errors are retried by the SDK
//! (adaptive mode), within [`ATTEMPT_TIMEOUT`] per attempt and [`OPERATION_TIMEOUT`] in
//! all.
//!
//! Together these bound every resource operation: each AWS call ends within
//! [`OPERATION_TIMEOUT`], each named retry within its timeout plus one call, and all of
//! them within moments of a stop request (see `stop.rs`).

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::AwsError;

/// Longest wait for a TCP (and TLS) connection to an AWS endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest one attempt of an AWS call may take, from sending the request to the end of
/// the reply. AWS's control-plane calls answer within seconds; an attempt this slow is
/// abandoned and retried by the SDK.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Longest one AWS call may take with all its attempts and the back-off between them
/// (`max_retries` retries are made only as far as this allows). Without it, an endpoint
/// that never answers held an apply for `max_retries + 1` attempt timeouts (11 minutes
/// with the defaults).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(180);

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
/// timeout passes, or `stop` is cancelled (which also ends an attempt in flight; none
/// starts after it). Waits 0.5 s, doubling up to 5 s.
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
    let stopped = || AwsError::Stopped {
        action,
        id: id.to_owned(),
    };
    loop {
        if stop.is_cancelled() {
            return Err(stopped());
        }
        let err = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(stopped()),
            r = op() => match r {
                Ok(v) => return Ok(v),
                Err(e) => e,
            },
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
            () = stop.cancelled() => return Err(stopped()),
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
        let calls = AtomicU32::new(0);
        let cancel = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            cancel.cancel();
        });
        let started = Instant::now();
        let out: Result<(), _> =
            with_retries(&[ROLE_PROPAGATION], &stop, "putting policy", "p", || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(api("FailedResourceAccessException", "not authorized")) }
            })
            .await;
        assert!(matches!(out, Err(AwsError::Stopped { .. })), "{out:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(calls.load(Ordering::SeqCst) >= 2, "it did retry until then");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_request_ends_an_attempt_in_flight() {
        let stop = CancellationToken::new();
        let cancel = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            cancel.cancel();
        });
        let started = Instant::now();
        let out: Result<(), _> =
            with_retries(&[TARGET_VISIBLE], &stop, "putting policy", "p", || {
                std::future::pending()
            })
            .await;
        assert!(matches!(out, Err(AwsError::Stopped { .. })), "{out:?}");
        assert_eq!(started.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn no_attempt_starts_after_a_stop_request() {
        let stop = CancellationToken::new();
        stop.cancel();
        let calls = AtomicU32::new(0);
        let out: Result<(), _> =
            with_retries(&[TARGET_VISIBLE], &stop, "putting policy", "p", || {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Ok(()) }
            })
            .await;
        assert!(matches!(out, Err(AwsError::Stopped { .. })), "{out:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
