//! GetFunctions (6.5): function signatures.

use super::ProviderServer;
use super::convert;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn get_functions(
        &self,
        _req: pb::get_functions::Request,
    ) -> pb::get_functions::Response {
        pb::get_functions::Response {
            functions: self
                .inner
                .functions
                .iter()
                .map(|(n, f)| ((*n).to_owned(), convert::function(&f.signature())))
                .collect(),
            diagnostics: Vec::new(),
        }
    }
}
