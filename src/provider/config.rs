//! The `provider "queuescale" { … }` block: schema, validation and parsing into
//! [`ProviderConfig`]. Building AWS clients from it lives in `client.rs`.
//!
//! Secrets (`secret_key`, `token`, `assume_role.external_id`) are held only in
//! [`ProviderConfig`]; its `Debug` output redacts them and no message here repeats them.

use std::collections::BTreeMap;
use std::fmt;

use super::client::DEFAULT_MAX_RETRIES;
use crate::aws::limit::Quota;
use crate::tfplugin::{
    AttrPath, Attribute, Block, Diagnostics, NestedBlock, Nesting, Schema, Type, Value,
};

/// Per-service endpoint overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// Application Auto Scaling.
    pub applicationautoscaling: Option<String>,
    /// CloudWatch.
    pub cloudwatch: Option<String>,
    /// ECS.
    pub ecs: Option<String>,
    /// EventBridge Scheduler.
    pub scheduler: Option<String>,
    /// SQS.
    pub sqs: Option<String>,
    /// STS.
    pub sts: Option<String>,
}

/// Names of the services in the `endpoints` block, in schema order.
pub const ENDPOINT_SERVICES: [&str; 6] = [
    "applicationautoscaling",
    "cloudwatch",
    "ecs",
    "scheduler",
    "sqs",
    "sts",
];

/// A role to assume after resolving the base credentials.
///
/// `external_id` is treated as a secret: its `Debug` output shows only whether it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// ARN of the role.
    pub role_arn: String,
    /// Session name (a default is used when absent).
    pub session_name: Option<String>,
    /// External id the role's trust policy may require.
    pub external_id: Option<String>,
    /// Session length in seconds.
    pub duration_seconds: Option<u64>,
}

impl fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field("session_name", &self.session_name)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "<redacted>"),
            )
            .field("duration_seconds", &self.duration_seconds)
            .finish()
    }
}

/// The provider configuration, parsed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProviderConfig {
    /// AWS region; else the environment or profile decides.
    pub region: Option<String>,
    /// Named profile from the shared files.
    pub profile: Option<String>,
    /// Shared config files replacing `~/.aws/config`.
    pub shared_config_files: Vec<String>,
    /// Shared credentials files replacing `~/.aws/credentials`.
    pub shared_credentials_files: Vec<String>,
    /// Static access key id.
    pub access_key: Option<String>,
    /// Static secret access key (secret).
    pub secret_key: Option<String>,
    /// Session token (secret).
    pub token: Option<String>,
    /// Role to assume.
    pub assume_role: Option<AssumeRole>,
    /// Endpoint overrides.
    pub endpoints: Endpoints,
    /// Most retries per request (attempts = retries + 1).
    pub max_retries: Option<u32>,
    /// Tags merged into every taggable object this provider creates.
    pub default_tags: BTreeMap<String, String>,
    /// Skip the STS GetCallerIdentity check at configuration.
    pub skip_credentials_validation: bool,
    /// Requests per second replacing AWS's default quotas (`rate_limits`).
    pub rate_limits: BTreeMap<Quota, u32>,
}

/// Most requests per second a `rate_limits` attribute takes.
pub const MAX_RATE_LIMIT: u32 = 10_000;

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("ProviderConfig")
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("shared_config_files", &self.shared_config_files)
            .field("shared_credentials_files", &self.shared_credentials_files)
            .field(
                "access_key",
                &self.access_key.as_deref().map(mask_access_key),
            )
            .field("secret_key", &redact(&self.secret_key))
            .field("token", &redact(&self.token))
            .field("assume_role", &self.assume_role)
            .field("endpoints", &self.endpoints)
            .field("max_retries", &self.max_retries)
            .field("default_tags", &self.default_tags)
            .field(
                "skip_credentials_validation",
                &self.skip_credentials_validation,
            )
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

