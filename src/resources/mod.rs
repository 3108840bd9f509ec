//! The provider's managed resources, one module each, plus shared helpers.

pub mod keep_active;
pub mod notify;
pub mod objects;
pub mod ownership;
pub mod reconcile;
pub mod scalable_target;
pub mod sqs_backlog_scaling_policy;
pub mod step_scaling_policy;
pub mod support;
pub mod tags;
