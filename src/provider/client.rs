//! From [`ProviderConfig`] to AWS clients: credential chain, region, retries, timeouts,
//! endpoint overrides, the optional assumed role, the one credentials check, and the
//! request pacing every client of the process shares.
//!
//! Messages name where credentials came from, never their secret parts.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::origin::Origin;
use tokio_util::sync::CancellationToken;

use super::config::{ProviderConfig, mask_access_key};
use crate::aws::limit::{Limits, Paced};
use crate::aws::{app_autoscaling, cloudwatch, ecs, sqs};

/// Default retries per request when `max_retries` is not set.
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

/// Loads the SDK configuration the provider block describes.
async fn load_sdk_config(cfg: &ProviderConfig) -> SdkConfig {
    let retries = cfg.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::adaptive().with_max_attempts(retries.saturating_add(1)))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
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
        for f in &cfg.shared_config_files {
            files = files.with_file(EnvConfigFileKind::Config, f);
        }
        for f in &cfg.shared_credentials_files {
            files = files.with_file(EnvConfigFileKind::Credentials, f);
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
    stop: CancellationToken,
) -> Result<Clients, ConnectError> {
    let sdk = load_sdk_config(cfg).await;
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
        let mut b = aws_sdk_applicationautoscaling::config::Builder::from(&sdk);
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
        let mut b = aws_sdk_cloudwatch::config::Builder::from(&sdk);
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
        let mut b = aws_sdk_ecs::config::Builder::from(&sdk);
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
        let mut b = aws_sdk_sqs::config::Builder::from(&sdk);
        if let Some(u) = &ep.sqs {
            b = b.endpoint_url(u);
        }
        Paced::new(
            aws_sdk_sqs::Client::from_conf(b.build()),
            limits.clone(),
            stop.clone(),
        )
    };
    Ok(Clients {
        aas,
        cloudwatch,
        ecs,
        sqs,
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
    let sts = aws_sdk_sts::Client::new(&for_sts(sdk, cfg));
    match sts.get_caller_identity().send().await {
        Ok(who) => {
            tracing::info!(
                account = who.account().unwrap_or_default(),
                arn = who.arn().unwrap_or_default(),
                "credentials accepted"
            );
            Ok(())
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