/// An access key id shortened for messages: `AKIA…WXYZ`.
pub fn mask_access_key(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "…".into();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

/// The provider block's schema.
pub fn schema() -> Schema {
    let optional_string =
        |name: &str, text: &str| Attribute::optional(name, Type::String).describe(text);
    let rate_attrs = Quota::ALL
        .iter()
        .map(|q| Attribute::optional(q.attribute(), Type::Number).describe(q.description()))
        .collect();
    let endpoint_attrs = ENDPOINT_SERVICES
        .iter()
        .map(|s| {
            optional_string(
                s,
                &format!("Endpoint URL for {s} (e.g. `http://localhost:4566`)."),
            )
        })
        .collect();
    Schema::new(
        Block::new(vec![
            optional_string(
                "region",
                "AWS region, e.g. `eu-west-1`. Defaults to `AWS_REGION`/`AWS_DEFAULT_REGION` or the \
                 profile's region.",
            ),
            optional_string("profile", "Named profile from the shared config and credentials files."),
            Attribute::optional("shared_config_files", Type::list(Type::String)).describe(
                "Paths of shared config files to use instead of `~/.aws/config` (regular files \
                 of at most 4 MiB; a leading `~/` is the home directory).",
            ),
            Attribute::optional("shared_credentials_files", Type::list(Type::String)).describe(
                "Paths of shared credentials files to use instead of `~/.aws/credentials` \
                 (regular files of at most 4 MiB; a leading `~/` is the home directory).",
            ),
            optional_string("access_key", "Static access key id. Requires `secret_key`."),
            Attribute::optional("secret_key", Type::String)
                .sensitive()
                .describe("Static secret access key. Requires `access_key`."),
            Attribute::optional("token", Type::String)
                .sensitive()
                .describe("Session token for temporary static credentials."),
            Attribute::optional("max_retries", Type::Number).describe(&format!(
                "Most retries of one AWS request (throttling is retried with adaptive back-off). \
                 Default {DEFAULT_MAX_RETRIES}. Each attempt may take up to 60 seconds and one \
                 request with all its retries up to 3 minutes; a stop request (Ctrl-C) ends \
                 every request at once."
            )),
            Attribute::optional("skip_credentials_validation", Type::Bool).describe(
                "Skip the STS `GetCallerIdentity` call that checks credentials when the provider \
                 is configured. Default `false`.",
            ),
        ])
        .with_blocks(vec![
            NestedBlock::new(
                "assume_role",
                Nesting::Single,
                Block::new(vec![
                    Attribute::required("role_arn", Type::String).describe("ARN of the role to assume."),
                    optional_string("session_name", "Session name. Default `terraform-provider-queuescale`."),
                    optional_string("external_id", "External id required by the role's trust policy."),
                    Attribute::optional("duration_seconds", Type::Number)
                        .describe("Session length, 900 to 43200 seconds. Default 3600."),
                ])
                .describe("Assume this IAM role with the resolved credentials."),
            ),
            NestedBlock::new(
                "endpoints",
                Nesting::Single,
                Block::new(endpoint_attrs).describe(
                    "Per-service endpoint URLs (for LocalStack, moto or a VPC endpoint). \
                     `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` are honoured as well.",
                ),
            ),
            NestedBlock::new(
                "rate_limits",
                Nesting::Single,
                Block::new(rate_attrs).describe(
                    "Requests per second the provider sends, per AWS quota, shared by all its \
                     resources (whole numbers from 1 to 10000). The defaults are AWS's published \
                     quotas per account and region; set the ones your account has had raised. \
                     Throttling that still happens (other clients use the same quotas) is \
                     retried with adaptive back-off.",
                ),
            ),
            NestedBlock::new(
                "default_tags",
                Nesting::Single,
                Block::new(vec![
                    Attribute::optional("tags", Type::map(Type::String))
                        .describe("Tags merged into every taggable object (resource tags win)."),
                ])
                .describe("Tags applied to everything this provider creates."),
            ),
        ])
        .describe(
            "Configures AWS access. Credentials come from the standard AWS chain (environment, \
             shared files and profiles, SSO, web identity, container and instance metadata) \
             unless given here.",
        ),
    )
}

/// Checks the provider block; unknown values are skipped.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    if let Some(region) = config.get("region").as_str()
        && !valid_region(region)
    {
        diags.error_at(
            AttrPath::root("region"),
            "Invalid region",
            format!("{region:?} is not an AWS region name such as \"eu-west-1\"."),
        );
    }
    let ak = config.get("access_key");
    let sk = config.get("secret_key");
    if ak.is_null() != sk.is_null() && !ak.is_unknown() && !sk.is_unknown() {
        let missing = if ak.is_null() {
            "access_key"
        } else {
            "secret_key"
        };
        diags.error_at(
            AttrPath::root(missing),
            format!("Missing {missing}"),
            "access_key and secret_key must be given together.",
        );
    }
    if let Some(n) = config.get("max_retries").as_f64()
        && !(n.fract() == 0.0 && (0.0..=100.0).contains(&n))
    {
        diags.error_at(
            AttrPath::root("max_retries"),
            "Invalid max_retries",
            format!("max_retries must be a whole number from 0 to 100, not {n}."),
        );
    }
    for list in ["shared_config_files", "shared_credentials_files"] {
        for (i, p) in config.get(list).elements().iter().enumerate() {
            if p.as_str().is_some_and(|s| s.trim().is_empty()) {
                diags.error_at(
                    AttrPath::root(list).index(i),
                    "Empty file path",
                    "Give a file path.",
                );
            }
        }
    }
    let role = config.get("assume_role");
    if let Some(arn) = role.get("role_arn").as_str()
        && !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/"))
    {
        diags.error_at(
            AttrPath::root("assume_role").attr("role_arn"),
            "Invalid role ARN",
            format!("{arn:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."),
        );
    }
    if let Some(d) = role.get("duration_seconds").as_f64()
        && !(d.fract() == 0.0 && (900.0..=43200.0).contains(&d))
    {
        diags.error_at(
            AttrPath::root("assume_role").attr("duration_seconds"),
            "Invalid duration_seconds",
            format!("duration_seconds must be a whole number from 900 to 43200, not {d}."),
        );
    }
    for service in ENDPOINT_SERVICES {
        if let Some(url) = config.get("endpoints").get(service).as_str()
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            diags.error_at(
                AttrPath::root("endpoints").attr(service),
                "Invalid endpoint URL",
                format!("{url:?} must be an http:// or https:// URL."),
            );
        }
    }
    for q in Quota::ALL {
        if let Some(n) = config.get("rate_limits").get(q.attribute()).as_f64()
            && !(n.fract() == 0.0 && (1.0..=f64::from(MAX_RATE_LIMIT)).contains(&n))
        {
            diags.error_at(
                AttrPath::root("rate_limits").attr(q.attribute()),
                "Invalid rate limit",
                format!(
                    "{} must be a whole number of requests per second from 1 to \
                     {MAX_RATE_LIMIT}, not {n}.",
                    q.attribute()
                ),
            );
        }
    }
    if let Some(tags) = config.get("default_tags").get("tags").entries() {
        crate::resources::tags::validate(tags, &AttrPath::root("default_tags").attr("tags"), diags);
    }
}

