//! The backlog-per-task method of AWS's "scaling policy based on Amazon SQS" guide:
//! acceptable backlog per task = acceptable latency ÷ average processing time per message
//! (× messages processed in parallel by one task).
//!
//! Pure arithmetic and its validation; no I/O, no Terraform types.

/// Which input is wrong, so callers can point at their own attribute or argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BacklogInput {
    /// The acceptable latency, in seconds.
    AcceptableLatency,
    /// The average processing time per message, in seconds.
    AverageProcessing,
    /// Messages one task processes at the same time.
    Parallelism,
}

/// An input that makes the target meaningless.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BacklogError {
    /// The input at fault.
    pub input: BacklogInput,
    /// What is wrong and what to do.
    pub message: String,
}

/// Checks one time input: finite and greater than zero.
///
/// # Errors
/// [`BacklogError`] for the given `input`.
pub fn check_seconds(input: BacklogInput, seconds: f64) -> Result<(), BacklogError> {
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(BacklogError {
            input,
            message: format!("must be a finite number of seconds greater than 0, not {seconds}"),
        });
    }
    Ok(())
}

/// Checks the parallelism: a whole number, at least 1.
///
/// # Errors
/// [`BacklogError`] for [`BacklogInput::Parallelism`].
pub fn check_parallelism(parallel: f64) -> Result<(), BacklogError> {
    if !parallel.is_finite() || parallel < 1.0 || parallel.fract() != 0.0 {
        return Err(BacklogError {
            input: BacklogInput::Parallelism,
            message: format!("must be a whole number of messages, at least 1, not {parallel}"),
        });
    }
    Ok(())
}

/// The acceptable backlog per task: `latency ÷ processing × parallel`, rounded to 10
/// significant digits so that decimal inputs give decimal answers (0.3 ÷ 0.1 is 3, not
/// 2.9999999999999996).
///
/// # Errors
/// [`BacklogError`] naming the input when a value is not finite or not positive, when the
/// latency is shorter than the processing time (a task could not meet it even with an
/// empty queue), or when the parallelism is not a whole number ≥ 1.
pub fn target_backlog_per_task(
    latency: f64,
    processing: f64,
    parallel: f64,
) -> Result<f64, BacklogError> {
    check_seconds(BacklogInput::AcceptableLatency, latency)?;
    check_seconds(BacklogInput::AverageProcessing, processing)?;
    check_parallelism(parallel)?;
    if latency < processing {
        return Err(BacklogError {
            input: BacklogInput::AcceptableLatency,
            message: format!(
                "must be at least the average processing time ({processing} s): a message \
                 cannot be done sooner than it takes to process, so {latency} s is unreachable"
            ),
        });
    }
    Ok(round_significant(latency / processing * parallel, 10))
}

/// Rounds `x` to `digits` significant decimal digits.
pub fn round_significant(x: f64, digits: usize) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", digits.saturating_sub(1), x)
        .parse()
        .unwrap_or(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_example_ten_seconds_over_a_tenth_is_one_hundred() {
        assert_eq!(target_backlog_per_task(10.0, 0.1, 1.0), Ok(100.0));
    }

    #[test]
    fn parallel_messages_multiply_the_target() {
        assert_eq!(target_backlog_per_task(10.0, 0.1, 4.0), Ok(400.0));
    }

    #[test]
    fn decimal_inputs_give_decimal_answers() {
        assert_eq!(target_backlog_per_task(0.3, 0.1, 1.0), Ok(3.0));
        assert_eq!(target_backlog_per_task(1.0, 0.3, 1.0), Ok(3.333333333));
    }

    #[test]
    fn latency_below_processing_time_blames_the_latency() {
        let e = target_backlog_per_task(0.05, 0.1, 1.0).unwrap_err();
        assert_eq!(e.input, BacklogInput::AcceptableLatency);
    }

    #[test]
    fn each_bad_input_is_named() {
        let cases = [
            (0.0, 0.1, 1.0, BacklogInput::AcceptableLatency),
            (f64::INFINITY, 0.1, 1.0, BacklogInput::AcceptableLatency),
            (10.0, -1.0, 1.0, BacklogInput::AverageProcessing),
            (10.0, f64::NAN, 1.0, BacklogInput::AverageProcessing),
            (10.0, 0.1, 0.0, BacklogInput::Parallelism),
            (10.0, 0.1, 1.5, BacklogInput::Parallelism),
        ];
        for (l, p, n, input) in cases {
            assert_eq!(
                target_backlog_per_task(l, p, n).unwrap_err().input,
                input,
                "{l} {p} {n}"
            );
        }
    }
}
