//! The msgpack encoding of `DynamicValue` (Terraform's object wire format).
//!
//! Owns encoding and decoding of [`Value`]s against a [`Type`]. Rules: null is `nil`;
//! unknown is extension type 0 (written `d4 00 00`), and *any* extension decodes as
//! unknown, because newer Terraform sends refined unknowns with other codes; numbers
//! decode from integers, floats or decimal strings; `dynamic` positions carry
//! `[type-json, value]`. Decoding never panics, whatever the bytes.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::types::Type;
use super::value::{Number, Value};

/// Deepest nesting accepted when decoding (Terraform values are far shallower).
const MAX_DEPTH: usize = 256;

/// A value that could not be encoded or decoded, with where it happened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (at {path})")]
pub struct CodecError {
    /// Where in the value the problem is, e.g. `.steps[1].lower`; `.` is the root.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A codec error at `path` (`.` for the root).
pub(super) fn err(path: &str, message: impl Into<String>) -> CodecError {
    CodecError {
        path: if path.is_empty() {
            ".".into()
        } else {
            path.into()
        },
        message: message.into(),
    }
}

/// Encodes `value` as msgpack, shaped by `ty`.
///
/// # Errors
/// [`CodecError`] when the value does not fit the type (a bug in the caller, reported
/// rather than panicking).
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut buf = Vec::with_capacity(64);
    write(&mut buf, value, ty, &mut String::new())?;
    Ok(buf)
}

fn write(buf: &mut Vec<u8>, value: &Value, ty: &Type, path: &mut String) -> Result<(), CodecError> {
    if let Value::Unknown = value {
        buf.extend_from_slice(&[0xd4, 0x00, 0x00]);
        return Ok(());
    }
    if let Type::Dynamic = ty {
        let concrete = value.infer_type();
        if concrete == Type::Dynamic && value.is_null() {
            rmp::encode::write_nil(buf).map_err(|_| write_failed(path))?;
            return Ok(());
        }
        rmp::encode::write_array_len(buf, 2).map_err(|_| write_failed(path))?;
        rmp::encode::write_bin(buf, &concrete.to_json_bytes()).map_err(|_| write_failed(path))?;
        return write(buf, value, &concrete, path);
    }
    match (value, ty) {
        (Value::Null, _) => rmp::encode::write_nil(buf).map_err(|_| write_failed(path))?,
        (Value::Bool(b), Type::Bool) => {
            rmp::encode::write_bool(buf, *b).map_err(|_| write_failed(path))?
        }
        (Value::Number(n), Type::Number) => match n {
            Number::Int(i) => {
                rmp::encode::write_sint(buf, *i).map_err(|_| write_failed(path))?;
            }
            Number::Float(f) => rmp::encode::write_f64(buf, *f).map_err(|_| write_failed(path))?,
            Number::Decimal(s) => rmp::encode::write_str(buf, s).map_err(|_| write_failed(path))?,
        },
        (Value::String(s), Type::String) => {
            rmp::encode::write_str(buf, s).map_err(|_| write_failed(path))?
        }
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            write_len(buf, items.len(), path, rmp::encode::write_array_len)?;
            for (i, item) in items.iter().enumerate() {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                write(buf, item, et, path)?;
                path.truncate(n);
            }
        }
        (Value::Tuple(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(err(path, "tuple length does not match its type"));
            }
            write_len(buf, items.len(), path, rmp::encode::write_array_len)?;
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                write(buf, item, t, path)?;
                path.truncate(n);
            }
        }
        (Value::Map(entries), Type::Map(et)) => {
            write_len(buf, entries.len(), path, rmp::encode::write_map_len)?;
            for (k, v) in entries {
                rmp::encode::write_str(buf, k).map_err(|_| write_failed(path))?;
                let n = path.len();
                path.push_str(&format!("[{k:?}]"));
                write(buf, v, et, path)?;
                path.truncate(n);
            }
        }
        (Value::Object(attrs), Type::Object(types)) => {
            if let Some(extra) = attrs.keys().find(|k| !types.contains_key(*k)) {
                return Err(err(path, format!("attribute {extra:?} is not in the type")));
            }
            write_len(buf, types.len(), path, rmp::encode::write_map_len)?;
            for (name, t) in types {
                rmp::encode::write_str(buf, name).map_err(|_| write_failed(path))?;
                let n = path.len();
                path.push('.');
                path.push_str(name);
                write(buf, attrs.get(name).unwrap_or(&Value::Null), t, path)?;
                path.truncate(n);
            }
        }
        (v, t) => return Err(err(path, format!("value {v:?} does not fit type {t}"))),
    }
    Ok(())
}

