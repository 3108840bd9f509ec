//! GetMetadata (6.4): capabilities and type names, without schemas.

use super::{ProviderServer, capabilities};
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

use pb::get_metadata as m;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn get_metadata(&self, _req: m::Request) -> m::Response {
        let mut resources: Vec<_> = self.inner.resources.keys().collect();
        let mut data_sources: Vec<_> = self.inner.data_sources.keys().collect();
        let mut functions: Vec<_> = self.inner.functions.keys().collect();
        resources.sort();
        data_sources.sort();
        functions.sort();
        m::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            resources: resources
                .into_iter()
                .map(|n| m::ResourceMetadata {
                    type_name: (*n).to_owned(),
                })
                .collect(),
            data_sources: data_sources
                .into_iter()
                .map(|n| m::DataSourceMetadata {
                    type_name: (*n).to_owned(),
                })
                .collect(),
            functions: functions
                .into_iter()
                .map(|n| m::FunctionMetadata {
                    name: (*n).to_owned(),
                })
                .collect(),
            ephemeral_resources: Vec::new(),
        }
    }
}
