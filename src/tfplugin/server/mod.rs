//! The tfplugin6 gRPC server: one module per RPC, each turning a wire request into calls
//! on the [`Provider`] traits and the answer back into wire form.
//!
//! Owns protocol plumbing only. User-facing problems become diagnostics in the response;
//! a gRPC error status is never used for them.

mod apply_resource_change;
mod call_function;
mod configure_provider;
mod convert;
mod ephemeral;
mod get_functions;
mod get_metadata;
mod get_provider_schema;
mod import_resource_state;
mod move_resource_state;
mod plan_resource_change;
mod read_data_source;
mod read_resource;
mod stop_provider;
mod upgrade_resource_state;
mod validate_data_resource_config;
mod validate_provider_config;
mod validate_resource_config;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::diag::Diagnostics;
use super::function::Function;
use super::proto as pb;
use super::resource::{DataSource, Provider, Resource};
use super::schema::Schema;
use super::types::Type;

pub use convert::{decode_dynamic, encode_dynamic};

/// A resource or data source with its schema computed once.
struct Registered<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
}

impl<T: ?Sized> Registered<T> {
    fn new(imp: Arc<T>, schema: Schema) -> Registered<T> {
        let ty = schema.value_type();
        Registered { imp, schema, ty }
    }
}

/// Where provider configuration stands.
enum Configured<C> {
    /// ConfigureProvider has not succeeded (yet).
    No,
    /// Configuration was unknown at plan time; it completes at apply.
    Deferred,
    /// Ready to make API calls.
    Yes(Arc<C>),
}

struct Inner<P: Provider> {
    provider: P,
    provider_type: Type,
    resources: HashMap<&'static str, Registered<dyn Resource<P::Client>>>,
    data_sources: HashMap<&'static str, Registered<dyn DataSource<P::Client>>>,
    functions: HashMap<&'static str, Arc<dyn Function>>,
    schema_response: pb::get_provider_schema::Response,
    configured: RwLock<Configured<P::Client>>,
    /// The token of the current run: handed to ConfigureProvider, cancelled (and replaced
    /// by a fresh one for a later run of a reattached provider) by StopProvider.
    stop: Mutex<CancellationToken>,
}

/// Serves a [`Provider`] as `tfplugin6.Provider`. Cheap to clone.
pub struct ProviderServer<P: Provider> {
    inner: Arc<Inner<P>>,
}

