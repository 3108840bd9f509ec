//! ReadDataSource: configuration in, the whole object with computed values out.

use super::ProviderServer;
use super::convert::{decode_or_diag, diagnostics, encode_or_diag};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) async fn read_data_source(
        &self,
        req: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        let mut diags = Diagnostics::new();
        let mut state = None;
        if let Some(d) = self.data_source(&req.type_name, &mut diags)
            && let Some(config) =
                decode_or_diag(req.config.as_ref(), &d.ty, "configuration", &mut diags)
        {
            let client = self.client();
            let value = d.imp.read(client.as_deref(), &config, &mut diags).await;
            if !diags.has_errors() {
                state = encode_or_diag(&value, &d.ty, "data source state", &mut diags);
            }
        }
        pb::read_data_source::Response {
            state,
            diagnostics: diagnostics(diags),
            deferred: None,
        }
    }
}
