//! Logs every AWS call attempt — service, operation, attempt number, duration and HTTP
//! status (with the error type when the protocol names it in a header) — as an SDK
//! interceptor on every client. Never logs request or response bodies, headers that carry
//! credentials, or anything else a caller sent.
//!
//! Successful attempts are logged at debug; failed ones (status ≥ 400 or no response) at
//! warn, because the SDK retries throttling and transient errors quietly otherwise.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The interceptor; add it to every client's configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallLog;

/// When the current attempt started.
#[derive(Debug, Clone)]
struct AttemptStarted(Instant);

impl Storable for AttemptStarted {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "queuescale::aws::log::CallLog"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(AttemptStarted(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("unknown", "unknown"), |m| (m.service(), m.name()));
        let attempt = cfg
            .load::<RequestAttempts>()
            .map_or(1, RequestAttempts::attempts);
        let millis = cfg
            .load::<AttemptStarted>()
            .map_or(0, |s| s.0.elapsed().as_millis());
        let response = context.response();
        let status = response.map(|r| r.status().as_u16());
        let error_type = response
            .and_then(|r| r.headers().get("x-amzn-errortype"))
            .map(|t| t.split(':').next().unwrap_or(t).to_owned());
        match status {
            Some(s) if s < 400 => {
                tracing::debug!(service, operation, attempt, millis, status = s, "AWS call");
            }
            Some(s) => tracing::warn!(
                service,
                operation,
                attempt,
                millis,
                status = s,
                error_type = error_type.as_deref().unwrap_or(""),
                "AWS call failed"
            ),
            None => tracing::warn!(
                service,
                operation,
                attempt,
                millis,
                "AWS call got no response (connection failed or timed out)"
            ),
        }
        Ok(())
    }
}
