//! ConfigureProvider: build the client resources use, or defer when values are unknown.

use std::sync::Arc;

use super::convert::{decode_or_diag, diagnostics};
use super::{Configured, ProviderServer};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::{ConfigureRequest, Provider};

impl<P: Provider> ProviderServer<P> {
    pub(super) async fn configure_provider(
        &self,
        req: pb::configure_provider::Request,
    ) -> pb::configure_provider::Response {
        let mut diags = Diagnostics::new();
        if let Some(config) = decode_or_diag(
            req.config.as_ref(),
            &self.inner.provider_type,
            "provider configuration",
            &mut diags,
        ) {
            let outcome = self
                .inner
                .provider
                .configure(
                    ConfigureRequest {
                        config: &config,
                        terraform_version: &req.terraform_version,
                        stop: self.stop_token(),
                    },
                    &mut diags,
                )
                .await;
            let state = match outcome {
                Some(client) => Configured::Yes(Arc::new(client)),
                None if !diags.has_errors() => Configured::Deferred,
                None => Configured::No,
            };
            *self
                .inner
                .configured
                .write()
                .unwrap_or_else(|e| e.into_inner()) = state;
        }
        pb::configure_provider::Response {
            diagnostics: diagnostics(diags),
        }
    }
}
