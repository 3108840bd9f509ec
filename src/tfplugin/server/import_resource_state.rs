//! ImportResourceState: an import id becomes a state that ReadResource then completes.

use super::ProviderServer;
use super::convert::{diagnostics, encode_or_diag};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) async fn import_resource_state(
        &self,
        req: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        let mut diags = Diagnostics::new();
        let mut imported_resources = Vec::new();
        if let Some(r) = self.resource(&req.type_name, &mut diags)
            && let Some(client) = self.require_client(&mut diags)
        {
            let state = r.imp.import(&client, &req.id, &mut diags).await;
            if !state.is_null()
                && !diags.has_errors()
                && let Some(dv) = encode_or_diag(&state, &r.ty, "imported state", &mut diags)
            {
                imported_resources.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: Some(dv),
                    private: Vec::new(),
                });
            }
        }
        pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diagnostics(diags),
            deferred: None,
        }
    }
}
