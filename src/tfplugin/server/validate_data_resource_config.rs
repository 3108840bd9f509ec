//! ValidateDataResourceConfig: a data block, before it is read.

use super::ProviderServer;
use super::convert::{decode_or_diag, diagnostics};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn validate_data_resource_config(
        &self,
        req: pb::validate_data_resource_config::Request,
    ) -> pb::validate_data_resource_config::Response {
        let mut diags = Diagnostics::new();
        if let Some(d) = self.data_source(&req.type_name, &mut diags)
            && let Some(config) = decode_or_diag(
                req.config.as_ref(),
                &d.ty,
                "data source configuration",
                &mut diags,
            )
        {
            d.imp.validate(&config, &mut diags);
        }
        pb::validate_data_resource_config::Response {
            diagnostics: diagnostics(diags),
        }
    }
}