impl<P: Provider> Clone for ProviderServer<P> {
    fn clone(&self) -> Self {
        ProviderServer {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<P: Provider> ProviderServer<P> {
    /// Builds the server, computing every schema (and the schema response) once.
    pub fn new(provider: P) -> ProviderServer<P> {
        let resources: HashMap<_, _> = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), Registered::new(Arc::clone(&r), r.schema())))
            .collect();
        let data_sources: HashMap<_, _> = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), Registered::new(Arc::clone(&d), d.schema())))
            .collect();
        let functions: HashMap<_, _> = provider
            .functions()
            .into_iter()
            .map(|f| (f.name(), f))
            .collect();
        let provider_schema = provider.schema();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(convert::schema(&provider_schema)),
            resource_schemas: resources
                .iter()
                .map(|(n, r)| ((*n).to_owned(), convert::schema(&r.schema)))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(n, d)| ((*n).to_owned(), convert::schema(&d.schema)))
                .collect(),
            functions: functions
                .iter()
                .map(|(n, f)| ((*n).to_owned(), convert::function(&f.signature())))
                .collect(),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        };
        ProviderServer {
            inner: Arc::new(Inner {
                provider_type: provider_schema.value_type(),
                provider,
                resources,
                data_sources,
                functions,
                schema_response,
                configured: RwLock::new(Configured::No),
                stop: Mutex::new(CancellationToken::new()),
            }),
        }
    }

    /// The token the next ConfigureProvider hands to the provider: cancelled by
    /// [`ProviderServer::stop`].
    pub fn stop_token(&self) -> CancellationToken {
        self.inner
            .stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Cancels the work in flight (StopProvider, and go-plugin's Shutdown): the token
    /// every configured client watches is cancelled, and ConfigureProvider hands out a
    /// fresh one from now on, so that a provider serving several Terraform runs
    /// (`--debug`) works again in the next one.
    pub fn stop(&self) {
        let mut token = self.inner.stop.lock().unwrap_or_else(|e| e.into_inner());
        token.cancel();
        *token = CancellationToken::new();
    }

    fn resource(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<&Registered<dyn Resource<P::Client>>> {
        let found = self.inner.resources.get(type_name);
        if found.is_none() {
            diags.error(
                "Unknown resource type",
                format!("This provider has no resource type {type_name:?}."),
            );
        }
        found
    }

    fn data_source(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<&Registered<dyn DataSource<P::Client>>> {
        let found = self.inner.data_sources.get(type_name);
        if found.is_none() {
            diags.error(
                "Unknown data source type",
                format!("This provider has no data source type {type_name:?}."),
            );
        }
        found
    }

    /// The configured client, if configuration has completed.
    fn client(&self) -> Option<Arc<P::Client>> {
        match &*self
            .inner
            .configured
            .read()
            .unwrap_or_else(|e| e.into_inner())
        {
            Configured::Yes(c) => Some(Arc::clone(c)),
            _ => None,
        }
    }

    /// The configured client, or an error diagnostic saying why there is none.
    fn require_client(&self, diags: &mut Diagnostics) -> Option<Arc<P::Client>> {
        let client = self.client();
        if client.is_none() {
            let deferred = matches!(
                &*self
                    .inner
                    .configured
                    .read()
                    .unwrap_or_else(|e| e.into_inner()),
                Configured::Deferred
            );
            diags.error(
                "Provider not configured",
                if deferred {
                    "The provider configuration depends on values not known yet; \
                     this operation needs it to be known."
                } else {
                    "The provider was not configured before this operation \
                     (see earlier errors from the provider block)."
                },
            );
        }
        client
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: true,
        get_provider_schema_optional: true,
        move_resource_state: false,
    }
}

/// Runs one RPC handler with a trace line around it.
async fn traced<T>(
    rpc: &'static str,
    detail: &str,
    fut: impl Future<Output = T>,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    tracing::debug!(rpc, detail, "request");
    let out = fut.await;
    tracing::debug!(
        rpc,
        detail,
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "response"
    );
    Ok(Response::new(out))
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderServer<P> {
    async fn get_metadata(
        &self,
        r: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        traced("GetMetadata", "", async {
            self.get_metadata(r.into_inner())
        })
        .await
    }

    async fn get_provider_schema(
        &self,
        r: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        traced("GetProviderSchema", "", async {
            self.get_provider_schema(r.into_inner())
        })
        .await
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        traced("ValidateProviderConfig", "", async {
            self.validate_provider_config(r.into_inner())
        })
        .await
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("ValidateResourceConfig", &t, async {
            self.validate_resource_config(r)
        })
        .await
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("ValidateDataResourceConfig", &t, async {
            self.validate_data_resource_config(r)
        })
        .await
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("UpgradeResourceState", &t, async {
            self.upgrade_resource_state(r)
        })
        .await
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        traced(
            "ConfigureProvider",
            "",
            self.configure_provider(r.into_inner()),
        )
        .await
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("ReadResource", &t, self.read_resource(r)).await
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("PlanResourceChange", &t, self.plan_resource_change(r)).await
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("ApplyResourceChange", &t, self.apply_resource_change(r)).await
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("ImportResourceState", &t, self.import_resource_state(r)).await
    }

    async fn move_resource_state(
        &self,
        r: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        traced("MoveResourceState", "", async {
            self.move_resource_state(r.into_inner())
        })
        .await
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let r = r.into_inner();
        let t = r.type_name.clone();
        traced("ReadDataSource", &t, self.read_data_source(r)).await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        r: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let r = r.into_inner();
        traced("ValidateEphemeralResourceConfig", "", async {
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: ephemeral::unsupported(&r.type_name),
            }
        })
        .await
    }

    async fn open_ephemeral_resource(
        &self,
        r: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let r = r.into_inner();
        traced("OpenEphemeralResource", "", async {
            pb::open_ephemeral_resource::Response {
                diagnostics: ephemeral::unsupported(&r.type_name),
                ..Default::default()
            }
        })
        .await
    }

    async fn renew_ephemeral_resource(
        &self,
        r: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let r = r.into_inner();
        traced("RenewEphemeralResource", "", async {
            pb::renew_ephemeral_resource::Response {
                diagnostics: ephemeral::unsupported(&r.type_name),
                ..Default::default()
            }
        })
        .await
    }

    async fn close_ephemeral_resource(
        &self,
        r: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let r = r.into_inner();
        traced("CloseEphemeralResource", "", async {
            pb::close_ephemeral_resource::Response {
                diagnostics: ephemeral::unsupported(&r.type_name),
            }
        })
        .await
    }

    async fn get_functions(
        &self,
        r: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        traced("GetFunctions", "", async {
            self.get_functions(r.into_inner())
        })
        .await
    }

    async fn call_function(
        &self,
        r: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let r = r.into_inner();
        let n = r.name.clone();
        traced("CallFunction", &n, async { self.call_function(r) }).await
    }

    async fn stop_provider(
        &self,
        r: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        traced("StopProvider", "", async {
            self.stop_provider(r.into_inner())
        })
        .await
    }
}

#[cfg(test)]
mod tests;
