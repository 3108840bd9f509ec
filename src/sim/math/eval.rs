//! The metric-math evaluator: a parsed [`Expr`] over series that share one time grid
//! (equal steps, a slot per step, `None` where a series has no datapoint).
//!
//! Rules from the CloudWatch user guide, "Using metric math" (sections "Basic arithmetic
//! functions", "Comparison and logical operators", "Functions supported for metric math",
//! "Using IF expressions"), each at the code that applies it. Where the guide is silent,
//! the reading we take is written as **Assumption**.

use super::parse::{BinaryOp, Expr, ExprKind, UnaryOp};

/// One series: a slot per step of the grid, `None` where there is no datapoint.
pub type Series = Vec<Option<f64>>;

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar (`5`, `MAX(m1)`).
    Scalar(f64),
    /// One time series.
    Series(Series),
    /// An array of time series (`[m1, m2]`, `METRICS()`).
    Array(Vec<Series>),
    /// A string argument.
    Str(String),
    /// A bare keyword argument (`REPEAT`, `LINEAR`).
    Keyword(String),
}

/// A failure to evaluate, with the byte offset of the node at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {pos}: {message}")]
pub struct EvalError {
    /// Byte offset in the expression.
    pub pos: usize,
    /// What is wrong.
    pub message: String,
}

/// What an expression can read: the grid length and the values of other query ids.
pub trait Context {
    /// Slots in the grid.
    fn slots(&self) -> usize;
    /// The value of query `id`, `None` when there is no such query.
    fn lookup(&self, id: &str) -> Option<Value>;
    /// The ids of the metric (not expression) queries, in order, for `METRICS()`.
    fn metric_ids(&self) -> Vec<String>;
}

fn fail<T>(e: &Expr, message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError {
        pos: e.pos,
        message: message.into(),
    })
}

/// Evaluates `e` in `ctx`.
///
/// # Errors
/// [`EvalError`] for an unknown id, an unsupported function, arguments of the wrong kind,
/// or a scalar division by zero.
pub fn eval(e: &Expr, ctx: &dyn Context) -> Result<Value, EvalError> {
    match &e.kind {
        ExprKind::Number(n) => Ok(Value::Scalar(*n)),
        ExprKind::Str(s) => Ok(Value::Str(s.clone())),
        ExprKind::Keyword(k) => Ok(Value::Keyword(k.clone())),
        ExprKind::Id(id) => match ctx.lookup(id) {
            Some(v) => Ok(v),
            None => fail(e, format!("no query has the id `{id}`")),
        },
        ExprKind::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                match eval(i, ctx)? {
                    Value::Series(s) => out.push(s),
                    Value::Array(a) => out.extend(a),
                    Value::Scalar(x) => out.push(vec![Some(x); ctx.slots()]),
                    _ => return fail(i, "an array holds time series"),
                }
            }
            Ok(Value::Array(out))
        }
        ExprKind::Unary(op, a) => {
            let v = eval(a, ctx)?;
            let f = match op {
                UnaryOp::Neg => |x: f64| Some(-x),
                UnaryOp::Not => |x: f64| Some(truth(x == 0.0)),
            };
            map(a, v, f)
        }
        ExprKind::Binary(op, a, b) => {
            let (x, y) = (eval(a, ctx)?, eval(b, ctx)?);
            binary(e, *op, x, y)
        }
        ExprKind::Call(name, args) => call(e, name, args, ctx),
    }
}

fn truth(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// One operator on two present values; `None` drops the datapoint.
///
/// "If the value of a data point causes a function to attempt to divide by zero, the data
/// point is dropped" (Basic arithmetic functions).
fn apply(op: BinaryOp, x: f64, y: f64) -> Option<f64> {
    let v = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::Div => {
            if y == 0.0 {
                return None;
            }
            x / y
        }
        BinaryOp::Pow => x.powf(y),
        BinaryOp::Eq => truth(x == y),
        BinaryOp::Ne => truth(x != y),
        BinaryOp::Lt => truth(x < y),
        BinaryOp::Le => truth(x <= y),
        BinaryOp::Gt => truth(x > y),
        BinaryOp::Ge => truth(x >= y),
        BinaryOp::And => truth(x != 0.0 && y != 0.0),
        BinaryOp::Or => truth(x != 0.0 || y != 0.0),
    };
    v.is_finite().then_some(v)
}

