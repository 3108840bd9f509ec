//! One error type for every AWS call, with "not found" mapped at the lowest level.

use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::stop::StoppedCall;
use crate::provider::client::error_chain;

/// A failed AWS operation, phrased as "verb thing (id): cause".
#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    /// The object does not exist (AWS said so, or a finder found nothing).
    #[error("{what} ({id}) not found")]
    NotFound {
        /// What was looked for, e.g. "scalable target".
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// AWS refused or failed the call.
    #[error("{action} ({id}): {message}")]
    Api {
        /// What was being done, e.g. "registering scalable target".
        action: &'static str,
        /// The id it was done to.
        id: String,
        /// AWS's error code, when there is one.
        code: Option<String>,
        /// AWS's message (or the transport error).
        message: String,
    },
    /// A named retry ran out of time.
    #[error("{action} ({id}): still failing after {waited:?} of retrying ({retry}): {last}")]
    Timeout {
        /// What was being done.
        action: &'static str,
        /// The id.
        id: String,
        /// Which retry gave up.
        retry: &'static str,
        /// How long it tried.
        waited: Duration,
        /// The last error.
        last: String,
    },
    /// Terraform asked the provider to stop before or while the operation ran.
    #[error("{action} ({id}): stopped because Terraform asked the provider to stop")]
    Stopped {
        /// What was being done.
        action: &'static str,
        /// The id.
        id: String,
    },
}

impl AwsError {
    /// Wraps an SDK error; the listed `not_found` codes become [`AwsError::NotFound`].
    pub fn from_sdk<E, R>(
        action: &'static str,
        what: &'static str,
        id: &str,
        err: SdkError<E, R>,
        not_found: &[&str],
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        if was_stopped(&err) {
            return AwsError::Stopped {
                action,
                id: id.to_owned(),
            };
        }
        let code = err.code().map(str::to_owned);
        if code.as_deref().is_some_and(|c| not_found.contains(&c)) {
            return AwsError::NotFound {
                what,
                id: id.to_owned(),
            };
        }
        let message = match (&err, err.message()) {
            (SdkError::ServiceError(_), Some(m)) => match &code {
                Some(c) => format!("{c}: {m}"),
                None => m.to_owned(),
            },
            _ => error_chain(&err),
        };
        AwsError::Api {
            action,
            id: id.to_owned(),
            code,
            message,
        }
    }

    /// Whether this is [`AwsError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    /// AWS's error code, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// AWS's message text, if any.
    pub fn message(&self) -> &str {
        match self {
            AwsError::Api { message, .. } | AwsError::Timeout { last: message, .. } => message,
            _ => "",
        }
    }
}

/// Whether [`StoppedCall`] is among the causes of `err`: the call ended because Terraform
/// asked the provider to stop.
fn was_stopped(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.is::<StoppedCall>() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Turns "not found" into success (for deletes: gone is what was wanted).
///
/// # Errors
/// Any other error.
pub fn ignore_not_found(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// Turns "not found" into `None` (for reads: gone is an answer).
///
/// # Errors
/// Any other error.
pub fn optional<T>(r: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}
