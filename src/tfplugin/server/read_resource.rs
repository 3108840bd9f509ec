//! ReadResource: refresh state from the remote system; `private` is echoed unchanged.

use super::ProviderServer;
use super::convert::{decode_or_diag, diagnostics, encode_or_diag};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) async fn read_resource(
        &self,
        req: pb::read_resource::Request,
    ) -> pb::read_resource::Response {
        let mut diags = Diagnostics::new();
        let mut new_state = req.current_state.clone();
        if let Some(r) = self.resource(&req.type_name, &mut diags)
            && let Some(current) =
                decode_or_diag(req.current_state.as_ref(), &r.ty, "state", &mut diags)
            && let Some(client) = self.require_client(&mut diags)
        {
            let refreshed = r.imp.read(&client, &current, &mut diags).await;
            if let Some(dv) = encode_or_diag(&refreshed, &r.ty, "state", &mut diags) {
                new_state = Some(dv);
            }
        }
        pb::read_resource::Response {
            new_state,
            diagnostics: diagnostics(diags),
            private: req.private,
            deferred: None,
        }
    }
}
