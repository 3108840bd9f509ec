//! One-line renderings of compiled policies and alarms, for plans and state: what an
//! object does, in words and metric math, with its metrics listed once per resource.
//!
//! Each alarm and target-tracking metric is shown as one expression over the *metrics* it
//! reads (the ids of `MetricStat` queries): expression queries are substituted into the
//! expression that returns data, with the fewest parentheses the precedence needs.
//! CloudWatch evaluates an id that names another expression as that expression's series
//! ("Metric math syntax and functions", CloudWatch user guide), so the substituted form
//! computes the same series. The metrics themselves (namespace, name, dimensions,
//! statistic, period when not 60 s, unit) are shown by [`metric_line`], keyed by id.
//!
//! Everything that changes what AWS does is in the text — thresholds, periods, datapoints,
//! missing-data treatment, steps, cooldowns, targets, statistics, dimensions — so two
//! objects with the same text and the same metrics behave the same. Labels and alarm
//! descriptions are not shown (the caller compares them separately).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::backlog_policy::fmt_number;
use super::model::{
    Alarm, AlarmMetric, MetricQuery, MetricStat, Policy, PolicyKind, QuerySource,
    TargetTrackingPolicy, is_scaling_policy_arn,
};
use super::steps::StepAdjustment;
use crate::sim::math::{self, BinaryOp, Expr, ExprKind, UnaryOp};

/// The period shown nowhere: every metric the provider compiles uses one-minute periods,
/// and target tracking's default is 60 s (`TargetTrackingMetricStat.Period`, Application
/// Auto Scaling API reference).
const USUAL_PERIOD: i32 = 60;

/// The id a single-metric alarm's metric is listed under.
pub const SINGLE_METRIC_ID: &str = "metric";

/// An object rendered: its text and the metrics the text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// What the object does, on one line.
    pub text: String,
    /// The metrics the text reads, by id, each as [`metric_line`] shows it.
    pub metrics: BTreeMap<String, String>,
}

/// A metric on one line: `AWS/SQS ApproximateNumberOfMessagesVisible QueueName=jobs,
/// Maximum` (then `, period 300 s` and `, unit Count` when set).
pub fn metric_line(ms: &MetricStat) -> String {
    let mut s = format!("{} {}", ms.metric.namespace, ms.metric.name);
    for (k, v) in &ms.metric.dimensions {
        let _ = write!(s, " {k}={v}");
    }
    let _ = write!(s, ", {}", ms.stat);
    if let Some(p) = ms.period.filter(|p| *p != USUAL_PERIOD) {
        let _ = write!(s, ", period {p} s");
    }
    if let Some(u) = &ms.unit {
        let _ = write!(s, ", unit {u}");
    }
    s
}

/// The query list as one expression over its metrics, and those metrics.
fn math(queries: &[MetricQuery]) -> Shown {
    let metrics: BTreeMap<String, String> = queries
        .iter()
        .filter_map(|q| match &q.source {
            QuerySource::Metric(ms) => Some((q.id.clone(), metric_line(ms))),
            QuerySource::Expression(_) => None,
        })
        .collect();
    let returned = queries
        .iter()
        .find(|q| q.return_data)
        .or_else(|| queries.last());
    let text = match returned {
        None => String::new(),
        Some(q) => match &q.source {
            QuerySource::Metric(_) => q.id.clone(),
            QuerySource::Expression(e) => inline(e, queries, 0),
        },
    };
    // Only the metrics the expression reads (a query list may define others).
    let used = words(&text);
    let metrics = metrics
        .into_iter()
        .filter(|(id, _)| used.contains(id))
        .collect();
    Shown { text, metrics }
}

/// Deepest substitution: guards against expressions that refer to each other in a cycle
/// (CloudWatch rejects those; a hand-made object may still hold one).
const MAX_DEPTH: usize = 16;

/// `expr` with every id of an expression query replaced by that expression. An expression
/// that does not parse is shown as written.
fn inline(expr: &str, queries: &[MetricQuery], depth: usize) -> String {
    match math::parse(expr) {
        Ok(e) => show(&substitute(e, queries, depth), 0, false),
        Err(_) => expr.trim().to_owned(),
    }
}

