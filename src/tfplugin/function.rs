//! Provider functions (protocol 6.5, Terraform ≥ 1.8): definitions and errors.
//!
//! Owns the [`Function`] trait. Functions are pure: no client, no I/O.

use super::types::Type;
use super::value::Value;

/// One positional parameter of a function.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Display name, also used in error messages.
    pub name: String,
    /// Type constraint.
    pub ty: Type,
    /// Markdown description.
    pub description: String,
    /// Whether null may be passed (otherwise Terraform rejects it before calling).
    pub allow_null: bool,
}

impl Parameter {
    /// A non-null parameter.
    pub fn new(name: &str, ty: Type, description: &str) -> Parameter {
        Parameter {
            name: name.to_owned(),
            ty,
            description: description.to_owned(),
            allow_null: false,
        }
    }
}

/// What a function takes and returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    /// Positional parameters.
    pub parameters: Vec<Parameter>,
    /// Return type.
    pub returns: Type,
    /// One-line summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
}

/// A function call that failed, optionally blaming one argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct FunctionError {
    /// What went wrong, naming the argument when there is one.
    pub text: String,
    /// Zero-based index of the argument at fault.
    pub argument: Option<usize>,
}

impl FunctionError {
    /// An error caused by argument `index`.
    pub fn argument(index: usize, text: impl Into<String>) -> FunctionError {
        FunctionError {
            text: text.into(),
            argument: Some(index),
        }
    }
}

/// A provider function, called as `provider::NAME::FUNCTION(...)`.
pub trait Function: Send + Sync {
    /// The function name.
    fn name(&self) -> &'static str;

    /// Its signature.
    fn signature(&self) -> Signature;

    /// Calls it with arguments already checked against the signature's types.
    ///
    /// # Errors
    /// [`FunctionError`] naming the argument at fault.
    fn call(&self, args: &[Value]) -> Result<Value, FunctionError>;
}
