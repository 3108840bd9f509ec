//! The kinds a step policy is made of, by the names AWS uses: adjustment types,
//! aggregation types (and the one CDK picks by default), alarm sides and their comparison
//! operators.

/// How a step's `change` is applied to the current capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AdjustmentType {
    /// Add `change` tasks (negative removes). CDK's default.
    #[default]
    ChangeInCapacity,
    /// Add `change` percent of the current capacity (negative removes).
    PercentChangeInCapacity,
    /// Set the capacity to exactly `change`.
    ExactCapacity,
}

impl AdjustmentType {
    /// The name AWS uses for this adjustment type.
    #[must_use]
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            Self::ChangeInCapacity => "ChangeInCapacity",
            Self::PercentChangeInCapacity => "PercentChangeInCapacity",
            Self::ExactCapacity => "ExactCapacity",
        }
    }

    /// Parses the name AWS uses (exact spelling); `None` for anything else.
    #[must_use]
    pub fn from_aws_str(name: &str) -> Option<Self> {
        match name {
            "ChangeInCapacity" => Some(Self::ChangeInCapacity),
            "PercentChangeInCapacity" => Some(Self::PercentChangeInCapacity),
            "ExactCapacity" => Some(Self::ExactCapacity),
            _ => None,
        }
    }

    /// Whether `change` is a target capacity rather than a difference. For absolute changes
    /// a `change` of 0 is a real action ("set to 0"); for relative ones it means "no action".
    #[must_use]
    pub const fn is_absolute(self) -> bool {
        matches!(self, Self::ExactCapacity)
    }
}

/// How AWS aggregates the alarm's datapoints for a step policy (`MetricAggregationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregationType {
    /// `Average`; also what AWS assumes when the field is unset.
    Average,
    /// `Minimum`.
    Minimum,
    /// `Maximum`.
    Maximum,
}

impl AggregationType {
    /// The name AWS uses for this aggregation type.
    #[must_use]
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            Self::Average => "Average",
            Self::Minimum => "Minimum",
            Self::Maximum => "Maximum",
        }
    }
}

/// The `MetricAggregationType` CDK picks when the user sets none.
///
/// `statistic` is the alarm metric's statistic, or `None` when the alarm watches a metric
/// math expression. Like CDK, the simple statistics are recognised in any letter case and by
/// their short names (`avg`, `min`, `max`): Average, Minimum and Maximum map to themselves,
/// every other statistic (`Sum`, `SampleCount`, percentiles such as `p99`, ...) maps to Average,
/// and a math expression leaves the field unset. A CDK metric without an explicit statistic
/// uses Average, so callers whose statistic defaulted should pass `Some("Average")`.
#[must_use]
pub fn default_aggregation(statistic: Option<&str>) -> Option<AggregationType> {
    let statistic = statistic?;
    Some(match statistic.to_ascii_lowercase().as_str() {
        "minimum" | "min" => AggregationType::Minimum,
        "maximum" | "max" => AggregationType::Maximum,
        _ => AggregationType::Average,
    })
}

/// Which of the (up to) two alarms a policy belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlarmSide {
    /// The alarm below the no-action gap: fires when the metric is at or below its threshold.
    Lower,
    /// The alarm above the no-action gap: fires when the metric is at or above its threshold.
    Upper,
}

impl AlarmSide {
    /// The alarm's comparison operator.
    #[must_use]
    pub const fn comparison(self) -> ComparisonOperator {
        match self {
            Self::Lower => ComparisonOperator::LessThanOrEqualToThreshold,
            Self::Upper => ComparisonOperator::GreaterThanOrEqualToThreshold,
        }
    }

    /// The alarm description CDK writes for this side.
    #[must_use]
    pub const fn cdk_alarm_description(self) -> &'static str {
        match self {
            Self::Lower => "Lower threshold scaling alarm",
            Self::Upper => "Upper threshold scaling alarm",
        }
    }
}

/// A CloudWatch alarm comparison operator, limited to the two that step scaling uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComparisonOperator {
    /// `LessThanOrEqualToThreshold` (the lower alarm).
    LessThanOrEqualToThreshold,
    /// `GreaterThanOrEqualToThreshold` (the upper alarm).
    GreaterThanOrEqualToThreshold,
}

impl ComparisonOperator {
    /// The name CloudWatch uses for this operator.
    #[must_use]
    pub const fn as_aws_str(self) -> &'static str {
        match self {
            Self::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Self::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
        }
    }
}
