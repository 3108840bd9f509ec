//! Ephemeral resources (6.7): this provider has none, so every call names the mistake.

use super::convert::diagnostics;
use crate::tfplugin::diag::Diagnostics;
use crate::tfplugin::proto as pb;

pub(super) fn unsupported(type_name: &str) -> Vec<pb::Diagnostic> {
    let mut diags = Diagnostics::new();
    diags.error(
        "Unknown ephemeral resource type",
        format!("This provider has no ephemeral resource type {type_name:?}."),
    );
    diagnostics(diags)
}
