//! UpgradeResourceState: stored JSON state → current schema, answered in msgpack.
//!
//! Terraform 1.0.3 calls this for every resource on every run, also when the version is
//! current. The legacy flatmap format belongs to protocol 5 providers and is refused.

use super::ProviderServer;
use super::convert::{diagnostics, encode_or_diag};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;
use crate::tfplugin::value::Value;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn upgrade_resource_state(
        &self,
        req: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        let mut diags = Diagnostics::new();
        let mut upgraded_state = None;
        if let Some(r) = self.resource(&req.type_name, &mut diags) {
            let raw = req.raw_state.unwrap_or_default();
            let value = if raw.json.is_empty() && !raw.flatmap.is_empty() {
                diags.error(
                    "Legacy state format",
                    "This state was stored in the flatmap format of protocol 5 providers, \
                     which this provider never wrote.",
                );
                Value::Null
            } else {
                r.imp.upgrade_state(req.version, &raw.json, &mut diags)
            };
            if !diags.has_errors() {
                upgraded_state = encode_or_diag(&value, &r.ty, "upgraded state", &mut diags);
            }
        }
        pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diagnostics(diags),
        }
    }
}