/// Writes into a `Vec` cannot fail; the encoder's error type is only a formality here.
fn write_failed(path: &str) -> CodecError {
    err(path, "write failed")
}

fn write_len<E>(
    buf: &mut Vec<u8>,
    len: usize,
    path: &str,
    f: fn(&mut Vec<u8>, u32) -> Result<rmp::Marker, E>,
) -> Result<(), CodecError> {
    let len = u32::try_from(len).map_err(|_| err(path, "collection too large"))?;
    f(buf, len).map(|_| ()).map_err(|_| write_failed(path))
}

/// Decodes msgpack `bytes` as a value of type `ty`. Empty input is null.
///
/// # Errors
/// [`CodecError`] when the bytes are not msgpack, have trailing data, or do not fit the
/// type. Never panics.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut rd = bytes;
    let mp = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_DEPTH)
        .map_err(|e| err("", format!("invalid msgpack: {e}")))?;
    if !rd.is_empty() {
        return Err(err("", "trailing bytes after the value"));
    }
    convert(mp, ty, &mut String::new())
}

fn convert(mp: Mp, ty: &Type, path: &mut String) -> Result<Value, CodecError> {
    match (mp, ty) {
        (Mp::Ext(_, _), _) => Ok(Value::Unknown),
        (Mp::Nil, _) => Ok(Value::Null),
        (Mp::Array(mut parts), Type::Dynamic) if parts.len() == 2 => {
            let inner = parts.pop().unwrap_or(Mp::Nil);
            let type_bytes = match parts.pop() {
                Some(Mp::Binary(b)) => b,
                Some(Mp::String(s)) => s.into_bytes(),
                _ => return Err(err(path, "dynamic value without a type")),
            };
            let concrete = Type::from_json_bytes(&type_bytes).map_err(|e| err(path, e.0))?;
            if concrete == Type::Dynamic {
                return Err(err(path, "dynamic value whose type is dynamic"));
            }
            convert(inner, &concrete, path)
        }
        (_, Type::Dynamic) => Err(err(path, "dynamic value must be [type, value]")),
        (Mp::Boolean(b), Type::Bool) => Ok(Value::Bool(b)),
        (Mp::Integer(i), Type::Number) => Ok(Value::Number(match i.as_i64() {
            Some(v) => Number::Int(v),
            None => Number::Decimal(i.to_string()),
        })),
        (Mp::F64(f), Type::Number) if !f.is_nan() => Ok(Value::Number(Number::Float(f))),
        (Mp::F32(f), Type::Number) if !f.is_nan() => Ok(Value::Number(Number::Float(f.into()))),
        (Mp::String(s), Type::Number) => s
            .as_str()
            .and_then(Number::parse)
            .map(Value::Number)
            .ok_or_else(|| err(path, "string is not a number")),
        (Mp::String(s), Type::String) => s
            .into_str()
            .map(Value::String)
            .ok_or_else(|| err(path, "string is not valid UTF-8")),
        (Mp::Array(items), Type::List(et)) => Ok(Value::List(convert_items(items, et, path)?)),
        (Mp::Array(items), Type::Set(et)) => Ok(Value::Set(convert_items(items, et, path)?)),
        (Mp::Array(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(err(path, format!("tuple needs {} elements", types.len())));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.into_iter().zip(types).enumerate() {
                let n = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(convert(item, t, path)?);
                path.truncate(n);
            }
            Ok(Value::Tuple(out))
        }
        (Mp::Map(entries), Type::Map(et)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = key_string(k, path)?;
                let n = path.len();
                path.push_str(&format!("[{key:?}]"));
                let val = convert(v, et, path)?;
                path.truncate(n);
                out.insert(key, val);
            }
            Ok(Value::Map(out))
        }
        (Mp::Map(entries), Type::Object(types)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = key_string(k, path)?;
                let Some(t) = types.get(&key) else {
                    return Err(err(path, format!("unsupported attribute {key:?}")));
                };
                let n = path.len();
                path.push('.');
                path.push_str(&key);
                let val = convert(v, t, path)?;
                path.truncate(n);
                out.insert(key, val);
            }
            for name in types.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (mp, t) => Err(err(path, format!("{} does not fit type {t}", kind(&mp)))),
    }
}

fn convert_items(items: Vec<Mp>, et: &Type, path: &mut String) -> Result<Vec<Value>, CodecError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let n = path.len();
        path.push_str(&format!("[{i}]"));
        out.push(convert(item, et, path)?);
        path.truncate(n);
    }
    Ok(out)
}

