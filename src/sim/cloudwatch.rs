//! CloudWatch as the simulation sees it: one-minute datapoints with the instant each one
//! becomes readable, metric queries (metric math through [`super::math`]) over an alarm's
//! evaluation range, and alarm state as the CloudWatch user guide documents it.
//!
//! Only datapoints already published at the evaluation instant are read: a late metric is
//! a missing datapoint, exactly as an alarm on AWS sees it.

use std::collections::BTreeMap;

use super::SimError;
use super::math::{self, Context, Series, Value};
use crate::scaling::model::{
    AlarmMetric, Comparison, Metric, MetricQuery, MetricStat, MissingData, QuerySource,
};

/// The metrics the simulated queue and service publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// `AWS/SQS ApproximateNumberOfMessagesVisible`.
    Visible = 0,
    /// `AWS/SQS ApproximateNumberOfMessagesNotVisible`.
    NotVisible = 1,
    /// `AWS/SQS ApproximateNumberOfMessagesDelayed`.
    Delayed = 2,
    /// `AWS/ECS CPUUtilization`.
    Cpu = 3,
    /// `ECS/ContainerInsights RunningTaskCount`.
    RunningTaskCount = 4,
    /// `AWS/SQS NumberOfMessagesReceived`.
    Received = 5,
    /// `AWS/SQS NumberOfEmptyReceives`.
    EmptyReceives = 6,
}

const SOURCES: usize = 7;

/// The names the simulated metrics are published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// SQS queue name (`QueueName`).
    pub queue: String,
    /// ECS cluster (`ClusterName`).
    pub cluster: String,
    /// ECS service (`ServiceName`).
    pub service: String,
}

impl Names {
    /// The simulated metric `m` stands for, when its namespace, name and dimensions are
    /// exactly those the queue or service publishes.
    pub(super) fn source_of(&self, m: &Metric) -> Option<Source> {
        let dims = |pairs: &[(&str, &str)]| {
            m.dimensions.len() == pairs.len()
                && pairs
                    .iter()
                    .all(|(k, v)| m.dimensions.get(*k).map(String::as_str) == Some(*v))
        };
        let queue = dims(&[("QueueName", &self.queue)]);
        let service = dims(&[
            ("ClusterName", &self.cluster),
            ("ServiceName", &self.service),
        ]);
        match (m.namespace.as_str(), m.name.as_str()) {
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible") if queue => Some(Source::Visible),
            ("AWS/SQS", "ApproximateNumberOfMessagesNotVisible") if queue => {
                Some(Source::NotVisible)
            }
            ("AWS/SQS", "ApproximateNumberOfMessagesDelayed") if queue => Some(Source::Delayed),
            ("AWS/SQS", "NumberOfMessagesReceived") if queue => Some(Source::Received),
            ("AWS/SQS", "NumberOfEmptyReceives") if queue => Some(Source::EmptyReceives),
            ("AWS/ECS", "CPUUtilization") if service => Some(Source::Cpu),
            ("ECS/ContainerInsights", "RunningTaskCount") if service => {
                Some(Source::RunningTaskCount)
            }
            _ => None,
        }
    }
}

/// The statistics the simulation computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stat {
    Average,
    Sum,
    Minimum,
    Maximum,
    SampleCount,
}

impl Stat {
    fn parse(s: &str) -> Option<Stat> {
        Some(match s {
            "Average" => Stat::Average,
            "Sum" => Stat::Sum,
            "Minimum" => Stat::Minimum,
            "Maximum" => Stat::Maximum,
            "SampleCount" => Stat::SampleCount,
            _ => return None,
        })
    }
}

/// The samples of one metric in one minute, and when they become readable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Datapoint {
    /// Number of samples.
    pub count: f64,
    /// Their sum.
    pub sum: f64,
    /// Their minimum.
    pub min: f64,
    /// Their maximum.
    pub max: f64,
    /// Second from which CloudWatch returns this datapoint.
    pub published_at: u32,
}

impl Datapoint {
    /// One sample of `value`.
    pub(super) fn gauge(value: f64, published_at: u32) -> Datapoint {
        Datapoint {
            count: 1.0,
            sum: value,
            min: value,
            max: value,
            published_at,
        }
    }
}

/// Every published datapoint, by source and minute.
#[derive(Debug, Default)]
pub(super) struct Store {
    minutes: [Vec<Option<Datapoint>>; SOURCES],
}

