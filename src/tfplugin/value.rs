//! Terraform values: null and unknown at every depth, numbers that keep their exact form.
//!
//! Owns the in-memory value model and its accessors. It knows nothing of wire formats
//! (see `msgpack.rs`, `json.rs`) or of schemas.

use std::collections::BTreeMap;
use std::fmt;

use super::types::Type;

/// A Terraform number.
///
/// Terraform numbers are arbitrary-precision decimals. On the wire they arrive as integers,
/// float64s or decimal strings; a value that arrives as a decimal string (such as `0.1`,
/// which no float64 holds exactly, or `1e400`, which is beyond float64) is kept as that
/// string and written back unchanged, so Terraform sees exactly the number it sent.
///
/// Arithmetic happens in float64 ([`Number::as_f64`]): a decimal beyond float64's range
/// is ±infinity there, one too small for it is 0. Callers that need a finite number check
/// [`f64::is_finite`] and report the attribute.
#[derive(Debug, Clone)]
pub enum Number {
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A binary floating-point number.
    Float(f64),
    /// An exact decimal in Terraform's notation (e.g. `"0.1"`, `"1e+40"`, `"1e400"`).
    Decimal(String),
}

impl Number {
    /// The number from a float: integral values that fit become [`Number::Int`].
    pub fn from_f64(f: f64) -> Number {
        if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
            Number::Int(f as i64)
        } else {
            Number::Float(f)
        }
    }

    /// Parses a decimal literal (`-12`, `0.5`, `.5`, `1e400`, `2.5E-7`), keeping integers
    /// that fit in 64 bits as integers and everything else as its exact text.
    ///
    /// Returns `None` when the text is not a decimal literal (`NaN`, `inf`, `0x10`, `1.2.3`).
    /// Its size is not limited: a number too large for float64 is still a number.
    pub fn parse(text: &str) -> Option<Number> {
        let text = text.trim();
        if let Ok(i) = text.parse::<i64>() {
            return Some(Number::Int(i));
        }
        Decimal::parse(text)?;
        Some(Number::Decimal(text.to_owned()))
    }

    /// The nearest float64: ±infinity beyond its range, 0 below its smallest magnitude.
    pub fn as_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Float(f) => *f,
            Number::Decimal(s) => s.parse().unwrap_or(f64::NAN),
        }
    }

    /// The value as an integer when it is one exactly.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            other => {
                let f = other.as_f64();
                (f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15).then_some(f as i64)
            }
        }
    }

    /// The exact decimal value, for integers and decimal text (floats have none here).
    fn exact(&self) -> Option<Decimal> {
        match self {
            Number::Int(i) => Decimal::parse(&i.to_string()),
            Number::Decimal(s) => Decimal::parse(s),
            Number::Float(_) => None,
        }
    }
}

/// A decimal in normal form: sign, significant digits without leading or trailing zeros,
/// and the power of ten of the last digit. Zero has no digits.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i128,
}

impl Decimal {
    /// Reads `[+-]digits[.digits][(e|E)[+-]digits]` with at least one mantissa digit.
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let exponent: i128 = match exponent {
            None => 0,
            Some(e) => {
                let body = e.strip_prefix(['+', '-']).unwrap_or(e);
                if body.is_empty() || !all_digits(body) {
                    return None;
                }
                // Saturates far beyond any exponent that matters (and beyond float64).
                e.parse().unwrap_or(if e.starts_with('-') {
                    i128::from(i64::MIN)
                } else {
                    i128::from(i64::MAX)
                })
            }
        };
        let joined = format!("{whole}{fraction}");
        let significant = joined.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        let trailing = significant.len() - trimmed.len();
        let digits = trimmed.to_owned();
        let exponent = if digits.is_empty() {
            0
        } else {
            exponent - fraction.len() as i128 + trailing as i128
        };
        Some(Decimal {
            negative: negative && !digits.is_empty(),
            digits,
            exponent,
        })
    }
}

