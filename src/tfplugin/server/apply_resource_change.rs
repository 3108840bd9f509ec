//! ApplyResourceChange: create, update or delete, always answering with the state that
//! exists afterwards, so a failure half way records exactly what was made.

use super::ProviderServer;
use super::convert::{decode_or_diag, diagnostics, encode_or_diag};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;
use crate::tfplugin::value::Value;

impl<P: Provider> ProviderServer<P> {
    pub(super) async fn apply_resource_change(
        &self,
        req: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        let mut diags = Diagnostics::new();
        // Until something happens, what exists is what existed.
        let mut new_state = req.prior_state.clone();
        if let Some(r) = self.resource(&req.type_name, &mut diags) {
            let decoded = (
                decode_or_diag(req.prior_state.as_ref(), &r.ty, "prior state", &mut diags),
                decode_or_diag(
                    req.planned_state.as_ref(),
                    &r.ty,
                    "planned state",
                    &mut diags,
                ),
            );
            if let (Some(prior), Some(planned)) = decoded
                && let Some(client) = self.require_client(&mut diags)
            {
                let after = if planned.is_null() {
                    r.imp.delete(&client, &prior, &mut diags).await;
                    if diags.has_errors() {
                        prior
                    } else {
                        Value::Null
                    }
                } else if prior.is_null() {
                    r.imp.create(&client, &planned, &mut diags).await
                } else {
                    r.imp.update(&client, &prior, &planned, &mut diags).await
                };
                let after = if after.is_wholly_known() {
                    after
                } else {
                    if !diags.has_errors() {
                        diags.error(
                            "Provider left values unknown after apply",
                            format!(
                                "{} returned unknown values after apply; they are recorded as \
                                 null. This is a bug in the provider.",
                                req.type_name
                            ),
                        );
                    }
                    after.unknowns_to_null()
                };
                if let Some(dv) = encode_or_diag(&after, &r.ty, "new state", &mut diags) {
                    new_state = Some(dv);
                }
            }
        }
        pb::apply_resource_change::Response {
            new_state,
            private: req.planned_private,
            diagnostics: diagnostics(diags),
            legacy_type_system: false,
        }
    }
}
