//! Pure scaling logic: no I/O, no Terraform or AWS SDK types. What the resources compile
//! into AWS objects is decided here.

pub mod backlog;
pub mod backlog_policy;
pub mod model;
pub mod show;
pub mod step_policy;
pub mod steps;
