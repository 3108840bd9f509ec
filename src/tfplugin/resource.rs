//! The traits a provider implements: [`Provider`], [`Resource`], [`DataSource`].
//!
//! Each has a small required core and opt-in capabilities as default methods (import,
//! state upgrade, config validation, plan modification) that either do nothing or say
//! "not supported". The generic `C` is the provider's configured client; this module
//! knows nothing about what it holds.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::{AttrPath, Diagnostics};
use super::function::Function;
use super::json::{self, UnknownAttributes};
use super::schema::Schema;
use super::value::Value;

/// A planned change as a resource's plan modification sees and edits it.
#[derive(Debug, Clone)]
pub struct PlannedChange {
    /// State before the change (null on create).
    pub prior: Value,
    /// The configuration (may hold unknown values).
    pub config: Value,
    /// The plan so far: schema rules already applied. The hook may fill in computed
    /// values it can know now, or mark more of them unknown.
    pub planned: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttrPath>,
}

impl PlannedChange {
    /// Whether this plan creates the resource.
    pub fn is_create(&self) -> bool {
        self.prior.is_null() && !self.planned.is_null()
    }

    /// Whether this plan destroys the resource.
    pub fn is_destroy(&self) -> bool {
        self.planned.is_null()
    }
}

/// A managed resource type.
///
/// # Guarantees the server gives
/// - `validate` sees configuration that may hold unknown values; the others see known
///   values except `modify_plan`.
/// - `create`, `update` and `delete` run only after the provider is configured.
///
/// # Contract for implementors
/// - `create` and `update` return the state that exists afterwards, also on failure
///   (null when nothing was created), so Terraform records exactly what exists.
/// - Known planned values must come back unchanged; unknown ones must become known.
/// - `read` returns null when the remote object is gone.
/// - `delete` succeeds when the object is already gone.
#[async_trait]
pub trait Resource<C: Send + Sync>: Send + Sync {
    /// The resource type name, e.g. `queuescale_scalable_target`.
    fn type_name(&self) -> &'static str;

    /// The schema (computed once by the server and cached).
    fn schema(&self) -> Schema;

    /// Checks configuration beyond what the schema says. Values may be unknown: skip them.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Completes a plan after the schema rules ran. `client` is `None` while the provider
    /// configuration is not yet known.
    async fn modify_plan(
        &self,
        _client: Option<&C>,
        _change: &mut PlannedChange,
        _diags: &mut Diagnostics,
    ) {
    }

    /// Creates the object described by `planned`.
    async fn create(&self, client: &C, planned: &Value, diags: &mut Diagnostics) -> Value;

    /// Refreshes `state` from the remote system.
    async fn read(&self, client: &C, state: &Value, diags: &mut Diagnostics) -> Value;

    /// Brings the object from `prior` to `planned` in place.
    async fn update(
        &self,
        client: &C,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value;

    /// Deletes the object in `state`.
    async fn delete(&self, client: &C, state: &Value, diags: &mut Diagnostics);

    /// Turns an import id into a state that `read` can complete. Default: not supported.
    async fn import(&self, _client: &C, _id: &str, diags: &mut Diagnostics) -> Value {
        diags.error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        );
        Value::Null
    }

    /// Upgrades stored state (as JSON) written by schema `version` to the current schema.
    /// Default: state of the current version decodes as it is (attributes that no longer
    /// exist are dropped); any other version is an error.
    fn upgrade_state(&self, version: i64, raw_json: &[u8], diags: &mut Diagnostics) -> Value {
        let schema = self.schema();
        if version != schema.version {
            diags.error(
                "Unsupported state version",
                format!(
                    "{} state has schema version {version}; this provider knows version {}. \
                     Use a provider release that matches the state.",
                    self.type_name(),
                    schema.version
                ),
            );
            return Value::Null;
        }
        match json::decode(raw_json, &schema.value_type(), UnknownAttributes::Ignore) {
            Ok(v) => v,
            Err(e) => {
                diags.error("Stored state cannot be read", e.to_string());
                Value::Null
            }
        }
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource<C: Send + Sync>: Send + Sync {
    /// The data source type name, e.g. `queuescale_backlog_target`.
    fn type_name(&self) -> &'static str;

    /// The schema.
    fn schema(&self) -> Schema;

    /// Checks configuration beyond what the schema says. Values may be unknown: skip them.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads the data: returns the whole object with computed attributes filled in.
    /// `client` is `None` when the provider is not configured.
    async fn read(&self, client: Option<&C>, config: &Value, diags: &mut Diagnostics) -> Value;
}

/// What ConfigureProvider hands the provider.
#[derive(Debug, Clone)]
pub struct ConfigureRequest<'a> {
    /// The provider block (may hold unknown values during plan).
    pub config: &'a Value,
    /// The version of the Terraform CLI calling.
    pub terraform_version: &'a str,
    /// Cancelled when Terraform asks the provider to stop; long waits should watch it.
    pub stop: CancellationToken,
}

/// A provider: its configuration and the types it serves.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What `configure` produces and resources use (e.g. API clients).
    type Client: Send + Sync + 'static;

    /// The provider's local name, e.g. `queuescale`.
    fn type_name(&self) -> &'static str;

    /// The schema of the `provider` block.
    fn schema(&self) -> Schema;

    /// Checks the provider block beyond what the schema says (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Configures the provider. Returns `None` when configuration cannot be completed
    /// yet (values unknown at plan time: no diagnostics) or failed (with diagnostics).
    async fn configure(
        &self,
        req: ConfigureRequest<'_>,
        diags: &mut Diagnostics,
    ) -> Option<Self::Client>;

    /// Managed resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Client>>>;

    /// Data source types.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Client>>>;

    /// Provider functions.
    fn functions(&self) -> Vec<Arc<dyn Function>>;
}
