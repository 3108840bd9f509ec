//! ValidateProviderConfig: the provider block, beyond what Terraform checks itself.

use super::ProviderServer;
use super::convert::{decode_or_diag, diagnostics};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_provider_config(
        &self,
        req: pb::validate_provider_config::Request,
    ) -> pb::validate_provider_config::Response {
        let mut diags = Diagnostics::new();
        if let Some(config) = decode_or_diag(
            req.config.as_ref(),
            &self.inner.provider_type,
            "provider configuration",
            &mut diags,
        ) {
            self.inner.provider.validate(&config, &mut diags);
        }
        pb::validate_provider_config::Response {
            diagnostics: diagnostics(diags),
        }
    }
}