impl Store {
    /// Records the datapoint of `minute` (the minute starting at `60 × minute`).
    pub(super) fn put(&mut self, source: Source, minute: usize, dp: Datapoint) {
        let v = &mut self.minutes[source as usize];
        if v.len() <= minute {
            v.resize(minute + 1, None);
        }
        v[minute] = Some(dp);
    }

    /// The statistic over the period `[start, start + period)` from the datapoints readable
    /// at `now`; `None` when there are none.
    ///
    /// **Assumption**: a period longer than a minute aggregates whichever of its one-minute
    /// datapoints are already readable (CloudWatch documents the aggregation, not how
    /// partially published periods look).
    fn aggregate(
        &self,
        source: Source,
        stat: Stat,
        start: i64,
        period: u32,
        now: u32,
    ) -> Option<f64> {
        if start < 0 {
            return None;
        }
        let first = (start / 60) as usize;
        let last = first + (period as usize).div_ceil(60);
        let v = &self.minutes[source as usize];
        let mut acc: Option<(f64, f64, f64, f64)> = None;
        for dp in v.get(first..last.min(v.len()))?.iter().flatten() {
            if dp.published_at > now {
                continue;
            }
            acc = Some(match acc {
                None => (dp.count, dp.sum, dp.min, dp.max),
                Some((c, s, lo, hi)) => (c + dp.count, s + dp.sum, lo.min(dp.min), hi.max(dp.max)),
            });
        }
        let (count, sum, min, max) = acc?;
        Some(match stat {
            Stat::Average => sum / count,
            Stat::Sum => sum,
            Stat::Minimum => min,
            Stat::Maximum => max,
            Stat::SampleCount => count,
        })
    }
}

enum QueryKind {
    Metric(Option<Source>, Stat),
    Expression(math::Expr),
}

struct Query {
    id: String,
    kind: QueryKind,
}

/// A compiled list of metric queries with one result, evaluated over a grid of periods.
pub(super) struct QuerySet {
    queries: Vec<Query>,
    /// Evaluation order: every expression after the queries it reads.
    order: Vec<usize>,
    result: usize,
    /// The period of every metric in the list, seconds.
    pub period: u32,
}

fn stat_of(owner: &str, id: &str, ms: &MetricStat) -> Result<Stat, SimError> {
    Stat::parse(&ms.stat).ok_or_else(|| {
        SimError::Setup(format!(
            "{owner}: query `{id}` uses the statistic {:?}; the simulation computes Average, \
             Sum, Minimum, Maximum and SampleCount",
            ms.stat
        ))
    })
}

impl QuerySet {
    /// Compiles `queries`; `period` replaces the metrics' own (target tracking's metrics
    /// carry none: AAS reads them at one minute). Metrics the simulation does not publish
    /// get a warning and never have data.
    pub(super) fn compile(
        owner: &str,
        queries: &[MetricQuery],
        period: Option<u32>,
        names: &Names,
        warnings: &mut Vec<String>,
    ) -> Result<QuerySet, SimError> {
        let mut compiled = Vec::new();
        let mut periods = Vec::new();
        for q in queries {
            let kind = match &q.source {
                QuerySource::Metric(ms) => {
                    let source = names.source_of(&ms.metric);
                    if source.is_none() {
                        warnings.push(format!(
                            "{owner}: query `{}` reads {} {} {:?}, which the simulated queue and \
                             service do not publish: it never has data",
                            q.id, ms.metric.namespace, ms.metric.name, ms.metric.dimensions
                        ));
                    }
                    if let Some(p) = ms.period {
                        periods.push(p);
                    }
                    QueryKind::Metric(source, stat_of(owner, &q.id, ms)?)
                }
                QuerySource::Expression(text) => {
                    QueryKind::Expression(math::parse(text).map_err(|error| SimError::Parse {
                        owner: owner.to_owned(),
                        id: q.id.clone(),
                        error,
                    })?)
                }
            };
            compiled.push(Query {
                id: q.id.clone(),
                kind,
            });
        }
        let returned: Vec<usize> = queries
            .iter()
            .enumerate()
            .filter(|(_, q)| q.return_data)
            .map(|(i, _)| i)
            .collect();
        let [result] = returned[..] else {
            return Err(SimError::Setup(format!(
                "{owner}: {} queries return data; exactly one must",
                returned.len()
            )));
        };
        let period = match period {
            Some(p) => i64::from(p),
            None => {
                let first = periods.first().copied().unwrap_or(60);
                if periods.iter().any(|p| *p != first) {
                    return Err(SimError::Setup(format!(
                        "{owner}: the metrics have different periods {periods:?}; an alarm's \
                         metrics must share one"
                    )));
                }
                i64::from(first)
            }
        };
        let period = u32::try_from(period)
            .ok()
            .filter(|p| *p >= 60 && p % 60 == 0)
            .ok_or_else(|| {
                SimError::Setup(format!(
                    "{owner}: period {period} s; the simulation evaluates whole minutes"
                ))
            })?;
        let order = topological(owner, &compiled)?;
        Ok(QuerySet {
            queries: compiled,
            order,
            result,
            period,
        })
    }

