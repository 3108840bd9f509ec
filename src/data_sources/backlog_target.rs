//! `queuescale_backlog_target`: the acceptable backlog per task, computed from latency
//! and processing time (source document 002's method), for use in any scaling setup.

use async_trait::async_trait;

use crate::provider::Clients;
use crate::scaling::backlog::{self, BacklogInput};
use crate::tfplugin::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

/// The data source.
pub struct BacklogTarget;

const LATENCY: &str = "acceptable_latency_seconds";
const PROCESSING: &str = "average_processing_seconds";
const PARALLEL: &str = "messages_in_parallel_per_task";
const TARGET: &str = "target_backlog_per_task";

/// The attribute that carries a given input.
pub fn attribute_of(input: BacklogInput) -> &'static str {
    match input {
        BacklogInput::AcceptableLatency => LATENCY,
        BacklogInput::AverageProcessing => PROCESSING,
        BacklogInput::Parallelism => PARALLEL,
    }
}

/// Checks whatever inputs are known, each at its own attribute; returns the target when
/// all are known and valid.
fn evaluate(config: &Value, diags: &mut Diagnostics) -> Option<f64> {
    let latency = config.get(LATENCY).as_f64();
    let processing = config.get(PROCESSING).as_f64();
    let parallel = match config.get(PARALLEL) {
        Value::Null => Some(1.0),
        v => v.as_f64(),
    };
    let mut errors = Vec::new();
    if let Some(l) = latency {
        errors.extend(backlog::check_seconds(BacklogInput::AcceptableLatency, l).err());
    }
    if let Some(p) = processing {
        errors.extend(backlog::check_seconds(BacklogInput::AverageProcessing, p).err());
    }
    if let Some(n) = parallel {
        errors.extend(backlog::check_parallelism(n).err());
    }
    let target = if errors.is_empty() {
        match backlog::target_backlog_per_task(latency?, processing?, parallel?) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    } else {
        None
    };
    for e in errors {
        let name = attribute_of(e.input);
        diags.error_at(
            AttrPath::root(name),
            format!("Invalid {name}"),
            format!("{name} {}.", e.message),
        );
    }
    target
}

#[async_trait]
impl DataSource<Clients> for BacklogTarget {
    fn type_name(&self) -> &'static str {
        "queuescale_backlog_target"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(vec![
                Attribute::required(LATENCY, Type::Number).describe(
                    "The longest time, in seconds, a message may wait before a task starts on \
                     it. Must be at least `average_processing_seconds`.",
                ),
                Attribute::required(PROCESSING, Type::Number).describe(
                    "How long, in seconds, one task takes on average to process one message. \
                     Greater than 0.",
                ),
                Attribute::optional(PARALLEL, Type::Number).describe(
                    "How many messages one task processes at the same time (a whole number, at \
                     least 1). Defaults to `1`.",
                ),
                Attribute::computed(TARGET, Type::Number).describe(
                    "The backlog one task can carry and still meet the latency: \
                     `acceptable_latency_seconds / average_processing_seconds × \
                     messages_in_parallel_per_task` (10 s and 0.1 s give 100).",
                ),
            ])
            .describe(
                "Computes the acceptable backlog per task for queue-driven scaling: how many \
                 waiting messages one task can carry while every message still starts within \
                 the acceptable latency. Use it as the target of a backlog-per-task \
                 target-tracking policy.",
            ),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        evaluate(config, diags);
    }

    async fn read(
        &self,
        _client: Option<&Clients>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(target) = evaluate(config, diags) else {
            return Value::Null;
        };
        let mut state = config.clone();
        state.set(TARGET, Value::number(target));
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(l: f64, p: f64, n: Option<f64>) -> Value {
        Value::object([
            (LATENCY, Value::number(l)),
            (PROCESSING, Value::number(p)),
            (PARALLEL, n.map_or(Value::Null, Value::number)),
            (TARGET, Value::Null),
        ])
    }

    #[tokio::test]
    async fn read_fills_the_target_and_keeps_the_inputs() {
        let mut diags = Diagnostics::new();
        let state = BacklogTarget
            .read(None, &config(10.0, 0.1, None), &mut diags)
            .await;
        assert!(diags.is_empty());
        assert_eq!(state.get(TARGET), &Value::int(100));
        assert!(
            state.get(PARALLEL).is_null(),
            "configuration values stay as written"
        );
    }

    #[test]
    fn each_violation_points_at_its_attribute() {
        let mut diags = Diagnostics::new();
        BacklogTarget.validate(&config(-1.0, 0.0, Some(0.5)), &mut diags);
        let paths: Vec<_> = diags
            .iter()
            .map(|d| d.attribute.clone().unwrap().to_string())
            .collect();
        assert_eq!(paths, [LATENCY, PROCESSING, PARALLEL]);
    }

    #[test]
    fn unknown_inputs_are_not_judged_yet() {
        let mut diags = Diagnostics::new();
        let mut c = config(10.0, 0.1, None);
        c.set(LATENCY, Value::Unknown);
        BacklogTarget.validate(&c, &mut diags);
        assert!(diags.is_empty());
    }

    #[tokio::test]
    async fn an_infinite_ratio_is_rejected_at_the_latency_and_never_read() {
        let mut diags = Diagnostics::new();
        let cfg = config(1e308, 1e-308, None);
        BacklogTarget.validate(&cfg, &mut diags);
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        assert_eq!(diags.0[0].attribute, Some(AttrPath::root(LATENCY)));
        let mut diags = Diagnostics::new();
        let state = BacklogTarget.read(None, &cfg, &mut diags).await;
        assert!(diags.has_errors());
        assert!(state.is_null(), "no infinite target in state: {state:?}");
    }

    #[test]
    fn a_latency_beyond_float64_is_reported_at_the_latency() {
        let mut diags = Diagnostics::new();
        let mut c = config(10.0, 0.1, None);
        c.set(
            LATENCY,
            Value::Number(crate::tfplugin::Number::parse("1e400").expect("a number")),
        );
        BacklogTarget.validate(&c, &mut diags);
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        assert_eq!(diags.0[0].attribute, Some(AttrPath::root(LATENCY)));
        assert!(
            diags.0[0].detail.contains("too large"),
            "{}",
            diags.0[0].detail
        );
    }

    #[test]
    fn latency_shorter_than_processing_is_reported_at_the_latency() {
        let mut diags = Diagnostics::new();
        BacklogTarget.validate(&config(0.05, 0.1, None), &mut diags);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(diags.0[0].attribute, Some(AttrPath::root(LATENCY)));
    }
}
