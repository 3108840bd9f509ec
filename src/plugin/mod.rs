//! The go-plugin transport: how Terraform starts, trusts, talks to and stops this
//! process. Handshake, AutoMTLS, the controller/stdio/broker services, health,
//! reattach (debug) mode and hclog logging.
//!
//! Owns the process boundary; knows nothing about what the provider manages.

pub mod handshake;
pub mod incoming;
pub mod log;
pub mod serve;
pub mod services;
pub mod tls;

/// Generated go-plugin messages and services (from `proto/plugin/*.proto`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("plugin");
}

pub use serve::{PluginEnv, serve, serve_debug};