fn key_string(k: Mp, path: &str) -> Result<String, CodecError> {
    match k {
        Mp::String(s) => s
            .into_str()
            .ok_or_else(|| err(path, "key is not valid UTF-8")),
        other => Err(err(
            path,
            format!("map key must be a string, not {}", kind(&other)),
        )),
    }
}

fn kind(mp: &Mp) -> &'static str {
    match mp {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "a bool",
        Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => "a number",
        Mp::String(_) => "a string",
        Mp::Binary(_) => "binary data",
        Mp::Array(_) => "an array",
        Mp::Map(_) => "a map",
        Mp::Ext(_, _) => "an extension",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn every_type() -> Type {
        Type::object([
            ("b", Type::Bool),
            ("n", Type::Number),
            ("s", Type::String),
            ("d", Type::Dynamic),
            ("l", Type::list(Type::Number)),
            ("st", Type::set(Type::String)),
            ("m", Type::map(Type::Bool)),
            ("t", Type::Tuple(vec![Type::String, Type::Number])),
            (
                "o",
                Type::list(Type::object([
                    ("x", Type::String),
                    ("y", Type::list(Type::Number)),
                ])),
            ),
        ])
    }

    fn round_trip(v: &Value, t: &Type) -> Value {
        decode(&encode(v, t).unwrap(), t).unwrap()
    }

    #[test]
    fn every_type_round_trips_with_values() {
        let t = every_type();
        let v = Value::object([
            ("b", Value::Bool(true)),
            ("n", Value::int(-7)),
            ("s", Value::from("hé")),
            ("d", Value::List(vec![Value::from("x")])),
            ("l", Value::List(vec![Value::int(1), Value::number(2.5)])),
            ("st", Value::Set(vec![Value::from("a"), Value::from("b")])),
            (
                "m",
                Value::Map([("k".to_string(), Value::Bool(false))].into()),
            ),
            ("t", Value::Tuple(vec![Value::from("a"), Value::int(3)])),
            (
                "o",
                Value::List(vec![Value::object([
                    ("x", Value::from("y")),
                    ("y", Value::List(vec![Value::int(u32::MAX.into())])),
                ])]),
            ),
        ]);
        assert_eq!(round_trip(&v, &t), v);
    }

    #[test]
    fn null_and_unknown_round_trip_at_every_depth() {
        let t = every_type();
        let v = Value::object([
            ("b", Value::Unknown),
            ("n", Value::Null),
            ("s", Value::Unknown),
            ("d", Value::Unknown),
            ("l", Value::List(vec![Value::Unknown, Value::Null])),
            ("st", Value::Unknown),
            ("m", Value::Map([("k".to_string(), Value::Unknown)].into())),
            ("t", Value::Tuple(vec![Value::Null, Value::Unknown])),
            (
                "o",
                Value::List(vec![Value::object([
                    ("x", Value::Unknown),
                    ("y", Value::Null),
                ])]),
            ),
        ]);
        assert_eq!(round_trip(&v, &t), v);
        assert_eq!(round_trip(&Value::Unknown, &t), Value::Unknown);
        assert_eq!(round_trip(&Value::Null, &t), Value::Null);
    }

    #[test]
    fn unknown_is_written_as_fixext_zero() {
        assert_eq!(
            encode(&Value::Unknown, &Type::String).unwrap(),
            vec![0xd4, 0, 0]
        );
    }

    #[test]
    fn any_extension_code_decodes_as_unknown() {
        // Refined unknowns from newer Terraform use extension 12 with a payload.
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3];
        assert_eq!(decode(&refined, &Type::String).unwrap(), Value::Unknown);
    }

    #[test]
    fn numbers_decode_from_int_float_and_decimal_string() {
        let int = encode(&Value::int(5), &Type::Number).unwrap();
        assert_eq!(decode(&int, &Type::Number).unwrap(), Value::int(5));
        let float = encode(&Value::number(0.5), &Type::Number).unwrap();
        assert_eq!(decode(&float, &Type::Number).unwrap(), Value::number(0.5));
        let mut dec = Vec::new();
        rmp::encode::write_str(&mut dec, "0.1").unwrap();
        let v = decode(&dec, &Type::Number).unwrap();
        assert!(matches!(v, Value::Number(Number::Decimal(ref s)) if s == "0.1"));
        // ...and is written back exactly as it came.
        assert_eq!(encode(&v, &Type::Number).unwrap(), dec);
    }

    #[test]
    fn numbers_beyond_float64_decode_and_are_written_back_unchanged() {
        // Terraform writes a number no float64 holds exactly as its decimal text; for
        // `1e400` that is the integer's 401 digits.
        let digits = format!("1{}", "0".repeat(400));
        for text in [digits.as_str(), "1e400", "-1e400", "1e-400"] {
            let mut b = Vec::new();
            rmp::encode::write_str(&mut b, text).unwrap();
            let v = decode(&b, &Type::Number).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(
                matches!(&v, Value::Number(Number::Decimal(s)) if s == text),
                "{v:?}"
            );
            assert_eq!(encode(&v, &Type::Number).unwrap(), b, "{text}");
        }
    }

    #[test]
    fn a_string_that_is_no_number_is_still_refused() {
        for text in ["abc", "NaN", "inf", "1e"] {
            let mut b = Vec::new();
            rmp::encode::write_str(&mut b, text).unwrap();
            assert!(decode(&b, &Type::Number).is_err(), "{text}");
        }
    }

    #[test]
    fn big_unsigned_integers_keep_their_digits() {
        let mut b = Vec::new();
        rmp::encode::write_u64(&mut b, u64::MAX).unwrap();
        let v = decode(&b, &Type::Number).unwrap();
        assert_eq!(v.as_number().unwrap().to_string(), u64::MAX.to_string());
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::object([("a", Value::from("x"))]);
        let bytes = encode(&v, &Type::Dynamic).unwrap();
        assert_eq!(bytes[0], 0x92, "a two-element array");
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), v);
    }

    #[test]
    fn object_attributes_missing_on_the_wire_decode_as_null() {
        let mut b = Vec::new();
        rmp::encode::write_map_len(&mut b, 0).unwrap();
        let t = Type::object([("a", Type::String)]);
        assert_eq!(decode(&b, &t).unwrap(), Value::object([("a", Value::Null)]));
    }

    #[test]
    fn unexpected_attributes_and_mismatches_are_errors() {
        let t = Type::object([("a", Type::String)]);
        let bytes = encode(&Value::object([("b", Value::from("x"))]), &Type::Dynamic).unwrap();
        assert!(decode(&bytes, &t).is_err());
        assert!(encode(&Value::from("x"), &Type::Number).is_err());
        let e = encode(&Value::object([("a", Value::int(1))]), &t).unwrap_err();
        assert_eq!(e.path, ".a");
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        assert!(decode(&[0xc0, 0xc0], &Type::String).is_err());
    }

    fn arb_type() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![
            Just(Type::Bool),
            Just(Type::Number),
            Just(Type::String),
            Just(Type::Dynamic)
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::btree_map("[a-z]{1,3}", inner.clone(), 0..4)
                    .prop_map(Type::Object),
                prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
            ]
        })
    }

    fn arb_value(t: Type) -> BoxedStrategy<Value> {
        let special = prop_oneof![Just(Value::Null), Just(Value::Unknown)];
        let concrete: BoxedStrategy<Value> = match t {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Number => prop_oneof![
                any::<i64>().prop_map(Value::int),
                (-1e12f64..1e12).prop_map(|f| Value::Number(Number::Float(f))),
                "-?[1-9][0-9]{0,20}\\.[0-9]{1,10}".prop_map(|s| Value::Number(Number::Decimal(s))),
            ]
            .boxed(),
            Type::String => ".{0,8}".prop_map(Value::String).boxed(),
            Type::Dynamic => prop_oneof![
                ".{0,4}".prop_map(Value::String),
                any::<bool>().prop_map(Value::Bool)
            ]
            .boxed(),
            Type::List(e) => prop::collection::vec(arb_value(*e), 0..3)
                .prop_map(Value::List)
                .boxed(),
            Type::Set(e) => prop::collection::vec(arb_value(*e), 0..3)
                .prop_map(Value::Set)
                .boxed(),
            Type::Map(e) => prop::collection::btree_map("[a-z]{0,3}", arb_value(*e), 0..3)
                .prop_map(Value::Map)
                .boxed(),
            Type::Object(attrs) => {
                let strategies: Vec<_> = attrs
                    .into_iter()
                    .map(|(k, t)| arb_value(t).prop_map(move |v| (k.clone(), v)))
                    .collect();
                strategies
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
                    .boxed()
            }
            Type::Tuple(types) => types
                .into_iter()
                .map(arb_value)
                .collect::<Vec<_>>()
                .prop_map(Value::Tuple)
                .boxed(),
        };
        prop_oneof![1 => special, 4 => concrete].boxed()
    }

    proptest! {
        #[test]
        fn arbitrary_typed_values_round_trip(
            (t, v) in arb_type().prop_flat_map(|t| (Just(t.clone()), arb_value(t)))
        ) {
            let back = round_trip(&v, &t);
            prop_assert_eq!(back, v);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            t in arb_type(),
        ) {
            let _ = decode(&bytes, &t);
        }
    }
}
