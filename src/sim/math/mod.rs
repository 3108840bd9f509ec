//! CloudWatch metric math: a parser with byte positions ([`parse`]) and an evaluator over
//! series on one time grid ([`eval`]). Pure; knows nothing of alarms or where the series
//! come from.
//!
//! The parser accepts the whole documented syntax (any uppercase function name), so
//! plan-time validation can check users' expressions and list the ids they read
//! ([`Expr::referenced_ids`]); the evaluator runs the functions the simulator needs.

mod eval;
mod parse;

pub use eval::{Context, EvalError, Series, Value, eval};
pub use parse::{BinaryOp, Expr, ExprKind, ParseError, UnaryOp, parse};