/// Two series, slot by slot.
///
/// "Missing values in a time series are treated as 0" (arithmetic), and "when comparison
/// operators are used between two time series, and only one of the time series has a
/// value for a particular time stamp, the function treats the missing value in the other
/// time series as 0" (comparisons; the guide's `AND` example shows the same for logical
/// operators). A slot missing on both sides stays missing.
fn zip(op: BinaryOp, a: &Series, b: &Series) -> Series {
    a.iter()
        .zip(b)
        .map(|(x, y)| match (x, y) {
            (None, None) => None,
            (x, y) => apply(op, x.unwrap_or(0.0), y.unwrap_or(0.0)),
        })
        .collect()
}

fn binary(e: &Expr, op: BinaryOp, x: Value, y: Value) -> Result<Value, EvalError> {
    use Value::{Array, Scalar, Series as Ts};
    Ok(match (x, y) {
        (Scalar(a), Scalar(b)) => match apply(op, a, b) {
            Some(v) => Scalar(v),
            None => return fail(e, "division by zero between two scalars"),
        },
        // A series with a scalar: only the series' own datapoints.
        (Ts(a), Scalar(b)) => Ts(a.iter().map(|x| x.and_then(|x| apply(op, x, b))).collect()),
        (Scalar(a), Ts(b)) => Ts(b.iter().map(|y| y.and_then(|y| apply(op, a, y))).collect()),
        (Ts(a), Ts(b)) => Ts(zip(op, &a, &b)),
        // Arrays: the operator applies to each series ("TS[] TS, TS[]" in the guide).
        (Array(a), Scalar(b)) => Array(
            a.iter()
                .map(|s| s.iter().map(|x| x.and_then(|x| apply(op, x, b))).collect())
                .collect(),
        ),
        (Scalar(a), Array(b)) => Array(
            b.iter()
                .map(|s| s.iter().map(|y| y.and_then(|y| apply(op, a, y))).collect())
                .collect(),
        ),
        (Array(a), Ts(b)) => Array(a.iter().map(|s| zip(op, s, &b)).collect()),
        (Ts(a), Array(b)) => Array(b.iter().map(|s| zip(op, &a, s)).collect()),
        (Array(_), Array(_)) => {
            return fail(
                e,
                "an operator cannot take an array of time series on both sides",
            );
        }
        _ => {
            return fail(
                e,
                "operators take numbers and time series, not strings or keywords",
            );
        }
    })
}

fn map(at: &Expr, v: Value, f: impl Fn(f64) -> Option<f64>) -> Result<Value, EvalError> {
    Ok(match v {
        Value::Scalar(x) => match f(x) {
            Some(y) => Value::Scalar(y),
            None => return fail(at, "no value"),
        },
        Value::Series(s) => Value::Series(s.iter().map(|x| x.and_then(&f)).collect()),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|s| s.iter().map(|x| x.and_then(&f)).collect())
                .collect(),
        ),
        _ => return fail(at, "expected a number or a time series"),
    })
}

fn arity(e: &Expr, name: &str, args: &[Expr], lo: usize, hi: usize) -> Result<(), EvalError> {
    if args.len() < lo || args.len() > hi {
        let want = if lo == hi {
            format!("{lo}")
        } else {
            format!("{lo} to {hi}")
        };
        return fail(
            e,
            format!("{name} takes {want} argument(s), not {}", args.len()),
        );
    }
    Ok(())
}