fn substitute(e: Expr, queries: &[MetricQuery], depth: usize) -> Expr {
    let pos = e.pos;
    let kind = match e.kind {
        ExprKind::Id(id) => {
            let found = queries.iter().find_map(|q| match &q.source {
                QuerySource::Expression(x) if q.id == id && depth < MAX_DEPTH => {
                    math::parse(x).ok()
                }
                _ => None,
            });
            match found {
                Some(inner) => return substitute(inner, queries, depth + 1),
                None => ExprKind::Id(id),
            }
        }
        ExprKind::Array(items) => ExprKind::Array(
            items
                .into_iter()
                .map(|i| substitute(i, queries, depth))
                .collect(),
        ),
        ExprKind::Call(name, args) => ExprKind::Call(
            name,
            args.into_iter()
                .map(|i| substitute(i, queries, depth))
                .collect(),
        ),
        ExprKind::Unary(op, a) => ExprKind::Unary(op, Box::new(substitute(*a, queries, depth))),
        ExprKind::Binary(op, a, b) => ExprKind::Binary(
            op,
            Box::new(substitute(*a, queries, depth)),
            Box::new(substitute(*b, queries, depth)),
        ),
        other => other,
    };
    Expr { pos, kind }
}

/// Binding strength, as the parser reads it (`sim::math::parse`): `OR` lowest, `^` highest.
const fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
            3
        }
        BinaryOp::Add | BinaryOp::Sub => 4,
        BinaryOp::Mul | BinaryOp::Div => 5,
        BinaryOp::Pow => 7,
    }
}

const UNARY: u8 = 6;

/// `e` as text inside a context binding at `outer`; `tight` when an equal binding there
/// must be parenthesized too (the right side of `-` and `/`, the left of `^`, either side
/// of a comparison).
fn show(e: &Expr, outer: u8, tight: bool) -> String {
    let list = |items: &[Expr]| {
        items
            .iter()
            .map(|i| show(i, 0, false))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (text, own) = match &e.kind {
        ExprKind::Number(n) => (fmt_number(*n), u8::MAX),
        ExprKind::Str(s) => (format!("{s:?}"), u8::MAX),
        ExprKind::Id(s) | ExprKind::Keyword(s) => (s.clone(), u8::MAX),
        ExprKind::Array(items) => (format!("[{}]", list(items)), u8::MAX),
        ExprKind::Call(name, args) => (format!("{name}({})", list(args)), u8::MAX),
        ExprKind::Unary(op, a) => {
            let sign = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Not => "NOT ",
            };
            (format!("{sign}{}", show(a, UNARY, false)), UNARY)
        }
        ExprKind::Binary(op, a, b) => {
            let p = precedence(*op);
            let comparison = p == 3;
            let left_tight = comparison || *op == BinaryOp::Pow;
            let right_tight = comparison || matches!(op, BinaryOp::Sub | BinaryOp::Div);
            (
                format!(
                    "{} {} {}",
                    show(a, p, left_tight),
                    op.symbol(),
                    show(b, p, right_tight)
                ),
                p,
            )
        }
    };
    if own < outer || (tight && own == outer) {
        format!("({text})")
    } else {
        text
    }
}

/// The lowercase words of `text` (candidate ids), for picking the metrics it names.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_string = false;
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c == '"' {
            in_string = !in_string;
        }
        if !in_string && (c.is_ascii_alphanumeric() || c == '_') {
            word.push(c);
        } else if !word.is_empty() {
            if word.starts_with(|c: char| c.is_ascii_lowercase()) && !out.contains(&word) {
                out.push(word.clone());
            }
            word.clear();
        }
    }
    out
}

