//! Tests of step compilation, by concern: CDK's own cases as tables (`cdk`), its property
//! tests over generated schedules (`properties`), normalisation details (`normalise`),
//! conflicts between policies (`overlaps`) and the checks beyond CDK (`validation`).

use super::overlap::absolute;
use super::*;

const INF: f64 = f64::INFINITY;

fn step(lower: Option<f64>, upper: Option<f64>, change: f64) -> StepInput {
    StepInput {
        lower,
        upper,
        change,
    }
}

fn below(upper: f64, change: f64) -> StepInput {
    step(None, Some(upper), change)
}

fn above(lower: f64, change: f64) -> StepInput {
    step(Some(lower), None, change)
}

fn between(lower: f64, upper: f64, change: f64) -> StepInput {
    step(Some(lower), Some(upper), change)
}

fn adj(lower: Option<f64>, upper: Option<f64>, scaling: i32) -> StepAdjustment {
    StepAdjustment {
        lower_bound: lower,
        upper_bound: upper,
        scaling_adjustment: scaling,
    }
}

fn piece(lower: f64, upper: f64, change: Option<i32>) -> (f64, f64, Option<i32>) {
    (lower, upper, change)
}

fn line_of(compiled: &CompiledSteps) -> Vec<(f64, f64, Option<i32>)> {
    compiled
        .intervals
        .iter()
        .map(|i| (i.lower, i.upper, i.change))
        .collect()
}

fn ok(steps: &[StepInput], adjustment: AdjustmentType) -> CompiledSteps {
    match compile(steps, adjustment) {
        Ok(compiled) => compiled,
        Err(errors) => panic!("expected the steps to compile, got {errors:#?}"),
    }
}

fn errors(steps: &[StepInput], adjustment: AdjustmentType) -> Vec<StepError> {
    match compile(steps, adjustment) {
        Ok(compiled) => panic!("expected errors, got {compiled:#?}"),
        Err(errors) => errors,
    }
}

fn lower_policy(compiled: &CompiledSteps) -> &AlarmPolicy {
    compiled.lower.as_ref().expect("a lower alarm")
}

fn upper_policy(compiled: &CompiledSteps) -> &AlarmPolicy {
    compiled.upper.as_ref().expect("an upper alarm")
}

fn range(lower: f64, lower_inclusive: bool, upper: f64, upper_inclusive: bool) -> MetricRange {
    MetricRange {
        lower,
        lower_inclusive,
        upper,
        upper_inclusive,
    }
}

/// Policy A of the source stack: tasks by backlog, `ChangeInCapacity`.
fn source_policy_a() -> Vec<StepInput> {
    vec![
        below(0.0, -1.0),
        above(1.0, 1.0),
        above(5.0, 3.0),
        above(10.0, 5.0),
    ]
}

/// Policy B of the source stack: percent of tasks by backlog.
fn source_policy_b() -> Vec<StepInput> {
    vec![below(10.0, -10.0), above(15.0, 67.0)]
}

mod cdk;
mod normalise;
mod overlaps;
mod properties;
mod validation;