fn call(e: &Expr, name: &str, args: &[Expr], ctx: &dyn Context) -> Result<Value, EvalError> {
    match name {
        "IF" => {
            arity(e, name, args, 2, 3)?;
            let cond = eval(&args[0], ctx)?;
            let yes = eval(&args[1], ctx)?;
            let no = args.get(2).map(|a| eval(a, ctx)).transpose()?;
            if_expr(e, cond, yes, no, ctx.slots())
        }
        "FILL" => {
            arity(e, name, args, 2, 2)?;
            let target = eval(&args[0], ctx)?;
            let with = eval(&args[1], ctx)?;
            match target {
                Value::Series(s) => Ok(Value::Series(fill(e, s, &with)?)),
                Value::Array(a) => Ok(Value::Array(
                    a.into_iter()
                        .map(|s| fill(e, s, &with))
                        .collect::<Result<_, _>>()?,
                )),
                _ => fail(&args[0], "FILL takes a time series or an array of them"),
            }
        }
        "MIN" | "MAX" | "SUM" | "AVG" => {
            arity(e, name, args, 1, 1)?;
            let v = eval(&args[0], ctx)?;
            reduce(e, name, v, ctx.slots())
        }
        "ABS" => one(e, name, args, ctx, |x| Some(x.abs())),
        "CEIL" => one(e, name, args, ctx, |x| Some(x.ceil())),
        "FLOOR" => one(e, name, args, ctx, |x| Some(x.floor())),
        "METRICS" => {
            arity(e, name, args, 0, 1)?;
            let filter = match args.first().map(|a| eval(a, ctx)).transpose()? {
                None => None,
                Some(Value::Str(s)) => Some(s),
                Some(_) => return fail(e, "METRICS takes a string"),
            };
            let mut out = Vec::new();
            for id in ctx.metric_ids() {
                if filter.as_ref().is_none_or(|f| id.contains(f.as_str()))
                    && let Some(Value::Series(s)) = ctx.lookup(&id)
                {
                    out.push(s);
                }
            }
            Ok(Value::Array(out))
        }
        "TIME_SERIES" => {
            arity(e, name, args, 1, 1)?;
            match eval(&args[0], ctx)? {
                Value::Scalar(x) => Ok(Value::Series(vec![Some(x); ctx.slots()])),
                // An empty reduction (see `reduce`) stays empty.
                Value::Series(s) => Ok(Value::Series(s)),
                _ => fail(&args[0], "TIME_SERIES takes a scalar"),
            }
        }
        other => fail(
            e,
            format!(
                "the simulator does not evaluate {other}; it evaluates IF, FILL, MIN, MAX, SUM, \
                 AVG, ABS, CEIL, FLOOR, METRICS and TIME_SERIES"
            ),
        ),
    }
}

fn one(
    e: &Expr,
    name: &str,
    args: &[Expr],
    ctx: &dyn Context,
    f: impl Fn(f64) -> Option<f64>,
) -> Result<Value, EvalError> {
    arity(e, name, args, 1, 1)?;
    let v = eval(&args[0], ctx)?;
    map(&args[0], v, f)
}

/// `IF(condition, trueValue[, falseValue])`, as "Using IF expressions" documents it.
///
/// - A scalar condition picks one argument whole; with no `falseValue` a false condition
///   gives "an empty time series".
/// - A series condition decides slot by slot; a slot without a condition datapoint is
///   dropped. True takes `trueValue` (a series without a datapoint there gives **0**);
///   false takes `falseValue` (dropped when it is omitted or has no datapoint there).
fn if_expr(
    e: &Expr,
    cond: Value,
    yes: Value,
    no: Option<Value>,
    len: usize,
) -> Result<Value, EvalError> {
    let pick = |v: &Value, i: usize, missing_is_zero: bool| -> Result<Option<f64>, EvalError> {
        Ok(match v {
            Value::Scalar(x) => Some(*x),
            Value::Series(s) => match s.get(i).copied().flatten() {
                Some(x) => Some(x),
                None if missing_is_zero => Some(0.0),
                None => None,
            },
            _ => return fail(e, "IF's values are scalars or time series"),
        })
    };
    match cond {
        Value::Scalar(c) => Ok(if c != 0.0 {
            yes
        } else {
            no.unwrap_or_else(|| Value::Series(vec![None; len]))
        }),
        Value::Series(c) => {
            let mut out = Vec::with_capacity(len);
            for (i, slot) in c.iter().enumerate() {
                out.push(match slot {
                    None => None,
                    Some(x) if *x != 0.0 => pick(&yes, i, true)?,
                    Some(_) => match &no {
                        None => None,
                        Some(v) => pick(v, i, false)?,
                    },
                });
            }
            Ok(Value::Series(out))
        }
        _ => fail(e, "IF's condition is a scalar or a time series"),
    }
}

