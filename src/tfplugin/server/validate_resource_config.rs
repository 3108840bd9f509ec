//! ValidateResourceConfig: a resource block, before any plan or API call.

use super::ProviderServer;
use super::convert::{decode_or_diag, diagnostics};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_resource_config(
        &self,
        req: pb::validate_resource_config::Request,
    ) -> pb::validate_resource_config::Response {
        let mut diags = Diagnostics::new();
        if let Some(r) = self.resource(&req.type_name, &mut diags)
            && let Some(config) = decode_or_diag(
                req.config.as_ref(),
                &r.ty,
                "resource configuration",
                &mut diags,
            )
        {
            r.imp.validate(&config, &mut diags);
        }
        pb::validate_resource_config::Response {
            diagnostics: diagnostics(diags),
        }
    }
}
