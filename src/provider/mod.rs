//! The `queuescale` provider: its configuration block and the types it serves.
//!
//! Owns wiring only: configuration is parsed in `config.rs`, the files it names read in
//! `files.rs`, AWS clients built in `client.rs`; resources, data sources and functions live in their own modules.

pub mod client;
pub mod config;
pub mod files;

use std::sync::Arc;

use async_trait::async_trait;

pub use client::Clients;

use crate::data_sources::backlog_target::BacklogTarget;
use crate::data_sources::scaling_simulation::ScalingSimulation;
use crate::functions::backlog_target::BacklogTargetFn;
use crate::resources::scalable_target::ScalableTarget;
use crate::resources::sqs_backlog_scaling_policy::SqsBacklogScalingPolicy;
use crate::resources::step_scaling_policy::StepScalingPolicy;
use crate::tfplugin::{
    ConfigureRequest, DataSource, Diagnostics, Function, Provider, Resource, Schema, Value,
};

/// The provider's local name.
pub const NAME: &str = "queuescale";

/// The `queuescale` provider.
#[derive(Debug, Default)]
pub struct Queuescale;

#[async_trait]
impl Provider for Queuescale {
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        NAME
    }

    fn schema(&self) -> Schema {
        config::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, diags);
    }

    async fn configure(
        &self,
        req: ConfigureRequest<'_>,
        diags: &mut Diagnostics,
    ) -> Option<Clients> {
        if !req.config.is_wholly_known() {
            tracing::info!("provider configuration not known yet; deferring AWS set-up to apply");
            return None;
        }
        config::validate(req.config, diags);
        if diags.has_errors() {
            return None;
        }
        let cfg = config::parse(req.config);
        tracing::debug!(terraform_version = req.terraform_version, config = ?cfg, "configuring");
        let shared = files::read_shared_files(&cfg, diags).await?;
        match client::connect(&cfg, &shared, req.stop).await {
            Ok(c) => Some(c),
            Err(e) => {
                diags.error("Cannot configure AWS access", e.to_string());
                None
            }
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Clients>>> {
        vec![
            Arc::new(ScalableTarget),
            Arc::new(SqsBacklogScalingPolicy),
            Arc::new(StepScalingPolicy),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Clients>>> {
        vec![Arc::new(BacklogTarget), Arc::new(ScalingSimulation)]
    }

    fn functions(&self) -> Vec<Arc<dyn Function>> {
        vec![Arc::new(BacklogTargetFn)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::backlog;

    /// The meaning of acceptable latency the docs give.
    const MEANING: &str = "a message may wait before a task starts on it";

    fn latency_description(schema: &Schema) -> String {
        schema
            .block
            .attributes
            .iter()
            .find(|a| a.name == "acceptable_latency_seconds")
            .map(|a| a.description.clone())
            .expect("an acceptable_latency_seconds attribute")
    }

    #[test]
    fn acceptable_latency_means_the_wait_before_work_starts_everywhere() {
        let provider = Queuescale;
        let resource = provider
            .resources()
            .into_iter()
            .find(|r| r.type_name() == "queuescale_sqs_backlog_scaling_policy")
            .expect("the backlog resource");
        let data_source = provider
            .data_sources()
            .into_iter()
            .find(|d| d.type_name() == "queuescale_backlog_target")
            .expect("the data source");
        let function = provider
            .functions()
            .into_iter()
            .find(|f| f.name() == "backlog_target")
            .expect("the function");
        let parameter = function.signature().parameters[0].description.clone();
        for (what, text) in [
            ("resource", latency_description(&resource.schema())),
            ("data source", latency_description(&data_source.schema())),
            ("function", parameter),
        ] {
            assert!(text.contains(MEANING), "{what}: {text}");
        }
        let error = backlog::target_backlog_per_task(0.05, 0.1, 1.0)
            .expect_err("latency below processing time")
            .message;
        assert!(error.contains("before work on it starts"), "{error}");
        assert!(!error.contains("done"), "{error}");
    }
}
