//! Decoding of JSON values shaped by a type: the `raw_state` of UpgradeResourceState.
//!
//! Owns only JSON → [`Value`]. Terraform stores state as JSON and sends it back as JSON
//! (Terraform 1.0.3 does so on every run); providers always answer in msgpack.

use std::collections::BTreeMap;

use serde_json::Value as J;

use super::msgpack::{CodecError, err};
use super::types::Type;
use super::value::{Number, Value};

/// What to do with object attributes that the type does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownAttributes {
    /// Report them as errors.
    Reject,
    /// Drop them silently (used for state written by an older schema whose attributes
    /// have since been removed).
    Ignore,
}

/// Decodes JSON `bytes` as a value of type `ty`. Empty input is null.
///
/// # Errors
/// [`CodecError`] when the bytes are not JSON or do not fit the type. Never panics.
pub fn decode(bytes: &[u8], ty: &Type, unknown: UnknownAttributes) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let j: J = serde_json::from_slice(bytes).map_err(|e| err("", format!("invalid JSON: {e}")))?;
    convert(&j, ty, unknown, &mut String::new())
}

fn convert(
    j: &J,
    ty: &Type,
    unknown: UnknownAttributes,
    path: &mut String,
) -> Result<Value, CodecError> {
    if j.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Bool => j
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| err(path, "expected a bool")),
        Type::Number => {
            let text = match j {
                J::Number(n) => n.to_string(),
                J::String(s) => s.clone(),
                _ => return Err(err(path, "expected a number")),
            };
            Number::parse(&text)
                .map(Value::Number)
                .ok_or_else(|| err(path, format!("{text:?} is not a number")))
        }
        Type::String => match j {
            J::String(s) => Ok(Value::String(s.clone())),
            // Terraform's JSON state may hold primitive values of other kinds where a
            // string is expected after a type change; convert them as Terraform would.
            J::Number(n) => Ok(Value::String(n.to_string())),
            J::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(err(path, "expected a string")),
        },
        Type::Dynamic => {
            let J::Object(o) = j else {
                return Err(err(path, "dynamic value must be {\"value\":…,\"type\":…}"));
            };
            let (Some(v), Some(t)) = (o.get("value"), o.get("type")) else {
                return Err(err(path, "dynamic value must be {\"value\":…,\"type\":…}"));
            };
            let concrete = Type::from_json(t).map_err(|e| err(path, e.0))?;
            convert(v, &concrete, unknown, path)
        }
        Type::List(et) | Type::Set(et) => {
            let J::Array(items) = j else {
                return Err(err(path, "expected an array"));
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(convert(item, et, unknown, path)?);
                path.truncate(n);
            }
            Ok(if matches!(ty, Type::List(_)) {
                Value::List(out)
            } else {
                Value::Set(out)
            })
        }
        Type::Tuple(types) => {
            let J::Array(items) = j else {
                return Err(err(path, "expected an array"));
            };
            if items.len() != types.len() {
                return Err(err(path, format!("tuple needs {} elements", types.len())));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(convert(item, t, unknown, path)?);
                path.truncate(n);
            }
            Ok(Value::Tuple(out))
        }
        Type::Map(et) => {
            let J::Object(o) = j else {
                return Err(err(path, "expected an object"));
            };
            let mut out = BTreeMap::new();
            for (k, v) in o {
                let n = path.len();
                path.push_str(&format!("[{k:?}]"));
                out.insert(k.clone(), convert(v, et, unknown, path)?);
                path.truncate(n);
            }
            Ok(Value::Map(out))
        }
        Type::Object(types) => {
            let J::Object(o) = j else {
                return Err(err(path, "expected an object"));
            };
            let mut out = BTreeMap::new();
            for (k, v) in o {
                let Some(t) = types.get(k) else {
                    match unknown {
                        UnknownAttributes::Ignore => continue,
                        UnknownAttributes::Reject => {
                            return Err(err(path, format!("unsupported attribute {k:?}")));
                        }
                    }
                };
                let n = path.len();
                path.push('.');
                path.push_str(k);
                out.insert(k.clone(), convert(v, t, unknown, path)?);
                path.truncate(n);
            }
            for name in types.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Type {
        Type::object([
            ("id", Type::String),
            ("n", Type::Number),
            ("tags", Type::map(Type::String)),
            ("steps", Type::list(Type::object([("lower", Type::Number)]))),
        ])
    }

    #[test]
    fn state_json_numbers_beyond_float64_decode_exactly() {
        let v = decode(br#"{"id":"x","n":1e400}"#, &t(), UnknownAttributes::Reject)
            .expect("1e400 is a number");
        assert!(
            matches!(v.get("n"), Value::Number(Number::Decimal(_))),
            "{v:?}"
        );
        assert_eq!(v.get("n").as_number(), Number::parse("1e400").as_ref());
        assert!(v.get("n").as_f64().is_some_and(f64::is_infinite));
    }

    #[test]
    fn state_json_decodes_with_exact_numbers_and_missing_attributes_null() {
        let v = decode(
            br#"{"id":"x","n":0.1,"steps":[{"lower":null}]}"#,
            &t(),
            UnknownAttributes::Reject,
        )
        .unwrap();
        assert_eq!(v.get("id").as_str(), Some("x"));
        assert!(matches!(v.get("n"), Value::Number(Number::Decimal(s)) if s == "0.1"));
        assert!(v.get("tags").is_null());
        assert!(v.get("steps").elements()[0].get("lower").is_null());
    }

    #[test]
    fn removed_attributes_are_dropped_only_when_asked() {
        let raw = br#"{"id":"x","gone":true}"#;
        assert!(decode(raw, &t(), UnknownAttributes::Reject).is_err());
        let v = decode(raw, &t(), UnknownAttributes::Ignore).unwrap();
        assert_eq!(v.get("id").as_str(), Some("x"));
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(decode(b"{", &t(), UnknownAttributes::Ignore).is_err());
        assert!(decode(br#"{"n":"abc"}"#, &t(), UnknownAttributes::Ignore).is_err());
    }

    #[test]
    fn dynamic_values_in_json_carry_their_type() {
        let v = decode(
            br#"{"value":["a"],"type":["list","string"]}"#,
            &Type::Dynamic,
            UnknownAttributes::Reject,
        )
        .unwrap();
        assert_eq!(v, Value::List(vec![Value::from("a")]));
    }
}