/// `FILL(series, value | series | REPEAT | LINEAR)`: the guide's four fillers (a value, a
/// metric, "the most recent actual value before the missing value", "a linear
/// interpolation between the values at the beginning and the end of the gap").
///
/// **Assumption** (the guide is silent): the grid is the query's whole time range, so a
/// constant fills every empty slot, also in a series with no datapoint at all in the
/// window and in the newest slot (which the guide confirms for alarms: "FILL replaces
/// that missing data point with the requested value"). `REPEAT` leaves slots before the
/// first datapoint empty; `LINEAR` leaves slots before the first and after the last
/// datapoint empty; both leave a series without datapoints empty.
fn fill(e: &Expr, mut s: Series, with: &Value) -> Result<Series, EvalError> {
    match with {
        Value::Scalar(x) => {
            for slot in &mut s {
                slot.get_or_insert(*x);
            }
        }
        Value::Series(f) => {
            for (slot, f) in s.iter_mut().zip(f) {
                if slot.is_none() {
                    *slot = *f;
                }
            }
        }
        Value::Keyword(k) if k == "REPEAT" => {
            let mut last = None;
            for slot in &mut s {
                match slot {
                    Some(x) => last = Some(*x),
                    None => *slot = last,
                }
            }
        }
        Value::Keyword(k) if k == "LINEAR" => {
            let mut prev: Option<(usize, f64)> = None;
            for i in 0..s.len() {
                if let Some(y) = s[i] {
                    if let Some((j, x)) = prev
                        && i > j + 1
                    {
                        for (k, slot) in s.iter_mut().enumerate().take(i).skip(j + 1) {
                            let t = (k - j) as f64 / (i - j) as f64;
                            *slot = Some(x + (y - x) * t);
                        }
                    }
                    prev = Some((i, y));
                }
            }
        }
        _ => {
            return fail(
                e,
                "FILL's second argument is a number, a time series, REPEAT or LINEAR",
            );
        }
    }
    Ok(s)
}

