//! The provider's managed resources, one module each, plus shared helpers.

pub mod tags;
