//! From [`ProviderConfig`] to AWS clients: credential chain, region, retries, timeouts,
//! endpoint overrides, the optional assumed role, the one credentials check, and the
//! request pacing every client of the process shares.
//!
//! Messages name where credentials came from, never their secret parts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::origin::Origin;
use tokio_util::sync::CancellationToken;

use super::config::{ProviderConfig, mask_access_key};
use super::files::SharedFiles;
use crate::aws::limit::{Limits, Paced};
use crate::aws::log::CallLog;
use crate::aws::{self, app_autoscaling, cloudwatch, ecs, retry, scheduler, sqs};

/// Default retries per request when `max_retries` is not set (11 attempts).
///
/// hashicorp/aws defaults to 25, but its SDK retries at a fixed rate; adaptive retry here
/// also slows the sending side down (a client-side token bucket), and with back-off capped
/// at the SDK's 20 s, 10 retries already wait out minutes of throttling. More would only
/// lengthen a call that is failing for good (each attempt may take up to 60 s).
pub const DEFAULT_MAX_RETRIES: u32 = 10;

/// The configured AWS access every resource uses.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Application Auto Scaling.
    pub aas: app_autoscaling::Client,
    /// CloudWatch.
    pub cloudwatch: cloudwatch::Client,
    /// ECS.
    pub ecs: ecs::Client,
    /// SQS.
    pub sqs: sqs::Client,
    /// EventBridge Scheduler.
    pub scheduler: scheduler::Client,
    /// The region in use.
    pub region: String,
    /// Tags merged into every taggable object.
    pub default_tags: BTreeMap<String, String>,
    /// Cancelled when Terraform asks the provider to stop.
    pub stop: CancellationToken,
    /// Object names claimed by the resources this process plans and applies.
    pub claims: std::sync::Arc<crate::resources::ownership::Claims>,
}

/// Why AWS access could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No region anywhere.
    #[error(
        "no AWS region is configured: set `region` in the provider block, or AWS_REGION, or a \
         region in the profile"
    )]
    NoRegion,
    /// The credential chain found nothing usable.
    #[error("no usable AWS credentials: tried {tried}. Cause: {cause}")]
    NoCredentials {
        /// Which sources were tried.
        tried: String,
        /// What the last source said.
        cause: String,
    },
    /// The credentials check could not reach STS at all (refused, timed out, no route,
    /// name not resolved): nothing is known about the credentials.
    #[error(
        "cannot reach the STS endpoint {endpoint} to check the credentials: {cause}. Check \
         endpoints.sts, AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, the network and any proxy; \
         skip_credentials_validation = true skips this check"
    )]
    Unreachable {
        /// The endpoint the request went to (scheme, host and port).
        endpoint: String,
        /// Why the connection failed.
        cause: String,
    },
    /// STS refused the credentials.
    #[error("AWS rejected the credentials from {source_desc}: {cause}")]
    Rejected {
        /// Where the credentials came from.
        source_desc: String,
        /// STS's answer.
        cause: String,
    },
}

/// Describes the credential sources in the order they are tried, for messages.
fn sources_tried(cfg: &ProviderConfig) -> String {
    let base = if let Some(ak) = &cfg.access_key {
        format!(
            "the access_key {} and secret_key in the provider block",
            mask_access_key(ak)
        )
    } else if let Some(p) = &cfg.profile {
        format!("profile {p:?} from the shared config and credentials files")
    } else {
        "the default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the default \
         profile in the shared files, SSO, web identity, ECS container and EC2 instance \
         metadata)"
            .into()
    };
    match &cfg.assume_role {
        Some(r) => format!("{base}, then assuming role {}", r.role_arn),
        None => base,
    }
}

