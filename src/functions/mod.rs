//! The provider's functions (Terraform ≥ 1.8).

pub mod backlog_target;