impl PartialEq for Number {
    /// Numeric equality: `Int(1)`, `Float(1.0)` and `Decimal("1.0")` are equal. Integers
    /// and decimals compare exactly (so `1e400` and `2e400` differ although both are
    /// infinite as float64); a float compares as float64.
    fn eq(&self, other: &Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            (Number::Float(a), Number::Float(b)) => a == b,
            (Number::Float(f), n) | (n, Number::Float(f)) => {
                // A decimal beyond float64 (infinite or zero there) equals no float.
                let g = n.as_f64();
                let zero = n.exact().is_some_and(|d| d.digits.is_empty());
                *f == g && g.is_finite() && (g == 0.0) == zero
            }
            (a, b) => match (a.exact(), b.exact()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Decimal(s) => f.write_str(s),
        }
    }
}

/// A Terraform value.
///
/// `Null` and `Unknown` may appear at any depth. Collections keep Terraform's distinctions
/// (list, set, tuple; map, object) because the wire type notation depends on them.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// A value not known until apply.
    Unknown,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// An ordered list.
    List(Vec<Value>),
    /// A set; order carries no meaning.
    Set(Vec<Value>),
    /// A map with string keys.
    Map(BTreeMap<String, Value>),
    /// An object (or block) with named attributes.
    Object(BTreeMap<String, Value>),
    /// A fixed-length sequence of values of differing types.
    Tuple(Vec<Value>),
}

