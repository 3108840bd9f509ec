//! The provider's data sources.

pub mod backlog_target;
pub mod scaling_simulation;
