//! The protocol SDK: everything needed to serve Terraform's plugin protocol 6, and nothing
//! about AWS. Values and their wire codecs, schemas, diagnostics, planning rules, the
//! provider/resource/data source/function traits, and the gRPC server.

pub mod diag;
pub mod docs;
pub mod function;
pub mod json;
pub mod msgpack;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod server;
pub mod types;
pub mod value;

/// Generated tfplugin6 messages and service (from `proto/tfplugin6.proto`).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("tfplugin6");
}

pub use diag::{AttrPath, Diagnostic, Diagnostics, Severity};
pub use function::{Function, FunctionError, Parameter, Signature};
pub use resource::{ConfigureRequest, DataSource, PlannedChange, Provider, Resource};
pub use schema::{AttrType, Attribute, Block, NestedBlock, Nesting, Schema};
pub use server::ProviderServer;
pub use types::Type;
pub use value::{Number, Value};