    /// A single-metric alarm as a one-query list.
    pub(super) fn from_alarm_metric(
        owner: &str,
        metric: &AlarmMetric,
        names: &Names,
        warnings: &mut Vec<String>,
    ) -> Result<QuerySet, SimError> {
        match metric {
            AlarmMetric::Math(queries) => QuerySet::compile(owner, queries, None, names, warnings),
            AlarmMetric::Single(ms) => QuerySet::compile(
                owner,
                &[MetricQuery {
                    id: "m1".into(),
                    label: None,
                    return_data: true,
                    source: QuerySource::Metric(ms.clone()),
                }],
                None,
                names,
                warnings,
            ),
        }
    }

    /// The result series over `slots` (period start times, oldest first), reading what is
    /// published at `now`.
    ///
    /// # Errors
    /// [`SimError::Eval`] when an expression cannot be evaluated, or its result is not one
    /// time series.
    pub(super) fn evaluate(
        &self,
        owner: &str,
        store: &Store,
        slots: &[i64],
        now: u32,
    ) -> Result<Series, SimError> {
        let mut values: Vec<Option<Value>> = vec![None; self.queries.len()];
        for &i in &self.order {
            let q = &self.queries[i];
            let v = match &q.kind {
                QueryKind::Metric(source, stat) => Value::Series(
                    slots
                        .iter()
                        .map(|&s| {
                            source.and_then(|src| store.aggregate(src, *stat, s, self.period, now))
                        })
                        .collect(),
                ),
                QueryKind::Expression(e) => {
                    let ctx = Ctx {
                        len: slots.len(),
                        queries: &self.queries,
                        values: &values,
                    };
                    math::eval(e, &ctx).map_err(|error| SimError::Eval {
                        owner: owner.to_owned(),
                        id: q.id.clone(),
                        error,
                    })?
                }
            };
            values[i] = Some(v);
        }
        match values[self.result].take() {
            Some(Value::Series(s)) => Ok(s),
            Some(Value::Scalar(x)) => Ok(vec![Some(x); slots.len()]),
            _ => Err(SimError::Setup(format!(
                "{owner}: query `{}` must give one time series",
                self.queries[self.result].id
            ))),
        }
    }
}

fn topological(owner: &str, queries: &[Query]) -> Result<Vec<usize>, SimError> {
    let index: BTreeMap<&str, usize> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| (q.id.as_str(), i))
        .collect();
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut mark = vec![0u8; queries.len()];
    let mut order = Vec::new();
    fn visit(
        i: usize,
        queries: &[Query],
        index: &BTreeMap<&str, usize>,
        mark: &mut [u8],
        order: &mut Vec<usize>,
        owner: &str,
    ) -> Result<(), SimError> {
        match mark[i] {
            2 => return Ok(()),
            1 => {
                return Err(SimError::Setup(format!(
                    "{owner}: query `{}` depends on itself",
                    queries[i].id
                )));
            }
            _ => {}
        }
        mark[i] = 1;
        if let QueryKind::Expression(e) = &queries[i].kind {
            for id in e.referenced_ids() {
                match index.get(id) {
                    Some(&j) => visit(j, queries, index, mark, order, owner)?,
                    None => {
                        return Err(SimError::Setup(format!(
                            "{owner}: query `{}` reads `{id}`, which no query defines",
                            queries[i].id
                        )));
                    }
                }
            }
            if e.functions().contains(&"METRICS") {
                for (j, q) in queries.iter().enumerate() {
                    if matches!(q.kind, QueryKind::Metric(..)) {
                        visit(j, queries, index, mark, order, owner)?;
                    }
                }
            }
        }
        mark[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..queries.len() {
        visit(i, queries, &index, &mut mark, &mut order, owner)?;
    }
    Ok(order)
}

struct Ctx<'a> {
    len: usize,
    queries: &'a [Query],
    values: &'a [Option<Value>],
}

