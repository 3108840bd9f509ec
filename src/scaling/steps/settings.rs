//! The settings around the steps: the alarm's `evaluation_periods` and
//! `datapoints_to_alarm` (checked as CDK's `StepScalingPolicy` checks them), and
//! `min_adjustment_magnitude`.

use super::error::{Field, StepError};
use super::kinds::AdjustmentType;

/// The alarm's evaluation settings after validation and CDK's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmPeriods {
    /// `EvaluationPeriods`; CDK's default is 1.
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm`, passed through as given; when unset, CloudWatch uses
    /// `EvaluationPeriods`.
    pub datapoints_to_alarm: Option<u32>,
}

/// Validates `evaluation_periods` and `datapoints_to_alarm` as CDK's `StepScalingPolicy`
/// does and applies its default of one evaluation period.
///
/// # Errors
///
/// One [`StepError`] per problem (CDK stops at the first): `evaluation_periods` below 1;
/// `datapoints_to_alarm` set without `evaluation_periods`; `datapoints_to_alarm` below 1;
/// `datapoints_to_alarm` above `evaluation_periods`; a value too large for CloudWatch's
/// 32-bit field.
pub fn alarm_periods(
    evaluation_periods: Option<i64>,
    datapoints_to_alarm: Option<i64>,
) -> Result<AlarmPeriods, Vec<StepError>> {
    let mut errors = Vec::new();
    let evaluation = match evaluation_periods.map(|value| {
        period_count(
            value,
            Field::EvaluationPeriods,
            "use 1 to act on a single datapoint",
        )
    }) {
        None => Some(1),
        Some(Ok(count)) => Some(count),
        Some(Err(error)) => {
            errors.push(error);
            None
        }
    };
    let mut datapoints = None;
    if let Some(value) = datapoints_to_alarm {
        if evaluation_periods.is_none() {
            errors.push(StepError::new(
                None,
                Field::DatapointsToAlarm,
                "datapoints_to_alarm is set but evaluation_periods is not; set evaluation_periods \
                 to the number of periods the alarm looks back over (\"M out of N\" needs both)"
                    .to_owned(),
            ));
        }
        match period_count(
            value,
            Field::DatapointsToAlarm,
            "leave it unset to require every evaluated datapoint to breach",
        ) {
            Ok(count) => {
                datapoints = Some(count);
                if let Some(periods) =
                    evaluation.filter(|e| evaluation_periods.is_some() && count > *e)
                {
                    errors.push(StepError::new(
                        None,
                        Field::DatapointsToAlarm,
                        format!(
                            "datapoints_to_alarm ({count}) cannot be more than evaluation_periods \
                             ({periods}); lower datapoints_to_alarm or raise evaluation_periods"
                        ),
                    ));
                }
            }
            Err(error) => errors.push(error),
        }
    }
    match evaluation {
        Some(evaluation_periods) if errors.is_empty() => Ok(AlarmPeriods {
            evaluation_periods,
            datapoints_to_alarm: datapoints,
        }),
        _ => Err(errors),
    }
}

/// A count of periods or datapoints: at least 1 and within CloudWatch's 32-bit integers.
fn period_count(value: i64, field: Field, hint: &str) -> Result<u32, StepError> {
    let name = match field {
        Field::DatapointsToAlarm => "datapoints_to_alarm",
        _ => "evaluation_periods",
    };
    if value < 1 {
        return Err(StepError::new(
            None,
            field,
            format!("{name} must be at least 1, got {value}; {hint}"),
        ));
    }
    i32::try_from(value)
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            StepError::new(
                None,
                field,
                format!(
                    "{name} is too large ({value}); CloudWatch accepts at most {}",
                    i32::MAX
                ),
            )
        })
}

/// Validates `min_adjustment_magnitude` against the adjustment type.
///
/// AWS uses it only to round small `PercentChangeInCapacity` results up to a minimum number
/// of tasks. CDK passes it through whatever the type; we refuse it elsewhere, where it would
/// have no effect.
///
/// # Errors
///
/// A [`StepError`] when the value is set with another adjustment type, is negative, or does
/// not fit AWS's 32-bit field.
pub fn validate_min_adjustment_magnitude(
    value: Option<i64>,
    adjustment: AdjustmentType,
) -> Result<Option<i32>, StepError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if adjustment != AdjustmentType::PercentChangeInCapacity {
        return Err(StepError::new(
            None,
            Field::MinAdjustmentMagnitude,
            format!(
                "min_adjustment_magnitude only applies with adjustment_type \
                 PercentChangeInCapacity, but adjustment_type is {}; remove it",
                adjustment.as_aws_str()
            ),
        ));
    }
    if value < 0 {
        return Err(StepError::new(
            None,
            Field::MinAdjustmentMagnitude,
            format!(
                "min_adjustment_magnitude is a number of tasks and cannot be negative, got {value}"
            ),
        ));
    }
    i32::try_from(value).map(Some).map_err(|_| {
        StepError::new(
            None,
            Field::MinAdjustmentMagnitude,
            format!("min_adjustment_magnitude is too large ({value})"),
        )
    })
}
