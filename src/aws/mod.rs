//! AWS access, one module per service: finders (AWS "not found" becomes
//! [`AwsError::NotFound`] here, at the lowest level), idempotent writers, and named
//! retries for eventual consistency. Speaks `scaling::model`; knows nothing of Terraform.

pub mod app_autoscaling;
pub mod cloudwatch;
pub mod ecs;
pub mod error;
pub mod retry;
pub mod sqs;

pub use error::{AwsError, ignore_not_found, optional};