impl Context for Ctx<'_> {
    fn slots(&self) -> usize {
        self.len
    }

    fn lookup(&self, id: &str) -> Option<Value> {
        let i = self.queries.iter().position(|q| q.id == id)?;
        self.values[i].clone()
    }

    fn metric_ids(&self) -> Vec<String> {
        self.queries
            .iter()
            .filter(|q| matches!(q.kind, QueryKind::Metric(..)))
            .map(|q| q.id.clone())
            .collect()
    }
}

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    /// `OK`
    Ok,
    /// `ALARM`
    Alarm,
    /// `INSUFFICIENT_DATA`
    InsufficientData,
}

/// Extra periods CloudWatch reads beyond `EvaluationPeriods`.
///
/// **Assumption**: the user guide says CloudWatch "attempts to retrieve a higher number of
/// data points than specified by Evaluation Periods", depending on the period, and its
/// example retrieves 5 for 3; we read two more periods for every alarm.
pub const EXTRA_RANGE_PERIODS: usize = 2;

/// The outcome of one evaluation: the new state and the real datapoints it was decided on
/// (oldest first), which a step policy aggregates.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Decision {
    pub state: AlarmState,
    pub values: Vec<f64>,
}

/// Alarm state from the datapoints of the evaluation range (oldest first), as the user
/// guide's "How alarm state is evaluated when data is missing" describes it:
///
/// - with at least `n` (EvaluationPeriods) real datapoints in the range, the most recent
///   `n` of them decide and TreatMissingData is not used ("evaluate on the most recent
///   real ones", also when the newest periods are missing);
/// - with fewer, every real datapoint counts and missing ones fill up to `n` as
///   TreatMissingData says; `m` (DatapointsToAlarm) breaching ones mean ALARM, else OK.
///
/// For `missing` and `ignore` with fewer than `m` breaching and no non-breaching real
/// datapoint, the guide's tables give INSUFFICIENT_DATA (resp. the current state) when
/// the newest period has data and ALARM (resp. the current state) when it does not — the
/// "re-evaluate the last set of data points after the metric has stopped flowing" the
/// guide notes. We follow the tables; every row of both is a unit test below.
pub(super) fn decide(
    range: &[Option<f64>],
    n: usize,
    m: usize,
    breaches: impl Fn(f64) -> bool,
    missing: MissingData,
    current: AlarmState,
) -> Decision {
    let real: Vec<f64> = range.iter().flatten().copied().collect();
    if real.len() >= n {
        let values = real[real.len() - n..].to_vec();
        let b = values.iter().filter(|v| breaches(**v)).count();
        let state = if b >= m {
            AlarmState::Alarm
        } else {
            AlarmState::Ok
        };
        return Decision { state, values };
    }
    let b = real.iter().filter(|v| breaches(**v)).count();
    let fill = n - real.len();
    let state = match missing {
        MissingData::Breaching => {
            if b + fill >= m {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            }
        }
        MissingData::NotBreaching => {
            if b >= m {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            }
        }
        MissingData::Missing | MissingData::Ignore => {
            if real.is_empty() {
                if missing == MissingData::Missing {
                    AlarmState::InsufficientData
                } else {
                    current
                }
            } else if b >= m {
                AlarmState::Alarm
            } else if b < real.len() {
                AlarmState::Ok
            } else if missing == MissingData::Ignore {
                current
            } else if range.last().copied().flatten().is_none() {
                AlarmState::Alarm
            } else {
                AlarmState::InsufficientData
            }
        }
    };
    Decision {
        state,
        values: real,
    }
}

/// Whether `value` breaches `threshold` under `comparison`.
pub(super) fn breaches(comparison: Comparison, threshold: f64, value: f64) -> bool {
    match comparison {
        Comparison::GreaterOrEqual => value >= threshold,
        Comparison::Greater => value > threshold,
        Comparison::LessOrEqual => value <= threshold,
        Comparison::Less => value < threshold,
    }
}

