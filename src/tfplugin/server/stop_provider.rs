//! StopProvider: cancel work in flight (long waits and retries watch the stop token).

use super::ProviderServer;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn stop_provider(
        &self,
        _req: pb::stop_provider::Request,
    ) -> pb::stop_provider::Response {
        tracing::info!("stop requested: cancelling operations in flight");
        self.inner.stop.cancel();
        pb::stop_provider::Response {
            error: String::new(),
        }
    }
}
