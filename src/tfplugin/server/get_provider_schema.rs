//! GetProviderSchema: every schema, answered from the response built at start-up.

use super::ProviderServer;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn get_provider_schema(
        &self,
        _req: pb::get_provider_schema::Request,
    ) -> pb::get_provider_schema::Response {
        self.inner.schema_response.clone()
    }
}
