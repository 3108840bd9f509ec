//! terraform-provider-queuescale: a Terraform provider that scales ECS services on their
//! SQS backlog with Application Auto Scaling and CloudWatch metric-math alarms.
//!
//! Layers, top to bottom: [`plugin`] (go-plugin transport), [`tfplugin`] (protocol SDK),
//! [`provider`] with [`resources`], [`data_sources`] and [`functions`], then [`scaling`]
//! (pure domain logic), [`sim`] (the simulator of the compiled objects) and `aws` (API
//! access).

pub mod aws;
pub mod compare;
pub mod data_sources;
pub mod docs;
pub mod functions;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod scaling;
pub mod sim;
pub mod simulate;
pub mod tfplugin;
