//! A simulator of one ECS service draining one SQS queue, driven by the very objects the
//! provider compiles (`scaling::model`): CloudWatch alarms with metric math, Application
//! Auto Scaling step and target-tracking policies, and a workload model of the queue and
//! the tasks. Pure and deterministic: one clock, one seeded random generator, no I/O.
//!
//! Every modelled AWS rule names its source where it is applied, and every assumption
//! where AWS publishes none is marked **Assumption**; `docs/guides/simulation.md` lists
//! them all.

mod autoscaling;
pub mod chart;
mod cloudwatch;
mod engine;
pub mod keda;
pub mod math;
mod report;
#[cfg(test)]
mod tests;
pub mod trace;

pub use cloudwatch::{AlarmState, Names};
pub use engine::{
    EcsOptions, Objects, Poller, Processing, QueueView, Scenario, SqsOptions, run, run_with,
    run_with_progress,
};
pub use report::{Minute, Report, ScalingEvent, Summary};

/// Why a simulation cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// An expression does not parse.
    #[error("{owner}: query `{id}`: {error}")]
    Parse {
        /// The alarm or policy.
        owner: String,
        /// The query id.
        id: String,
        /// Where and why.
        #[source]
        error: math::ParseError,
    },
    /// An expression cannot be evaluated.
    #[error("{owner}: query `{id}`: {error}")]
    Eval {
        /// The alarm or policy.
        owner: String,
        /// The query id.
        id: String,
        /// Where and why.
        #[source]
        error: math::EvalError,
    },
    /// The objects cannot be simulated as given.
    #[error("{0}")]
    Setup(String),
}
