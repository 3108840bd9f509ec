//! PlanResourceChange: schema rules first (defaults, unknowns, replacement), then the
//! resource's own plan modification. Destroy plans (6.3 `plan_destroy`) plan null.

use super::ProviderServer;
use super::convert::{attr_path, decode_or_diag, diagnostics, encode_or_diag};
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::plan;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::{PlannedChange, Provider};

impl<P: Provider> ProviderServer<P> {
    pub(super) async fn plan_resource_change(
        &self,
        req: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        let mut diags = Diagnostics::new();
        let mut resp = pb::plan_resource_change::Response {
            planned_private: req.prior_private.clone(),
            ..Default::default()
        };
        let Some(r) = self.resource(&req.type_name, &mut diags) else {
            resp.diagnostics = diagnostics(diags);
            return resp;
        };
        let decoded = (
            decode_or_diag(req.prior_state.as_ref(), &r.ty, "prior state", &mut diags),
            decode_or_diag(
                req.proposed_new_state.as_ref(),
                &r.ty,
                "proposed state",
                &mut diags,
            ),
            decode_or_diag(req.config.as_ref(), &r.ty, "configuration", &mut diags),
        );
        if let (Some(prior), Some(proposed), Some(config)) = decoded {
            let schema_plan = plan::plan(&r.schema, &prior, &proposed, &config);
            let mut change = PlannedChange {
                prior,
                config,
                planned: schema_plan.planned,
                requires_replace: schema_plan.requires_replace,
            };
            let client = self.client();
            r.imp
                .modify_plan(client.as_deref(), &mut change, &mut diags)
                .await;
            resp.planned_state = encode_or_diag(&change.planned, &r.ty, "plan", &mut diags);
            resp.requires_replace = change.requires_replace.iter().map(attr_path).collect();
        }
        resp.diagnostics = diagnostics(diags);
        resp
    }
}
