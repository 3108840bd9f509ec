//! StopProvider: cancel work in flight. The configured provider's remote calls, retries
//! and waits watch the stop token, so the RPCs in progress answer within moments.

use super::ProviderServer;
use crate::tfplugin::proto as pb;
use crate::tfplugin::resource::Provider;

impl<P: Provider> ProviderServer<P> {
    pub(super) fn stop_provider(
        &self,
        _req: pb::stop_provider::Request,
    ) -> pb::stop_provider::Response {
        tracing::info!("stop requested: cancelling operations in flight");
        self.stop();
        pb::stop_provider::Response {
            error: String::new(),
        }
    }
}
