//! The errors of step validation: what is wrong, how to fix it, and which setting (and
//! which `step` block) it is about.

use std::fmt;

/// The setting an error is about, so callers can attach it to the right attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The list of `step` blocks, or one block as a whole.
    Step,
    /// A step's `lower`.
    Lower,
    /// A step's `upper`.
    Upper,
    /// A step's `change`.
    Change,
    /// `min_adjustment_magnitude`.
    MinAdjustmentMagnitude,
    /// `evaluation_periods`.
    EvaluationPeriods,
    /// `datapoints_to_alarm`.
    DatapointsToAlarm,
}

/// A problem with the user's settings, with a message saying what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// Index of the user's `step` block at fault (in the user's order), or `None` when the
    /// problem concerns the list as a whole or a setting outside the steps.
    pub step: Option<usize>,
    /// The setting at fault.
    pub field: Field,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl StepError {
    pub(super) fn new(step: Option<usize>, field: Field, message: String) -> Self {
        Self {
            step,
            field,
            message,
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StepError {}