/// The start times of the `len` complete periods before `now` (oldest first): the
/// evaluation range of an alarm evaluated at `now`.
///
/// **Assumption**: the newest period in the range is the last one that has ended; the
/// minute in progress is not part of it (CloudWatch does not say how it aligns).
pub(super) fn range_slots(now: u32, period: u32, len: usize) -> Vec<i64> {
    let end = i64::from(now / period * period);
    (0..len)
        .map(|i| end - i64::from(period) * (len - i) as i64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of the guide's tables: `0` non-breaching, `X` breaching, `-` missing.
    fn row(text: &str) -> Vec<Option<f64>> {
        text.split_whitespace()
            .map(|c| match c {
                "0" => Some(0.0),
                "X" => Some(1.0),
                _ => None,
            })
            .collect()
    }

    fn states(text: &str, n: usize, m: usize) -> [AlarmState; 4] {
        [
            MissingData::Missing,
            MissingData::Ignore,
            MissingData::Breaching,
            MissingData::NotBreaching,
        ]
        .map(|md| decide(&row(text), n, m, |v| v > 0.5, md, AlarmState::Ok).state)
    }

    use AlarmState::{Alarm as A, InsufficientData as I, Ok as O};

    /// The guide's first table: 3 of 3, five datapoints retrieved. `O` for "retain current
    /// state" rows, since the current state is OK here.
    #[test]
    fn three_of_three_table_from_the_user_guide() {
        assert_eq!(states("0 - X - X", 3, 3), [O, O, O, O]);
        assert_eq!(states("0 - - - -", 3, 3), [O, O, O, O]);
        assert_eq!(states("- - - - -", 3, 3), [I, O, A, O]);
        assert_eq!(states("0 X X - X", 3, 3), [A, A, A, A]);
        assert_eq!(states("- - - - X", 3, 3), [I, O, A, O]);
        assert_eq!(states("X - - - -", 3, 3), [A, O, A, O]);
    }

    #[test]
    fn two_of_three_table_from_the_user_guide() {
        assert_eq!(states("0 - X - X", 3, 2), [A, A, A, A]);
        assert_eq!(states("0 0 X 0 X", 3, 2), [A, A, A, A]);
        assert_eq!(states("0 - X - -", 3, 2), [O, O, A, O]);
        assert_eq!(states("- - - - 0", 3, 2), [O, O, A, O]);
        assert_eq!(states("- - - - X", 3, 2), [I, O, A, O]);
    }

    #[test]
    fn ignore_keeps_the_current_state() {
        let d = decide(
            &row("- - - - -"),
            3,
            3,
            |v| v > 0.5,
            MissingData::Ignore,
            AlarmState::Alarm,
        );
        assert_eq!(d.state, AlarmState::Alarm);
    }

    #[test]
    fn missing_newest_datapoints_evaluate_the_most_recent_real_ones() {
        // 15 of 15 ≤ 0 with a 17-period range: the two newest periods are unpublished,
        // the 15 before them are all 0, so the alarm fires whatever the newest minutes hold.
        let mut range = vec![Some(0.0); 15];
        range.extend([None, None]);
        let d = decide(
            &range,
            15,
            15,
            |v| v <= 0.0,
            MissingData::NotBreaching,
            AlarmState::Ok,
        );
        assert_eq!(d.state, AlarmState::Alarm);
        assert_eq!(d.values.len(), 15);
    }

    #[test]
    fn the_range_ends_at_the_last_complete_period() {
        assert_eq!(range_slots(630, 60, 3), [420, 480, 540]);
        assert_eq!(range_slots(630, 300, 2), [0, 300]);
    }

    #[test]
    fn aggregates_only_published_minutes() {
        let mut s = Store::default();
        s.put(Source::Visible, 0, Datapoint::gauge(5.0, 80));
        s.put(Source::Visible, 1, Datapoint::gauge(9.0, 140));
        assert_eq!(s.aggregate(Source::Visible, Stat::Maximum, 0, 60, 79), None);
        assert_eq!(
            s.aggregate(Source::Visible, Stat::Maximum, 0, 60, 80),
            Some(5.0)
        );
        assert_eq!(
            s.aggregate(Source::Visible, Stat::Maximum, 0, 120, 100),
            Some(5.0)
        );
        assert_eq!(
            s.aggregate(Source::Visible, Stat::Maximum, 0, 120, 140),
            Some(9.0)
        );
        assert_eq!(
            s.aggregate(Source::Visible, Stat::SampleCount, 0, 120, 140),
            Some(2.0)
        );
        assert_eq!(
            s.aggregate(Source::Visible, Stat::Average, 0, 120, 140),
            Some(7.0)
        );
    }
}
