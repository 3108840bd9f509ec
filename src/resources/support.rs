//! Small helpers shared by the resources: AWS errors as diagnostics, name validation,
//! reading known values from configuration.

use crate::aws::AwsError;
use crate::tfplugin::{AttrPath, Diagnostics, Value};

/// Reports an AWS failure: the summary says what failed, the detail has AWS's words.
pub fn aws_error(diags: &mut Diagnostics, e: &AwsError) {
    let summary = match e {
        AwsError::NotFound { what, .. } => format!("{} not found", capitalize(what)),
        AwsError::Api { action, .. }
        | AwsError::Timeout { action, .. }
        | AwsError::Stopped { action, .. } => {
            format!("{} failed", capitalize(action))
        }
    };
    diags.error(summary, e.to_string());
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Checks an ECS cluster or service name (1–255 letters, digits, hyphens, underscores),
/// with a hint when an ARN was given instead.
pub fn validate_ecs_name(config: &Value, attr: &str, diags: &mut Diagnostics) {
    let Some(name) = config.get(attr).as_str() else {
        return;
    };
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        let hint = if name.starts_with("arn:") {
            " Give the name, not the ARN (the name is the part after the last '/')."
        } else {
            ""
        };
        diags.error_at(
            AttrPath::root(attr),
            format!("Invalid {attr}"),
            format!(
                "{name:?} is not an ECS name: use 1 to 255 letters, digits, hyphens and \
                 underscores.{hint}"
            ),
        );
    }
}

/// A known whole number ≥ `min` at `attr`, reporting a diagnostic for anything else that
/// is known. `None` for null, unknown or invalid values.
pub fn whole_number_at_least(
    config: &Value,
    attr: &str,
    min: i64,
    diags: &mut Diagnostics,
) -> Option<i64> {
    let n = config.get(attr).as_f64()?;
    if n.fract() != 0.0 || n < min as f64 || n > f64::from(i32::MAX) {
        diags.error_at(
            AttrPath::root(attr),
            format!("Invalid {attr}"),
            format!("{attr} must be a whole number of at least {min}, not {n}."),
        );
        return None;
    }
    Some(n as i64)
}

/// A number attribute as `i32`, when known.
pub fn int_at(v: &Value, attr: &str) -> Option<i32> {
    v.get(attr).as_i64().and_then(|n| i32::try_from(n).ok())
}

/// Checks the `name` of a resource whose AWS object names are built from it: 1 to
/// `max_len` letters, digits, `.`, `_` or `-`.
pub fn validate_object_name(
    config: &Value,
    max_len: usize,
    objects: &str,
    diags: &mut Diagnostics,
) {
    let Some(name) = config.get("name").as_str() else {
        return;
    };
    let ok = !name.is_empty()
        && name.len() <= max_len
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !ok {
        diags.error_at(
            AttrPath::root("name"),
            "Invalid name",
            format!(
                "{name:?}: use 1 to {max_len} letters, digits, '.', '_' or '-' (the {objects} \
                 names are built from it)."
            ),
        );
    }
}

/// A number recovered from AWS as the decimal a person would write (`0.1`, not the
/// nearest float64), so it equals a configured value exactly.
pub fn decimal(x: f64) -> Value {
    crate::tfplugin::Number::parse(&crate::scaling::backlog_policy::fmt_number(x))
        .map_or_else(|| Value::number(x), Value::Number)
}

/// An object of `schema`'s type with every attribute null: the start of an imported state.
pub fn null_object(schema: &crate::tfplugin::Schema) -> Value {
    match schema.value_type() {
        crate::tfplugin::Type::Object(attrs) => {
            Value::Object(attrs.into_keys().map(|k| (k, Value::Null)).collect())
        }
        _ => Value::Null,
    }
}

/// Why a plan could not be applied: what `validate` finds in it now that every input is
/// known (an input that was unknown at plan may turn out invalid), else that some input is
/// still unknown.
pub fn incomplete(
    planned: &Value,
    validate: fn(&Value, &mut Diagnostics),
    diags: &mut Diagnostics,
) {
    let mut found = Diagnostics::new();
    validate(planned, &mut found);
    if found.has_errors() {
        diags.extend(found);
    } else {
        diags.error("Incomplete plan", "Every input must be known at apply.");
    }
}
