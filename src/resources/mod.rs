//! The provider's managed resources, one module each, plus shared helpers.

pub mod scalable_target;
pub mod support;
pub mod tags;
