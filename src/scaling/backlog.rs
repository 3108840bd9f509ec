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

/// Largest target value Application Auto Scaling accepts: "Values must be in the range of
/// -2^360 to 2^360" (API reference, `TargetTrackingScalingPolicyConfiguration.TargetValue`).
pub const MAX_TARGET: f64 = 2.348_542_582_773_833_2e108;

/// Smallest positive target value: 2^-360, the lower end DynamoDB's description of the same
/// Application Auto Scaling field gives ("8.515920e-109 to 1.174271e+108 (Base 10) or
/// 2e-360 to 2e360 (Base 2)"); Application Auto Scaling's own reference only says values
/// may be "too small", so the base-2 bound is assumed for it.
pub const MIN_TARGET: f64 = 4.257_959_840_008_151e-109;

/// Checks one time input: finite and greater than zero.
///
/// Messages are sentence fragments without a final period, to follow the input's name
/// (callers add the period where their medium wants one).
///
/// # Errors
/// [`BacklogError`] for the given `input`.
pub fn check_seconds(input: BacklogInput, seconds: f64) -> Result<(), BacklogError> {
    let message = if seconds.is_infinite() {
        "must be a number of seconds greater than 0; this one is too large to compute with \
         (the largest is about 1.8e308)"
            .to_owned()
    } else if seconds.is_nan() || seconds <= 0.0 {
        format!("must be a number of seconds greater than 0, not {seconds}")
    } else {
        return Ok(());
    };
    Err(BacklogError { input, message })
}

/// Checks the parallelism: a whole number, at least 1.
///
/// # Errors
/// [`BacklogError`] for [`BacklogInput::Parallelism`].
pub fn check_parallelism(parallel: f64) -> Result<(), BacklogError> {
    if !parallel.is_finite() || parallel < 1.0 || parallel.fract() != 0.0 {
        return Err(BacklogError {
            input: BacklogInput::Parallelism,
            message: if parallel.is_infinite() {
                "must be a whole number of messages, at least 1; this one is too large to \
                 compute with"
                    .to_owned()
            } else {
                format!("must be a whole number of messages, at least 1, not {parallel}")
            },
        });
    }
    Ok(())
}

/// Checks a backlog-per-task target: a number from [`MIN_TARGET`] to [`MAX_TARGET`],
/// which Application Auto Scaling accepts as a target value.
///
/// # Errors
/// A sentence fragment (no final period) saying what is wrong.
pub fn check_target(target: f64) -> Result<(), String> {
    if target.is_nan() || target <= 0.0 {
        Err(format!("must be greater than 0, not {target}"))
    } else if target < MIN_TARGET {
        Err(format!(
            "is {target}, below the smallest target Application Auto Scaling accepts (2^-360, \
             about 4.3e-109)"
        ))
    } else if target > MAX_TARGET {
        Err(format!(
            "is {}, above the largest target Application Auto Scaling accepts (2^360, about \
             2.3e108)",
            if target.is_finite() {
                target.to_string()
            } else {
                "too large to compute with".to_owned()
            }
        ))
    } else {
        Ok(())
    }
}

/// The acceptable backlog per task: `latency ÷ processing × parallel`, rounded to 10
/// significant digits so that decimal inputs give decimal answers (0.3 ÷ 0.1 is 3, not
/// 2.9999999999999996).
///
/// The acceptable latency is the longest a message may wait before a task starts on it.
/// A task that carries `latency ÷ processing` waiting messages starts the last of them
/// within the latency.
///
/// # Guarantees
/// The result is finite and within [`MIN_TARGET`]..=[`MAX_TARGET`].
///
/// # Errors
/// [`BacklogError`] naming the input when a value is not finite or not positive, when the
/// latency is shorter than the processing time (a message queued behind another on the
/// same task already waits longer than that), when the parallelism is not a whole number
/// ≥ 1, or when the result is beyond what Application Auto Scaling accepts (blamed on the
/// latency, the numerator).
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
                 queued behind another on the same task already waits that long before work \
                 on it starts, so a wait of at most {latency} s could only be met by idle tasks"
            ),
        });
    }
    let target = round_significant(latency / processing * parallel, 10);
    check_target(target).map_err(|why| BacklogError {
        input: BacklogInput::AcceptableLatency,
        message: format!(
            "gives a backlog target per task (acceptable latency ÷ average processing time \
             × messages in parallel) that {why}"
        ),
    })?;
    Ok(target)
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
    fn a_ratio_beyond_float64_is_rejected_at_the_latency() {
        let e = target_backlog_per_task(1e308, 1e-308, 1.0).unwrap_err();
        assert_eq!(e.input, BacklogInput::AcceptableLatency);
        assert!(e.message.contains("2^360"), "{}", e.message);
        assert!(!e.message.contains("inf"), "{}", e.message);
    }

    #[test]
    fn a_ratio_beyond_what_aas_accepts_is_rejected_at_the_latency() {
        let e = target_backlog_per_task(1e109, 1.0, 1.0).unwrap_err();
        assert_eq!(e.input, BacklogInput::AcceptableLatency);
        assert_eq!(target_backlog_per_task(1e108, 1.0, 1.0), Ok(1e108));
    }

    #[test]
    fn parallelism_cannot_push_the_target_past_the_limit() {
        let e = target_backlog_per_task(1e100, 1.0, 1e9).unwrap_err();
        assert_eq!(e.input, BacklogInput::AcceptableLatency);
    }

    #[test]
    fn every_accepted_target_is_finite_and_within_the_aas_range() {
        for l in [1e-300, 1e-5, 1.0, 1e5, 1e100, 1e300, f64::MAX] {
            for p in [1e-300, 1e-5, 1.0, 1e5, 1e100, 1e300, f64::MAX] {
                for n in [1.0, 10.0, 1e6] {
                    if let Ok(t) = target_backlog_per_task(l, p, n) {
                        assert!(t.is_finite() && (MIN_TARGET..=MAX_TARGET).contains(&t));
                    }
                }
            }
        }
    }

    #[test]
    fn explicit_targets_are_checked_against_the_aas_range() {
        assert!(check_target(0.5).is_ok());
        assert!(check_target(MAX_TARGET).is_ok());
        for bad in [0.0, -1.0, f64::NAN, 1e-200, 1e200, f64::INFINITY] {
            assert!(check_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_end_without_a_period() {
        let errors = [
            target_backlog_per_task(0.05, 0.1, 1.0).unwrap_err().message,
            target_backlog_per_task(f64::INFINITY, 0.1, 1.0)
                .unwrap_err()
                .message,
            target_backlog_per_task(1.0, 0.0, 1.0).unwrap_err().message,
            target_backlog_per_task(1.0, 0.1, 0.5).unwrap_err().message,
            target_backlog_per_task(1e308, 1e-308, 1.0)
                .unwrap_err()
                .message,
        ];
        for m in errors {
            assert!(!m.ends_with('.'), "{m}");
        }
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