/// Loads the SDK configuration the provider block describes. Every client made from it
/// (STS for credentials included) sends its requests through an HTTP client and sleeps
/// that end when `stop` is cancelled, and has the deadlines of [`retry`].
async fn load_sdk_config(
    cfg: &ProviderConfig,
    shared: &SharedFiles,
    stop: &CancellationToken,
) -> SdkConfig {
    let retries = cfg.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(aws::stop::http_client(stop.clone()))
        .sleep_impl(aws::stop::sleep(stop.clone()))
        .retry_config(RetryConfig::adaptive().with_max_attempts(retries.saturating_add(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(retry::CONNECT_TIMEOUT)
                .operation_attempt_timeout(retry::ATTEMPT_TIMEOUT)
                .operation_timeout(retry::OPERATION_TIMEOUT)
                .build(),
        );
    if let Ok(app) =
        AppName::new(concat!("queuescale-", env!("CARGO_PKG_VERSION")).replace('.', "_"))
    {
        loader = loader.app_name(app);
    }
    if let Some(r) = &cfg.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(p) = &cfg.profile {
        loader = loader.profile_name(p);
    }
    if !cfg.shared_config_files.is_empty() || !cfg.shared_credentials_files.is_empty() {
        let mut files = EnvConfigFiles::builder()
            .include_default_config_file(cfg.shared_config_files.is_empty())
            .include_default_credentials_file(cfg.shared_credentials_files.is_empty());
        for text in &shared.config {
            files = files.with_contents(EnvConfigFileKind::Config, text.clone());
        }
        for text in &shared.credentials {
            files = files.with_contents(EnvConfigFileKind::Credentials, text.clone());
        }
        loader = loader.profile_files(files.build());
    }
    if let (Some(ak), Some(sk)) = (&cfg.access_key, &cfg.secret_key) {
        loader = loader.credentials_provider(Credentials::new(
            ak.clone(),
            sk.clone(),
            cfg.token.clone(),
            None,
            "provider-block",
        ));
    }
    let mut sdk = loader.load().await;
    if let Some(role) = &cfg.assume_role {
        let mut b = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
            .session_name(
                role.session_name
                    .clone()
                    .unwrap_or_else(|| "terraform-provider-queuescale".into()),
            )
            .configure(&for_sts(&sdk, cfg));
        if let Some(id) = &role.external_id {
            b = b.external_id(id.clone());
        }
        if let Some(d) = role.duration_seconds {
            b = b.session_length(Duration::from_secs(d));
        }
        let provider = b.build().await;
        sdk = sdk
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }
    sdk
}

/// The shared configuration for STS calls (the credentials check and assume role): with
/// `endpoints { sts }` as its endpoint, set programmatically so that it wins over
/// `AWS_ENDPOINT_URL_STS` as the block's other entries win over the environment. The
/// other services never see it: set on the shared configuration they are built from, it
/// would send each one without its own entry to STS.
fn for_sts(sdk: &SdkConfig, cfg: &ProviderConfig) -> SdkConfig {
    let Some(url) = &cfg.endpoints.sts else {
        return sdk.clone();
    };
    let mut b = sdk.to_builder().endpoint_url(url.clone());
    b.insert_origin("endpoint_url", Origin::shared_config());
    b.build()
}

/// Builds the clients and, unless skipped, checks the credentials with one STS
/// GetCallerIdentity call.
///
/// # Errors
/// [`ConnectError`] with a message naming the credential sources tried.
pub async fn connect(
    cfg: &ProviderConfig,
    shared: &SharedFiles,
    stop: CancellationToken,
) -> Result<Clients, ConnectError> {
    let sdk = load_sdk_config(cfg, shared, &stop).await;
    let region = sdk
        .region()
        .map(ToString::to_string)
        .ok_or(ConnectError::NoRegion)?;
    if !cfg.skip_credentials_validation {
        check_credentials(cfg, &sdk).await?;
    }
    let ep = &cfg.endpoints;
    let limits = std::sync::Arc::new(Limits::new(&cfg.rate_limits));
    let aas = {
        let mut b =
            aws_sdk_applicationautoscaling::config::Builder::from(&sdk).interceptor(CallLog);
        if let Some(u) = &ep.applicationautoscaling {
            b = b.endpoint_url(u);
        }
        Paced::new(
            aws_sdk_applicationautoscaling::Client::from_conf(b.build()),
            limits.clone(),
            stop.clone(),
        )
    };
    let cloudwatch = {
        let mut b = aws_sdk_cloudwatch::config::Builder::from(&sdk).interceptor(CallLog);
        if let Some(u) = &ep.cloudwatch {
            b = b.endpoint_url(u);
        }
        Paced::new(
            aws_sdk_cloudwatch::Client::from_conf(b.build()),
            limits.clone(),
            stop.clone(),
        )
    };
    let ecs = {
        let mut b = aws_sdk_ecs::config::Builder::from(&sdk).interceptor(CallLog);
        if let Some(u) = &ep.ecs {
            b = b.endpoint_url(u);
        }
        Paced::new(
            aws_sdk_ecs::Client::from_conf(b.build()),
            limits.clone(),
            stop.clone(),
        )
    };
    let sqs = {
        let mut b = aws_sdk_sqs::config::Builder::from(&sdk).interceptor(CallLog);
        if let Some(u) = &ep.sqs {
            b = b.endpoint_url(u);
        }
        Paced::new(
            aws_sdk_sqs::Client::from_conf(b.build()),
            limits.clone(),
            stop.clone(),
        )
    };
    let scheduler = {
        let mut b = aws_sdk_scheduler::config::Builder::from(&sdk).interceptor(CallLog);
        if let Some(u) = &ep.scheduler {
            b = b.endpoint_url(u);
        }
        Paced::new(
            aws_sdk_scheduler::Client::from_conf(b.build()),
            limits.clone(),
            stop.clone(),
        )
    };
    Ok(Clients {
        aas,
        cloudwatch,
        ecs,
        sqs,
        scheduler,
        region,
        default_tags: cfg.default_tags.clone(),
        stop,
        claims: std::sync::Arc::default(),
    })
}

async fn check_credentials(cfg: &ProviderConfig, sdk: &SdkConfig) -> Result<(), ConnectError> {
    let tried = sources_tried(cfg);
    let Some(provider) = sdk.credentials_provider() else {
        return Err(ConnectError::NoCredentials {
            tried,
            cause: "no credential provider".into(),
        });
    };
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| ConnectError::NoCredentials {
            tried: tried.clone(),
            cause: error_chain(&e),
        })?;
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(&for_sts(sdk, cfg))
            .interceptor(CallLog)
            .build(),
    );
    let endpoint = RecordEndpoint::default();
    let answer = sts
        .get_caller_identity()
        .customize()
        .interceptor(endpoint.clone())
        .send()
        .await;
    match answer {
        Ok(who) => {
            tracing::info!(
                account = who.account().unwrap_or_default(),
                arn = who.arn().unwrap_or_default(),
                "credentials accepted"
            );
            Ok(())
        }
        Err(e @ (SdkError::DispatchFailure(_) | SdkError::TimeoutError(_))) => {
            Err(ConnectError::Unreachable {
                endpoint: endpoint
                    .get()
                    .unwrap_or_else(|| "(not resolved)".to_owned()),
                cause: error_chain(&e),
            })
        }
        Err(e) => Err(ConnectError::Rejected {
            source_desc: format!(
                "{tried} (access key {})",
                mask_access_key(creds.access_key_id())
            ),
            cause: error_chain(&e),
        }),
    }
}