static NULL: Value = Value::Null;

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A number value from a float (integral values become integers).
    pub fn number(f: f64) -> Value {
        Value::Number(Number::from_f64(f))
    }

    /// An integer number value.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    /// An object value from pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A string, or null when `s` is `None`.
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, Value::string)
    }

    /// A map of strings.
    pub fn string_map<'a>(m: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
        Value::Map(
            m.into_iter()
                .map(|(k, v)| (k.clone(), Value::string(v)))
                .collect(),
        )
    }

    /// Whether this value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this value itself is unknown (not looking inside).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether this value and everything inside it is known.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// An attribute of an object, or `Null` when absent or when `self` is not an object.
    pub fn get(&self, name: &str) -> &Value {
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// A mutable attribute of an object, inserted as null when absent.
    ///
    /// Returns `None` when `self` is not an object.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => Some(m.entry(name.to_owned()).or_default()),
            _ => None,
        }
    }

    /// Sets an attribute of an object (no effect on other values).
    pub fn set(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_owned(), v);
        }
    }

    /// The string, when this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, when this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, when this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as a float, when this is a known number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// The number as an integer, when this is a known integral number.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// The elements of a list, set or tuple (empty for anything else).
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v,
            _ => &[],
        }
    }

    /// The entries of a map or object, when this is one.
    pub fn entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// A map of known strings (null and unknown entries are skipped).
    pub fn as_string_map(&self) -> BTreeMap<String, String> {
        self.entries()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The type a value of unknown static type most plausibly has.
    ///
    /// Used where the schema says `dynamic`: the value then travels with its own type.
    /// Empty collections get element type `dynamic`, and null or unknown give `dynamic`.
    pub fn infer_type(&self) -> Type {
        fn common(vals: &[Value]) -> Type {
            vals.iter()
                .map(Value::infer_type)
                .find(|t| *t != Type::Dynamic)
                .unwrap_or(Type::Dynamic)
        }
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(v) => Type::list(common(v)),
            Value::Set(v) => Type::set(common(v)),
            Value::Map(m) => Type::map(common(&m.values().cloned().collect::<Vec<_>>())),
            Value::Object(m) => {
                Type::Object(m.iter().map(|(k, v)| (k.clone(), v.infer_type())).collect())
            }
            Value::Tuple(v) => Type::Tuple(v.iter().map(Value::infer_type).collect()),
        }
    }

    /// This value with every unknown, at any depth, replaced by null.
    pub fn unknowns_to_null(self) -> Value {
        match self {
            Value::Unknown => Value::Null,
            Value::List(v) => Value::List(v.into_iter().map(Value::unknowns_to_null).collect()),
            Value::Set(v) => Value::Set(v.into_iter().map(Value::unknowns_to_null).collect()),
            Value::Tuple(v) => Value::Tuple(v.into_iter().map(Value::unknowns_to_null).collect()),
            Value::Map(m) => Value::Map(
                m.into_iter()
                    .map(|(k, v)| (k, v.unknowns_to_null()))
                    .collect(),
            ),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k, v.unknowns_to_null()))
                    .collect(),
            ),
            other => other,
        }
    }

    /// Semantic equality: like `==`, but sets compare without regard to order.
    pub fn semantically_equal(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.iter().any(|y| x.semantically_equal(y)))
                    && b.iter().all(|y| a.iter().any(|x| x.semantically_equal(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.semantically_equal(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, x)| b.get(k).is_some_and(|y| x.semantically_equal(y)))
            }
            (a, b) => a == b,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::number(f)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_across_representations() {
        assert_eq!(Number::Int(1), Number::Float(1.0));
        assert_eq!(Number::Decimal("100".into()), Number::Int(100));
        assert_ne!(Number::Decimal("0.1".into()), Number::Float(0.2));
    }

    #[test]
    fn integral_floats_become_integers() {
        assert!(matches!(Number::from_f64(100.0), Number::Int(100)));
        assert!(matches!(Number::from_f64(0.5), Number::Float(_)));
    }

    #[test]
    fn parse_keeps_decimal_text_and_rejects_non_numbers() {
        assert!(matches!(Number::parse("0.1"), Some(Number::Decimal(s)) if s == "0.1"));
        assert!(matches!(Number::parse("42"), Some(Number::Int(42))));
        for bad in [
            "", "abc", "NaN", "inf", "-inf", "Infinity", "1.2.3", "0x10", "1e", "e5", ".", "-",
            "1e+", "1_000", "1 2",
        ] {
            assert!(Number::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn numbers_beyond_float64_are_kept_and_are_infinite_in_arithmetic() {
        let huge = format!("1{}", "0".repeat(400));
        for text in ["1e400", "-1e400", "1E+400", huge.as_str()] {
            let n = Number::parse(text).unwrap_or_else(|| panic!("{text} is a number"));
            assert!(matches!(&n, Number::Decimal(s) if s == text), "{n:?}");
            assert!(n.as_f64().is_infinite(), "{text}");
            assert_eq!(n.as_i64(), None);
        }
        let tiny = Number::parse("1e-400").expect("a number");
        assert_eq!(tiny.as_f64(), 0.0);
    }

    #[test]
    fn decimals_compare_exactly_even_beyond_float64() {
        let n = |s: &str| Number::parse(s).expect("a number");
        assert_eq!(n("1e400"), n(&format!("1{}", "0".repeat(400))));
        assert_eq!(n("1e400"), n("10e399"));
        assert_eq!(n("1.50"), n("1.5"));
        assert_eq!(n("0.0"), n("-0"));
        assert_eq!(n("100"), Number::Decimal("1e2".into()));
        assert_ne!(n("1e400"), n("2e400"));
        assert_ne!(n("1e400"), n("-1e400"));
        assert_ne!(n("1e-400"), n("2e-400"));
        assert_ne!(n("1e400"), Number::Float(f64::INFINITY));
        assert_ne!(n("1e-400"), Number::Float(0.0));
        assert_eq!(n("0.000"), Number::Float(0.0));
        assert_eq!(n("0.1"), Number::Float(0.1));
    }

    #[test]
    fn unknown_inside_collections_is_seen_by_wholly_known() {
        let v = Value::object([("a", Value::List(vec![Value::int(1), Value::Unknown]))]);
        assert!(!v.is_wholly_known());
        assert!(Value::object([("a", Value::Null)]).is_wholly_known());
    }

    #[test]
    fn sets_are_equal_regardless_of_order() {
        let a = Value::Set(vec![Value::from("x"), Value::from("y")]);
        let b = Value::Set(vec![Value::from("y"), Value::from("x")]);
        assert!(a.semantically_equal(&b));
        assert_ne!(a, b);
    }

    #[test]
    fn get_on_missing_or_non_object_is_null() {
        assert!(Value::Null.get("x").is_null());
        assert!(Value::object([("a", Value::int(1))]).get("b").is_null());
    }
}
