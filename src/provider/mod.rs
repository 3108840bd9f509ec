//! The `queuescale` provider: its configuration block and the types it serves.
//!
//! Owns wiring only: configuration is parsed in `config.rs`, AWS clients built in
//! `client.rs`; resources, data sources and functions live in their own modules.

pub mod client;
pub mod config;

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
        match client::connect(&cfg, req.stop).await {
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
