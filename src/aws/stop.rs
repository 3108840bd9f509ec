//! Ending AWS calls when Terraform asks the provider to stop: the HTTP client and the
//! sleeps every SDK client of the provider is built with watch one stop token.
//!
//! Once the token is cancelled, a request in flight is dropped (its connection closes),
//! no new request is sent, and back-off waits between attempts end at once — so every
//! AWS call made anywhere in the provider fails within moments with [`StoppedCall`] in
//! its error chain ([`super::AwsError::from_sdk`] turns that into
//! [`super::AwsError::Stopped`]). The SDK does not retry it: errors of the `User` kind are
//! not transient to its retry classifiers.
//!
//! The HTTP stack itself is the SDK's default one (hyper 1 with rustls on aws-lc, proxy
//! settings from the environment), built as `aws-smithy-runtime` builds it; this module
//! only wraps it.

use std::time::Duration;

use aws_smithy_async::rt::sleep::{AsyncSleep, SharedAsyncSleep, Sleep};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio_util::sync::CancellationToken;

/// The error a request ends with when the provider was asked to stop before or while it
/// was sent.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("not sent or not finished: Terraform asked the provider to stop")]
pub struct StoppedCall;

/// The SDK's default HTTP client, wrapped so that requests end when `stop` is cancelled.
pub fn http_client(stop: CancellationToken) -> SharedHttpClient {
    SharedHttpClient::new(StoppableClient {
        inner: default_https_client(),
        stop,
    })
}

/// A sleep that ends early when `stop` is cancelled (for the SDK's back-off and timeouts:
/// after a stop, nothing is worth waiting for).
pub fn sleep(stop: CancellationToken) -> SharedAsyncSleep {
    SharedAsyncSleep::new(StoppableSleep { stop })
}

/// What `aws-smithy-runtime` builds when no HTTP client is given (its
/// `default_https_client`, for the behaviour version this provider uses).
fn default_https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut b =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        b.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    })
}

#[derive(Debug)]
struct StoppableClient {
    inner: SharedHttpClient,
    stop: CancellationToken,
}

impl HttpClient for StoppableClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(StoppableConnector {
            inner: self.inner.http_connector(settings, components),
            stop: self.stop.clone(),
        })
    }
}

#[derive(Debug)]
struct StoppableConnector {
    inner: SharedHttpConnector,
    stop: CancellationToken,
}

fn stopped() -> ConnectorError {
    ConnectorError::user(Box::new(StoppedCall))
}

impl HttpConnector for StoppableConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        if self.stop.is_cancelled() {
            return HttpConnectorFuture::ready(Err(stopped()));
        }
        let sent = self.inner.call(request);
        let stop = self.stop.clone();
        HttpConnectorFuture::new(async move {
            tokio::select! {
                biased;
                () = stop.cancelled() => Err(stopped()),
                r = sent => r,
            }
        })
    }
}

#[derive(Debug)]
struct StoppableSleep {
    stop: CancellationToken,
}

impl AsyncSleep for StoppableSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        let stop = self.stop.clone();
        Sleep::new(async move {
            tokio::select! {
                () = stop.cancelled_owned() => {}
                () = tokio::time::sleep(duration) => {}
            }
        })
    }
}
