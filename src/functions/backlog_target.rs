//! `provider::queuescale::backlog_target(latency, processing)`: the same number as the
//! `queuescale_backlog_target` data source, as a function.

use crate::scaling::backlog::{self, BacklogInput};
use crate::tfplugin::{Function, FunctionError, Parameter, Signature, Type, Value};

/// The function.
pub struct BacklogTargetFn;

impl Function for BacklogTargetFn {
    fn name(&self) -> &'static str {
        "backlog_target"
    }

    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "acceptable_latency_seconds",
                    Type::Number,
                    "The longest time, in seconds, a message may wait before a task starts on it.",
                ),
                Parameter::new(
                    "average_processing_seconds",
                    Type::Number,
                    "How long, in seconds, one task takes on average to process one message.",
                ),
            ],
            returns: Type::Number,
            summary: "Acceptable backlog per task for queue-driven scaling".into(),
            description: "Returns `acceptable_latency_seconds / average_processing_seconds`: how \
                          many waiting messages one task can carry while each still starts within \
                          the acceptable latency (`backlog_target(10, 0.1)` is `100`)."
                .into(),
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let arg = |i: usize| {
            args.get(i).and_then(Value::as_f64).ok_or_else(|| {
                FunctionError::argument(i, format!("argument {} must be a known number", i + 1))
            })
        };
        let (latency, processing) = (arg(0)?, arg(1)?);
        backlog::target_backlog_per_task(latency, processing, 1.0)
            .map(Value::number)
            .map_err(|e| {
                let (index, name) = match e.input {
                    BacklogInput::AcceptableLatency => (0, "acceptable_latency_seconds"),
                    BacklogInput::AverageProcessing | BacklogInput::Parallelism => {
                        (1, "average_processing_seconds")
                    }
                };
                // No final period: Terraform shows the text inside its own sentence
                // ("Invalid value for \"…\" parameter: TEXT.").
                FunctionError::argument(index, format!("{name} {}", e.message))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_over_a_tenth_is_one_hundred() {
        let v = BacklogTargetFn
            .call(&[Value::int(10), Value::number(0.1)])
            .unwrap();
        assert_eq!(v, Value::int(100));
    }

    #[test]
    fn errors_name_the_argument() {
        let e = BacklogTargetFn
            .call(&[Value::int(10), Value::int(0)])
            .unwrap_err();
        assert_eq!(e.argument, Some(1));
        assert!(
            e.text.starts_with("average_processing_seconds"),
            "{}",
            e.text
        );
        let e = BacklogTargetFn
            .call(&[Value::number(0.01), Value::number(0.1)])
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
    }

    #[test]
    fn error_texts_end_without_a_period_for_terraform_adds_one() {
        for args in [
            [Value::int(10), Value::int(0)],
            [Value::number(0.01), Value::number(0.1)],
            [Value::number(1e308), Value::number(1e-308)],
        ] {
            let e = BacklogTargetFn.call(&args).unwrap_err();
            assert!(!e.text.ends_with('.'), "{}", e.text);
        }
    }

    #[test]
    fn an_infinite_ratio_is_rejected_at_the_latency_argument() {
        let e = BacklogTargetFn
            .call(&[Value::number(1e308), Value::number(1e-308)])
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
        assert!(
            e.text.starts_with("acceptable_latency_seconds"),
            "{}",
            e.text
        );
    }

    #[test]
    fn a_latency_beyond_float64_is_rejected_not_returned() {
        let huge = crate::tfplugin::Number::parse("1e400").expect("a number");
        let e = BacklogTargetFn
            .call(&[Value::Number(huge), Value::number(0.1)])
            .unwrap_err();
        assert_eq!(e.argument, Some(0));
    }
}