fn steps(list: &[StepAdjustment]) -> String {
    let bound = |b: Option<f64>, inf: &str| b.map_or_else(|| inf.to_owned(), fmt_number);
    // By lower bound, whatever order AWS returns them in.
    let mut sorted: Vec<&StepAdjustment> = list.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |s: &StepAdjustment| {
            (
                s.lower_bound.unwrap_or(f64::NEG_INFINITY),
                s.upper_bound.unwrap_or(f64::INFINITY),
            )
        };
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    sorted
        .into_iter()
        .map(|s| {
            format!(
                "[{}, {}] → {}",
                bound(s.lower_bound, "-inf"),
                bound(s.upper_bound, "+inf"),
                s.scaling_adjustment
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn seconds(what: &str, s: Option<i32>) -> String {
    match s {
        Some(s) => format!("{what} {s} s"),
        None => format!("{what} default"),
    }
}

fn target_tracking(t: &TargetTrackingPolicy) -> Shown {
    let m = math(&t.metrics);
    let mut text = format!(
        "keeps {} at {}; {}, {}",
        m.text,
        fmt_number(t.target_value),
        seconds("scale-out cooldown", t.scale_out_cooldown),
        seconds("scale-in cooldown", t.scale_in_cooldown),
    );
    if t.disable_scale_in {
        text.push_str("; never scales in");
    }
    Shown {
        text,
        metrics: m.metrics,
    }
}

/// What a policy does: `keeps EXPR at TARGET; …` for target tracking, `ADJUSTMENT by
/// breach: [lower, upper] → n, …; cooldown …` for step scaling (bounds relative to the
/// alarm threshold, as AWS holds them).
pub fn policy(p: &Policy) -> Shown {
    match &p.kind {
        PolicyKind::TargetTracking(t) => target_tracking(t),
        PolicyKind::Step(s) => {
            let mut text = format!(
                "{} by breach: {}; {}",
                s.adjustment_type.as_aws_str(),
                steps(&s.steps),
                seconds("cooldown", s.cooldown)
            );
            if let Some(a) = s.aggregation {
                let _ = write!(text, "; aggregation {}", a.as_aws_str());
            }
            if let Some(m) = s.min_adjustment_magnitude {
                let _ = write!(text, "; min adjustment {m}");
            }
            Shown {
                text,
                metrics: BTreeMap::new(),
            }
        }
    }
}

/// When an alarm fires: `EXPR >= THRESHOLD for D of N periods of P s; missing data: …`,
/// then whom it notifies (`; notifies ARN, … in ALARM`, `; notifies ARN, … on OK`). The
/// scaling policy it invokes is not part of the text (the entry holds its ARN).
pub fn alarm(a: &Alarm) -> Shown {
    let (m, periods) = match &a.metric {
        AlarmMetric::Math(queries) => {
            let periods: Vec<i32> = queries
                .iter()
                .filter_map(|q| match &q.source {
                    QuerySource::Metric(ms) => ms.period,
                    QuerySource::Expression(_) => None,
                })
                .collect();
            (math(queries), periods)
        }
        AlarmMetric::Single(ms) => (
            Shown {
                text: SINGLE_METRIC_ID.to_owned(),
                metrics: BTreeMap::from([(SINGLE_METRIC_ID.to_owned(), metric_line(ms))]),
            },
            ms.period.into_iter().collect(),
        ),
    };
    let period = periods.iter().max().copied().unwrap_or(USUAL_PERIOD);
    let of = match a.datapoints_to_alarm {
        Some(d) if d != a.evaluation_periods => format!("{d} of {}", a.evaluation_periods),
        _ => format!("{0} of {0}", a.evaluation_periods),
    };
    let mut text = format!(
        "{} {} {} for {of} periods of {period} s; missing data: {}",
        m.text,
        a.comparison.symbol(),
        fmt_number(a.threshold),
        a.missing_data.as_aws_str()
    );
    let notified: Vec<&str> = a
        .actions
        .iter()
        .map(String::as_str)
        .filter(|x| !is_scaling_policy_arn(x))
        .collect();
    if !notified.is_empty() {
        let _ = write!(text, "; notifies {} in ALARM", notified.join(", "));
    }
    if !a.ok_actions.is_empty() {
        let _ = write!(text, "; notifies {} on OK", a.ok_actions.join(", "));
    }
    Shown {
        text,
        metrics: m.metrics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scaling::backlog_policy::{Purpose, compile, example_spec};

    fn parsed_again(text: &str) -> String {
        format!("{}", math::parse(text).expect("the rendering parses"))
    }

    #[test]
    fn substitution_keeps_the_meaning_of_every_compiled_expression() {
        // Rendering with minimal parentheses, then parsing again, gives the same tree as
        // substituting into the fully parenthesized form the parser prints.
        let c = compile(&example_spec());
        for (_, a) in &c.alarms {
            let AlarmMetric::Math(qs) = &a.metric else {
                panic!("backlog alarms use metric math")
            };
            let shown = math(qs).text;
            let ret = qs
                .iter()
                .find(|q| q.return_data)
                .expect("one query returns");
            let QuerySource::Expression(e) = &ret.source else {
                panic!("the returned query is an expression")
            };
            let full = substitute(math::parse(e).expect("parses"), qs, 0);
            assert_eq!(parsed_again(&shown), format!("{full}"), "{shown}");
        }
    }

    #[test]
    fn the_example_alarms_read_as_one_expression_over_metrics() {
        let c = compile(&example_spec());
        let wake = c
            .alarms
            .iter()
            .find(|(p, _)| *p == Purpose::WakeFromZero)
            .map(|(_, a)| alarm(a))
            .expect("a wake alarm");
        assert_eq!(
            wake.text,
            "IF(FILL(tasks, 0) == 0 AND in_flight + received + empty_receives == 0, visible, 0) \
             >= 1 for 1 of 1 periods of 60 s; missing data: notBreaching"
        );
        assert_eq!(
            wake.metrics.keys().collect::<Vec<_>>(),
            [
                "empty_receives",
                "in_flight",
                "received",
                "tasks",
                "visible"
            ]
        );
        assert_eq!(
            wake.metrics["tasks"],
            "AWS/ECS CPUUtilization ClusterName=main ServiceName=worker, SampleCount"
        );
    }

    #[test]
    fn precedence_decides_the_parentheses() {
        let cases = [
            ("(a + b) * c", "(a + b) * c"),
            ("a + (b * c)", "a + b * c"),
            ("a - (b - c)", "a - (b - c)"),
            ("(a - b) - c", "a - b - c"),
            ("a / (b / c)", "a / (b / c)"),
            ("(a ^ b) ^ c", "(a ^ b) ^ c"),
            ("a ^ (b ^ c)", "a ^ b ^ c"),
            ("-(a + b)", "-(a + b)"),
            ("(a > b) == c", "(a > b) == c"),
            ("a OR (b AND c)", "a OR b AND c"),
            ("(a OR b) AND c", "(a OR b) AND c"),
            ("NOT (a AND b)", "NOT (a AND b)"),
        ];
        for (src, want) in cases {
            let e = math::parse(src).expect("parses");
            assert_eq!(show(&e, 0, false), want, "{src}");
            assert_eq!(
                parsed_again(want),
                format!("{e}"),
                "{src} keeps its meaning"
            );
        }
    }

    #[test]
    fn every_field_that_changes_behaviour_changes_the_text() {
        let c = compile(&example_spec());
        let (_, a) = &c.alarms[0];
        let base = alarm(a);
        let mut changed = Vec::new();
        let mut x = a.clone();
        x.threshold += 1.0;
        changed.push(alarm(&x));
        let mut x = a.clone();
        x.evaluation_periods += 1;
        changed.push(alarm(&x));
        let mut x = a.clone();
        x.datapoints_to_alarm = Some(a.evaluation_periods + 1);
        changed.push(alarm(&x));
        let mut x = a.clone();
        x.missing_data = crate::scaling::model::MissingData::Breaching;
        changed.push(alarm(&x));
        let mut x = a.clone();
        x.comparison = crate::scaling::model::Comparison::Greater;
        changed.push(alarm(&x));
        let mut x = a.clone();
        if let AlarmMetric::Math(qs) = &mut x.metric
            && let Some(QuerySource::Metric(ms)) = qs
                .iter_mut()
                .map(|q| &mut q.source)
                .find(|s| matches!(s, QuerySource::Metric(_)))
        {
            ms.stat = "Average".into();
        }
        changed.push(alarm(&x));
        let mut x = a.clone();
        x.actions
            .push("arn:aws:sns:us-east-1:123456789012:ops".into());
        changed.push(alarm(&x));
        let mut x = a.clone();
        x.ok_actions
            .push("arn:aws:sns:us-east-1:123456789012:ops".into());
        changed.push(alarm(&x));
        for (i, c) in changed.iter().enumerate() {
            assert_ne!(c, &base, "change {i} is visible");
        }
        // The scaling policy it invokes is the entry's ARN, not text.
        let mut x = a.clone();
        x.actions.insert(
            0,
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:abc:\
             resource/ecs/service/c/s:policyName/p"
                .into(),
        );
        assert_eq!(alarm(&x), base);
    }

    #[test]
    fn step_policies_list_their_steps_and_cooldown() {
        let c = compile(&example_spec());
        let wake = c
            .policies
            .iter()
            .find(|(p, _)| *p == Purpose::WakeFromZero)
            .map(|(_, p)| policy(p))
            .expect("a wake policy");
        assert_eq!(
            wake.text,
            "ExactCapacity by breach: [0, +inf] → 1; cooldown 60 s; aggregation Maximum"
        );
        let tt = c
            .policies
            .iter()
            .find(|(p, _)| *p == Purpose::BacklogPerTask)
            .map(|(_, p)| policy(p))
            .expect("a target tracking policy");
        assert!(
            tt.text
                .starts_with("keeps IF(tasks > 0 AND visible + in_flight >= 0,"),
            "{}",
            tt.text
        );
        assert!(
            tt.text
                .ends_with(" at 100; scale-out cooldown 60 s, scale-in cooldown 300 s")
        );
    }
}