/// Whether `s` looks like an AWS region name (`us-east-1`, `us-gov-west-1`, `cn-north-1`).
pub fn valid_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// Parses a wholly known, validated provider block.
pub fn parse(config: &Value) -> ProviderConfig {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    let strings = |v: &Value| {
        v.elements()
            .iter()
            .filter_map(|e| e.as_str().map(str::to_owned))
            .collect()
    };
    let role = config.get("assume_role");
    let endpoints = config.get("endpoints");
    ProviderConfig {
        region: s(config.get("region")),
        profile: s(config.get("profile")),
        shared_config_files: strings(config.get("shared_config_files")),
        shared_credentials_files: strings(config.get("shared_credentials_files")),
        access_key: s(config.get("access_key")),
        secret_key: s(config.get("secret_key")),
        token: s(config.get("token")),
        assume_role: role.get("role_arn").as_str().map(|arn| AssumeRole {
            role_arn: arn.to_owned(),
            session_name: s(role.get("session_name")),
            external_id: s(role.get("external_id")),
            duration_seconds: role
                .get("duration_seconds")
                .as_i64()
                .and_then(|d| u64::try_from(d).ok()),
        }),
        endpoints: Endpoints {
            applicationautoscaling: s(endpoints.get("applicationautoscaling")),
            cloudwatch: s(endpoints.get("cloudwatch")),
            ecs: s(endpoints.get("ecs")),
            scheduler: s(endpoints.get("scheduler")),
            sqs: s(endpoints.get("sqs")),
            sts: s(endpoints.get("sts")),
        },
        max_retries: config
            .get("max_retries")
            .as_i64()
            .and_then(|n| u32::try_from(n).ok()),
        default_tags: config.get("default_tags").get("tags").as_string_map(),
        skip_credentials_validation: config
            .get("skip_credentials_validation")
            .as_bool()
            .unwrap_or(false),
        rate_limits: Quota::ALL
            .iter()
            .filter_map(|q| {
                let n = config.get("rate_limits").get(q.attribute()).as_i64()?;
                Some((*q, u32::try_from(n).ok()?))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(pairs: &[(&str, Value)]) -> Value {
        let ty = schema().value_type();
        let Type::Object(attrs) = ty else {
            unreachable!()
        };
        let mut v = Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect());
        for (k, val) in pairs {
            v.set(k, val.clone());
        }
        v
    }

    #[test]
    fn the_documented_max_retries_default_is_the_one_used() {
        let schema = schema();
        let attr = schema
            .block
            .attributes
            .iter()
            .find(|a| a.name == "max_retries")
            .expect("max_retries attribute");
        assert!(
            attr.description
                .contains(&format!("Default {DEFAULT_MAX_RETRIES}.")),
            "{}",
            attr.description
        );
        assert_eq!(
            parse(&block(&[])).max_retries,
            None,
            "unset means the default"
        );
    }

    #[test]
    fn region_names_are_checked() {
        for ok in [
            "us-east-1",
            "eu-west-3",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-4",
        ] {
            assert!(valid_region(ok), "{ok}");
        }
        for bad in ["useast1", "US-EAST-1", "us-east", "us--1", ""] {
            assert!(!valid_region(bad), "{bad}");
        }
    }

    #[test]
    fn half_a_key_pair_is_reported_at_the_missing_half() {
        let mut d = Diagnostics::new();
        validate(
            &block(&[("access_key", Value::from("AKIAEXAMPLE"))]),
            &mut d,
        );
        assert_eq!(d.0[0].attribute, Some(AttrPath::root("secret_key")));
    }

    #[test]
    fn bad_nested_values_point_into_their_block() {
        let mut d = Diagnostics::new();
        let cfg = block(&[
            (
                "endpoints",
                Value::object([("sqs", Value::from("localhost:4566"))]),
            ),
            (
                "assume_role",
                Value::object([
                    ("role_arn", Value::from("nope")),
                    ("duration_seconds", Value::int(60)),
                ]),
            ),
        ]);
        validate(&cfg, &mut d);
        let paths: Vec<String> = d
            .iter()
            .filter_map(|x| x.attribute.as_ref())
            .map(ToString::to_string)
            .collect();
        assert!(paths.contains(&"endpoints.sqs".to_string()), "{paths:?}");
        assert!(
            paths.contains(&"assume_role.role_arn".to_string()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"assume_role.duration_seconds".to_string()),
            "{paths:?}"
        );
    }

    #[test]
    fn rate_limits_must_be_whole_positive_numbers_at_their_attribute() {
        for bad in [
            Value::int(0),
            Value::from(2.5),
            Value::int(10_001),
            Value::int(-3),
        ] {
            let mut d = Diagnostics::new();
            let cfg = block(&[(
                "rate_limits",
                Value::object([("put_metric_alarm", bad.clone())]),
            )]);
            validate(&cfg, &mut d);
            assert_eq!(
                d.0.iter().map(|x| x.attribute.clone()).collect::<Vec<_>>(),
                [Some(AttrPath::root("rate_limits").attr("put_metric_alarm"))],
                "{bad:?}"
            );
        }
        let mut d = Diagnostics::new();
        validate(
            &block(&[(
                "rate_limits",
                Value::object([("put_metric_alarm", Value::int(10))]),
            )]),
            &mut d,
        );
        assert!(!d.has_errors(), "{d:?}");
    }

    #[test]
    fn parse_reads_the_rate_limits_it_is_given() {
        let cfg = parse(&block(&[(
            "rate_limits",
            Value::object([
                ("put_metric_alarm", Value::int(10)),
                ("describe_alarms", Value::int(50)),
            ]),
        )]));
        assert_eq!(
            cfg.rate_limits,
            BTreeMap::from([(Quota::DescribeAlarms, 50), (Quota::PutMetricAlarm, 10)])
        );
        assert!(parse(&block(&[])).rate_limits.is_empty());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let cfg = parse(&block(&[
            ("access_key", Value::from("AKIAIOSFODNN7EXAMPLE")),
            (
                "secret_key",
                Value::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ),
            ("token", Value::from("FwoGZXIvYXdzEXAMPLETOKEN")),
        ]));
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("wJalrXUtnFEMI") && !shown.contains("FwoGZX"),
            "{shown}"
        );
        assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "{shown}");
    }

    #[test]
    fn debug_output_never_shows_the_external_id() {
        let cfg = parse(&block(&[(
            "assume_role",
            Value::object([
                (
                    "role_arn",
                    Value::from("arn:aws:iam::123456789012:role/deploy"),
                ),
                ("session_name", Value::Null),
                ("external_id", Value::from("qsacc-external-id-value")),
                ("duration_seconds", Value::Null),
            ]),
        )]));
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("qsacc-external-id-value"), "{shown}");
        assert!(
            shown.contains("role/deploy"),
            "the role itself is shown: {shown}"
        );
    }

    #[test]
    fn parse_reads_nested_blocks() {
        let cfg = parse(&block(&[
            ("region", Value::from("eu-west-1")),
            (
                "endpoints",
                Value::object([("sqs", Value::from("http://127.0.0.1:5000"))]),
            ),
            (
                "default_tags",
                Value::object([(
                    "tags",
                    Value::Map([("team".to_string(), Value::from("a"))].into()),
                )]),
            ),
        ]));
        assert_eq!(cfg.region.as_deref(), Some("eu-west-1"));
        assert_eq!(cfg.endpoints.sqs.as_deref(), Some("http://127.0.0.1:5000"));
        assert_eq!(cfg.default_tags.get("team").map(String::as_str), Some("a"));
    }
}
