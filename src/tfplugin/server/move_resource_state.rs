//! MoveResourceState (6.5): not offered (the capability is advertised as false).

use super::ProviderServer;
use super::convert::diagnostics;
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn move_resource_state(
        &self,
        req: pb::move_resource_state::Request,
    ) -> pb::move_resource_state::Response {
        let mut diags = Diagnostics::new();
        diags.error(
            "Moving state is not supported",
            format!(
                "{} cannot take state moved from {} ({}).",
                req.target_type_name, req.source_type_name, req.source_provider_address
            ),
        );
        pb::move_resource_state::Response {
            diagnostics: diagnostics(diags),
            ..Default::default()
        }
    }
}