/// Remembers where a request was sent (scheme, host and port; no path or query), so a
/// connection failure can name the endpoint it could not reach.
#[derive(Debug, Clone, Default)]
struct RecordEndpoint(Arc<Mutex<Option<String>>>);

impl RecordEndpoint {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
}

impl Intercept for RecordEndpoint {
    fn name(&self) -> &'static str {
        "RecordEndpoint"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(endpoint_of(context.request().uri()));
        }
        Ok(())
    }
}

/// `scheme://host:port` of a request URI.
fn endpoint_of(uri: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("", uri));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if scheme.is_empty() {
        authority.to_owned()
    } else {
        format!("{scheme}://{authority}")
    }
}

/// An error with its causes, `: `-separated, for messages.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::AwsError;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;
    use tokio::sync::Notify;

    /// An endpoint that reads requests and never answers: counts the requests it got and
    /// the connections their senders closed.
    struct Silent {
        url: String,
        requests: Arc<AtomicUsize>,
        closed: Arc<AtomicUsize>,
        changed: Arc<Notify>,
    }

    async fn silent_endpoint() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let changed = Arc::new(Notify::new());
        let (r, c, n) = (requests.clone(), closed.clone(), changed.clone());
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let (r, c, n) = (r.clone(), c.clone(), n.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let mut counted = false;
                    loop {
                        match tcp.read(&mut buf).await {
                            Ok(0) | Err(_) => {
                                c.fetch_add(1, Ordering::SeqCst);
                                n.notify_waiters();
                                return;
                            }
                            Ok(_) if !counted => {
                                counted = true;
                                r.fetch_add(1, Ordering::SeqCst);
                                n.notify_waiters();
                            }
                            Ok(_) => {}
                        }
                    }
                });
            }
        });
        Silent {
            url,
            requests,
            closed,
            changed,
        }
    }

    impl Silent {
        async fn wait_for(&self, what: &AtomicUsize, n: usize) {
            let waited = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    let notified = self.changed.notified();
                    if what.load(Ordering::SeqCst) >= n {
                        return;
                    }
                    notified.await;
                }
            });
            waited.await.expect("the endpoint saw it within 10 s");
        }
    }

    fn config(url: &str) -> ProviderConfig {
        ProviderConfig {
            region: Some("us-east-1".into()),
            access_key: Some("AKIDSTOPTEST".into()),
            secret_key: Some("secret".into()),
            skip_credentials_validation: true,
            endpoints: super::super::config::Endpoints {
                cloudwatch: Some(url.to_owned()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_stop_request_ends_a_call_in_flight_and_no_request_is_sent_after_it() {
        let endpoint = silent_endpoint().await;
        let stop = CancellationToken::new();
        let clients = connect(
            &config(&endpoint.url),
            &SharedFiles::default(),
            stop.clone(),
        )
        .await
        .expect("clients");
        let cw = clients.cloudwatch.clone();
        let call = tokio::spawn(async move {
            crate::aws::cloudwatch::find_alarms_by_names(&cw, &["a".to_owned()]).await
        });
        endpoint.wait_for(&endpoint.requests, 1).await;
        let stopped_at = Instant::now();
        stop.cancel();
        let out = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the call ends within 5 s of the stop request")
            .expect("the call does not panic");
        assert!(stopped_at.elapsed() < Duration::from_secs(1));
        match out {
            Err(AwsError::Stopped { .. }) => {}
            other => panic!("expected AwsError::Stopped, got {other:?}"),
        }
        // The abandoned request's connection is closed, so the endpoint can tell.
        endpoint.wait_for(&endpoint.closed, 1).await;

        let again =
            crate::aws::cloudwatch::find_alarms_by_names(&clients.cloudwatch, &["b".to_owned()])
                .await;
        assert!(matches!(again, Err(AwsError::Stopped { .. })), "{again:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            endpoint.requests.load(Ordering::SeqCst),
            1,
            "nothing sent after the stop request"
        );
    }

    #[tokio::test]
    async fn calls_are_unaffected_until_a_stop_request() {
        let endpoint = silent_endpoint().await;
        let stop = CancellationToken::new();
        let clients = connect(
            &config(&endpoint.url),
            &SharedFiles::default(),
            stop.clone(),
        )
        .await
        .expect("clients");
        let cw = clients.cloudwatch.clone();
        let call = tokio::spawn(async move {
            crate::aws::cloudwatch::find_alarms_by_names(&cw, &["a".to_owned()]).await
        });
        endpoint.wait_for(&endpoint.requests, 1).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!call.is_finished(), "a slow reply is waited for");
        assert_eq!(endpoint.closed.load(Ordering::SeqCst), 0);
        call.abort();
    }

    #[tokio::test]
    async fn every_client_has_an_overall_deadline_per_call() {
        let clients = connect(
            &config("http://127.0.0.1:9"),
            &SharedFiles::default(),
            CancellationToken::new(),
        )
        .await
        .expect("clients");
        let timeouts = [
            clients.aas.config().timeout_config().cloned(),
            clients.cloudwatch.config().timeout_config().cloned(),
            clients.ecs.config().timeout_config().cloned(),
            clients.sqs.config().timeout_config().cloned(),
        ];
        for t in timeouts {
            let t = t.expect("a timeout configuration");
            assert_eq!(t.operation_timeout(), Some(retry::OPERATION_TIMEOUT));
            assert_eq!(t.operation_attempt_timeout(), Some(retry::ATTEMPT_TIMEOUT));
            assert_eq!(t.connect_timeout(), Some(retry::CONNECT_TIMEOUT));
        }
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::*;

    #[test]
    fn the_endpoint_is_scheme_host_and_port_only() {
        assert_eq!(
            endpoint_of("https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity"),
            "https://sts.eu-west-1.amazonaws.com"
        );
        assert_eq!(endpoint_of("http://127.0.0.1:9/"), "http://127.0.0.1:9");
        assert_eq!(endpoint_of("http://[::1]:4566"), "http://[::1]:4566");
    }

    #[test]
    fn unreachable_says_so_and_names_the_endpoint() {
        let text = ConnectError::Unreachable {
            endpoint: "http://127.0.0.1:9".into(),
            cause: "dispatch failure: Connection refused".into(),
        }
        .to_string();
        assert!(
            text.starts_with("cannot reach the STS endpoint http://127.0.0.1:9"),
            "{text}"
        );
        assert!(!text.contains("rejected"), "{text}");
    }
}