/// `MIN`/`MAX`/`SUM`/`AVG`.
///
/// - Of one series: a scalar over its datapoints.
/// - Of an array: one series, slot by slot. For `AVG` "missing values are treated as 0"
///   (the guide); **Assumption**: `SUM` likewise (the same result as skipping them), and
///   `MIN`/`MAX` skip missing values (treating them as 0 would invent a minimum); a slot
///   with no datapoint in any series stays empty.
/// - **Assumption**: the reduction of a series with no datapoints is not a number but
///   an empty series, so whatever uses it has no datapoint either.
fn reduce(e: &Expr, name: &str, v: Value, len: usize) -> Result<Value, EvalError> {
    let fold = |xs: &mut dyn Iterator<Item = f64>, n_series: usize| -> Option<f64> {
        let mut count = 0usize;
        let mut acc: Option<f64> = None;
        for x in xs {
            count += 1;
            acc = Some(match (name, acc) {
                (_, None) => x,
                ("MIN", Some(a)) => a.min(x),
                ("MAX", Some(a)) => a.max(x),
                (_, Some(a)) => a + x,
            });
        }
        let divisor = if n_series > 0 { n_series } else { count };
        match name {
            "AVG" => acc.map(|a| a / divisor as f64),
            _ => acc,
        }
    };
    match v {
        Value::Scalar(x) => Ok(Value::Scalar(x)),
        Value::Series(s) => Ok(match fold(&mut s.iter().flatten().copied(), 0) {
            Some(x) => Value::Scalar(x),
            None => Value::Series(vec![None; len]),
        }),
        Value::Array(a) => Ok(Value::Series(
            (0..len)
                .map(|i| {
                    fold(
                        &mut a.iter().filter_map(|s| s.get(i).copied().flatten()),
                        a.len(),
                    )
                })
                .collect(),
        )),
        _ => fail(e, format!("{name} takes a time series or an array of them")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::parse::parse;
    use super::*;

    struct Ctx {
        len: usize,
        series: BTreeMap<String, Series>,
    }

    impl Context for Ctx {
        fn slots(&self) -> usize {
            self.len
        }
        fn lookup(&self, id: &str) -> Option<Value> {
            self.series.get(id).cloned().map(Value::Series)
        }
        fn metric_ids(&self) -> Vec<String> {
            self.series.keys().cloned().collect()
        }
    }

    /// Series written as in the guide: numbers and `-` for "no value".
    fn ts(text: &str) -> Series {
        text.split(',')
            .map(|x| match x.trim() {
                "-" => None,
                n => Some(n.parse().expect("number")),
            })
            .collect()
    }

    fn ctx(pairs: &[(&str, &str)]) -> Ctx {
        let series: BTreeMap<String, Series> =
            pairs.iter().map(|(k, v)| (k.to_string(), ts(v))).collect();
        let len = series.values().map(Vec::len).max().unwrap_or(0);
        Ctx { len, series }
    }

    fn run(c: &Ctx, src: &str) -> Value {
        eval(&parse(src).expect("parses"), c).expect("evaluates")
    }

    fn series(c: &Ctx, src: &str) -> Series {
        match run(c, src) {
            Value::Series(s) => s,
            other => panic!("{src}: expected a series, got {other:?}"),
        }
    }

    /// The guide's comparison table: metric1 = [30, 20, 0, 0], metric2 = [20, -, 20, -].
    #[test]
    fn comparison_and_logical_examples_from_the_guide() {
        let c = ctx(&[("metric1", "30, 20, 0, 0"), ("metric2", "20, -, 20, -")]);
        assert_eq!(series(&c, "(metric1 < metric2)"), ts("0, 0, 1, 0"));
        assert_eq!(series(&c, "(metric1 >= 30)"), ts("1, 0, 0, 0"));
        assert_eq!(
            series(&c, "(metric1 > 15 AND metric2 > 15)"),
            ts("1, 0, 0, 0")
        );
        assert_eq!(series(&c, "metric1 > 15 && metric2 > 15"), ts("1, 0, 0, 0"));
        assert_eq!(series(&c, "metric2 > 15 || metric1 > 25"), ts("1, 0, 1, 0"));
        assert_eq!(series(&c, "!(metric2 > 15)"), ts("0, -, 0, -"));
        assert_eq!(series(&c, "NOT metric1"), ts("0, 0, 1, 1"));
    }

    /// The guide's IF tables: metric1 = [1, 1, 0, 0, -], metric2 = [30, -, 0, 0, 30],
    /// metric3 = [0, 0, 20, -, 20].
    #[test]
    fn if_examples_from_the_guide() {
        let c = ctx(&[
            ("metric1", "1, 1, 0, 0, -"),
            ("metric2", "30, -, 0, 0, 30"),
            ("metric3", "0, 0, 20, -, 20"),
        ]);
        assert_eq!(
            series(&c, "IF(metric1, metric2, metric3)"),
            ts("30, 0, 20, -, -")
        );
        assert_eq!(series(&c, "IF(metric1, 5, metric3)"), ts("5, 5, 20, -, -"));
        assert_eq!(series(&c, "IF(metric1, metric2, 5)"), ts("30, 0, 5, 5, -"));
        // Two arguments: false drops the datapoint.
        assert_eq!(series(&c, "IF(metric1, metric2)"), ts("30, 0, -, -, -"));
        // A scalar condition picks a whole series; false without a third is empty.
        assert_eq!(series(&c, "IF(1, metric2, metric3)"), ts("30, -, 0, 0, 30"));
        assert_eq!(series(&c, "IF(0, metric2)"), ts("-, -, -, -, -"));
    }

    #[test]
    fn if_use_cases_from_the_guide() {
        let c = ctx(&[("metric1", "100, 500, -, 399")]);
        assert_eq!(series(&c, "IF(metric1<400, metric1)"), ts("100, -, -, 399"));
        assert_eq!(series(&c, "IF(metric1<400, 10, 2)"), ts("10, 2, -, 10"));
    }

    #[test]
    fn arithmetic_treats_a_missing_side_as_zero_and_drops_division_by_zero() {
        let c = ctx(&[("m1", "4, -, 6, -, 0"), ("m2", "2, 3, 0, -, 0")]);
        assert_eq!(series(&c, "m1 + m2"), ts("6, 3, 6, -, 0"));
        assert_eq!(series(&c, "m1 - m2"), ts("2, -3, 6, -, 0"));
        assert_eq!(series(&c, "m1 / m2"), ts("2, 0, -, -, -"));
        assert_eq!(series(&c, "m1 * 2"), ts("8, -, 12, -, 0"));
        assert_eq!(
            series(&c, "10 / m1"),
            ts("2.5, -, 1.6666666666666667, -, -")
        );
        assert_eq!(series(&c, "-m1"), ts("-4, -, -6, -, -0"));
        assert_eq!(series(&c, "m2 ^ 2"), ts("4, 9, 0, -, 0"));
    }

    #[test]
    fn scalar_division_by_zero_is_an_error_with_its_position() {
        let c = ctx(&[("m1", "1")]);
        let err = eval(&parse("m1 + 1 / 0").expect("parses"), &c).expect_err("fails");
        assert_eq!(err.pos, 5);
    }

    #[test]
    fn fill_with_a_value_a_series_repeat_and_linear() {
        let c = ctx(&[("m1", "-, 1, -, -, 4, -"), ("m2", "9, 9, 9, -, 9, 9")]);
        assert_eq!(series(&c, "FILL(m1, 0)"), ts("0, 1, 0, 0, 4, 0"));
        assert_eq!(series(&c, "FILL(m1, m2)"), ts("9, 1, 9, -, 4, 9"));
        assert_eq!(series(&c, "FILL(m1, REPEAT)"), ts("-, 1, 1, 1, 4, 4"));
        assert_eq!(series(&c, "FILL(m1, LINEAR)"), ts("-, 1, 2, 3, 4, -"));
        assert_eq!(series(&c, "FILL(m1, MIN(m1))"), ts("1, 1, 1, 1, 4, 1"));
    }

    /// Our reading where the guide is silent: a constant fills a series with no data.
    #[test]
    fn fill_on_a_series_without_data_fills_every_slot_with_a_constant_only() {
        let c = ctx(&[("empty", "-, -, -"), ("other", "1, 2, 3")]);
        assert_eq!(series(&c, "FILL(empty, 0)"), ts("0, 0, 0"));
        assert_eq!(series(&c, "FILL(empty, REPEAT)"), ts("-, -, -"));
        assert_eq!(series(&c, "FILL(empty, LINEAR)"), ts("-, -, -"));
        assert_eq!(series(&c, "FILL(empty, MIN(empty))"), ts("-, -, -"));
    }

    /// `FILL(tasks, 0)` alone sees zero tasks in a slot a late task metric has not reached
    /// (the hole the wake condition closes); with the consumer witness from SQS it does not.
    #[test]
    fn the_wake_expression_needs_no_consumer_as_well_as_no_task() {
        use crate::scaling::backlog_policy::WAKE_EXPRESSION;
        // tasks published for the first two minutes only; SQS for all three.
        let c = ctx(&[
            ("tasks", "2, 2, -"),
            ("waiting", "40, 30, 20"),
            ("consumers", "2, 2, 2"),
        ]);
        assert_eq!(
            series(&c, "IF(FILL(tasks, 0) == 0, waiting, 0)"),
            ts("0, 0, 20")
        );
        assert_eq!(series(&c, WAKE_EXPRESSION), ts("0, 0, 0"));
        // No task metric at all: every slot looks like zero tasks; only the consumers tell.
        let c = ctx(&[
            ("tasks", "-, -, -"),
            ("waiting", "40, -, 20"),
            ("consumers", "3, -, 0"),
        ]);
        assert_eq!(series(&c, WAKE_EXPRESSION), ts("0, 0, 20"));
    }

    #[test]
    fn the_backlog_expression_has_a_datapoint_wherever_a_task_is_counted() {
        let e = crate::scaling::backlog_policy::backlog_per_task_expression(100.0);
        let c = ctx(&[
            ("tasks", "10, -, 0, 4, 2"),
            ("backlog", "1500, 30, 30, 0, -"),
        ]);
        assert_eq!(series(&c, &e), ts("150, -, -, 0.025, -"));
    }

    #[test]
    fn reductions_of_one_series_are_scalars_and_of_arrays_are_series() {
        let c = ctx(&[("m1", "1, -, 3"), ("m2", "5, 6, -")]);
        assert_eq!(run(&c, "MIN(m1)"), Value::Scalar(1.0));
        assert_eq!(run(&c, "MAX(m1)"), Value::Scalar(3.0));
        assert_eq!(run(&c, "SUM(m1)"), Value::Scalar(4.0));
        assert_eq!(run(&c, "AVG(m1)"), Value::Scalar(2.0));
        assert_eq!(series(&c, "m1 - MIN(m1)"), ts("0, -, 2"));
        assert_eq!(series(&c, "SUM([m1, m2])"), ts("6, 6, 3"));
        assert_eq!(series(&c, "AVG([m1, m2])"), ts("3, 3, 1.5"));
        assert_eq!(series(&c, "MIN([m1, m2])"), ts("1, 6, 3"));
        assert_eq!(series(&c, "MAX([m1, m2])"), ts("5, 6, 3"));
        assert_eq!(series(&c, "SUM(METRICS())"), ts("6, 6, 3"));
        assert_eq!(series(&c, "SUM(METRICS(\"2\"))"), ts("5, 6, -"));
        assert_eq!(
            series(&c, "SUM(100/[m1, m2])"),
            ts("120, 16.666666666666668, 33.333333333333336")
        );
        assert_eq!(series(&c, "SUM(-[m1, m2])"), ts("-6, -6, -3"));
        assert_eq!(series(&c, "TIME_SERIES(MAX(m1))"), ts("3, 3, 3"));
    }

    #[test]
    fn pointwise_functions() {
        let c = ctx(&[("m1", "-1.5, -, 2.25")]);
        assert_eq!(series(&c, "ABS(m1)"), ts("1.5, -, 2.25"));
        assert_eq!(series(&c, "CEIL(m1)"), ts("-1, -, 3"));
        assert_eq!(series(&c, "FLOOR(m1)"), ts("-2, -, 2"));
        assert_eq!(run(&c, "ABS(-3)"), Value::Scalar(3.0));
    }

    #[test]
    fn unknown_ids_and_unsupported_functions_are_errors_at_their_position() {
        let c = ctx(&[("m1", "1")]);
        let e = eval(&parse("m1 + nope").expect("parses"), &c).expect_err("fails");
        assert_eq!(e.pos, 5);
        assert!(e.message.contains("`nope`"));
        let e = eval(&parse("2 * RATE(m1)").expect("parses"), &c).expect_err("fails");
        assert_eq!(e.pos, 4);
        assert!(e.message.contains("RATE"));
        let e = eval(&parse("FILL(m1, UP)").expect("parses"), &c).expect_err("fails");
        assert!(e.message.contains("REPEAT or LINEAR"));
    }
}
