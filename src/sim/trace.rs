//! Message arrivals: a trace is a list of `(second, messages)` pairs, read from
//! `seconds,messages` CSV text or made by one of the named reference generators
//! (deterministic: each has a fixed seed). No I/O: callers read files.

/// Arrivals by second, sorted, one entry per second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// `(second, messages sent in it)`, ascending, no repeated second, no zero counts.
    pub arrivals: Vec<(u32, u32)>,
    /// How long the trace lasts (at least one second past its last arrival).
    pub duration: u32,
}

/// A CSV line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct TraceError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Trace {
    /// A trace from unsorted pairs: sorted, same seconds merged, zero counts dropped.
    pub fn new(mut pairs: Vec<(u32, u32)>, duration: u32) -> Trace {
        pairs.sort_unstable();
        let mut arrivals: Vec<(u32, u32)> = Vec::with_capacity(pairs.len());
        for (s, n) in pairs {
            if n == 0 {
                continue;
            }
            match arrivals.last_mut() {
                Some((last, count)) if *last == s => *count = count.saturating_add(n),
                _ => arrivals.push((s, n)),
            }
        }
        let end = arrivals.last().map_or(0, |(s, _)| s + 1);
        Trace {
            arrivals,
            duration: duration.max(end),
        }
    }

    /// Reads `seconds,messages` lines. A first line that is not numeric is a header; empty
    /// lines and lines starting with `#` are skipped. Seconds are whole and non-negative,
    /// messages whole and non-negative.
    ///
    /// # Errors
    /// [`TraceError`] with the line number of the first bad line.
    pub fn from_csv(text: &str) -> Result<Trace, TraceError> {
        let mut pairs = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |message: String| TraceError {
                line: i + 1,
                message,
            };
            let Some((a, b)) = line.split_once(',') else {
                return Err(err(format!("expected `seconds,messages`, found {line:?}")));
            };
            let (a, b) = (a.trim(), b.trim());
            if i == 0 && a.parse::<f64>().is_err() {
                continue;
            }
            let second: u32 = a
                .parse()
                .map_err(|_| err(format!("seconds must be a whole number ≥ 0, not {a:?}")))?;
            let count: u32 = b
                .parse()
                .map_err(|_| err(format!("messages must be a whole number ≥ 0, not {b:?}")))?;
            pairs.push((second, count));
        }
        Ok(Trace::new(pairs, 0))
    }

    /// Messages in the trace.
    pub fn total(&self) -> u64 {
        self.arrivals.iter().map(|(_, n)| u64::from(*n)).sum()
    }
}

/// The reference traces, by name.
pub const REFERENCE: [(&str, &str); 5] = [
    (
        "burst",
        "1500 messages at once, then 2 hours of nothing (source document 002)",
    ),
    (
        "diurnal",
        "24 hours: quiet from midnight to 6:00, a daytime peak of 5 messages/s",
    ),
    ("sparse", "3 days: one message every 2 to 8 hours"),
    (
        "spiky",
        "24 hours: a trickle with Poisson bursts of 200 to 1000 messages, 1 an hour",
    ),
    (
        "trickle",
        "24 hours: one message every 30 seconds on average",
    ),
];

const HOUR: u32 = 3600;
const DAY: u32 = 24 * HOUR;

/// Poisson-distributed count with mean `lambda` (Knuth's method; λ here is small).
fn poisson(rng: &mut fastrand::Rng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        // Normal approximation keeps large means cheap.
        let u1 = rng.f64().max(f64::MIN_POSITIVE);
        let u2 = rng.f64();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        return (lambda + z * lambda.sqrt()).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let mut k = 0;
    let mut p = rng.f64();
    while p > limit {
        k += 1;
        p *= rng.f64();
    }
    k
}

/// Exponentially distributed gap with mean `mean`.
fn exponential(rng: &mut fastrand::Rng, mean: f64) -> f64 {
    -mean * (1.0 - rng.f64()).ln()
}

/// The reference trace `name` (see [`REFERENCE`]), `None` for an unknown name.
pub fn reference(name: &str) -> Option<Trace> {
    let mut rng = fastrand::Rng::with_seed(0x5157_2026);
    Some(match name {
        "burst" => Trace::new(vec![(0, 1500)], 2 * HOUR),
        "diurnal" => {
            let mut pairs = Vec::new();
            for s in 0..DAY {
                let hour = f64::from(s) / f64::from(HOUR);
                // Zero before 6:00, a sine from 6:00 to 24:00 peaking at 15:00.
                let rate = if hour < 6.0 {
                    0.0
                } else {
                    5.0 * (std::f64::consts::PI * (hour - 6.0) / 18.0).sin().powi(2)
                };
                pairs.push((s, poisson(&mut rng, rate)));
            }
            Trace::new(pairs, DAY)
        }
        "sparse" => {
            let mut pairs = Vec::new();
            let mut t = f64::from(HOUR);
            while t < f64::from(3 * DAY) {
                pairs.push((t as u32, 1));
                t += f64::from(2 * HOUR) + rng.f64() * f64::from(6 * HOUR);
            }
            Trace::new(pairs, 3 * DAY)
        }
        "spiky" => {
            let mut pairs = Vec::new();
            for s in 0..DAY {
                pairs.push((s, poisson(&mut rng, 0.02)));
            }
            let mut t = exponential(&mut rng, f64::from(HOUR));
            while t < f64::from(DAY) {
                let size = rng.u32(200..=1000);
                let spread = rng.u32(1..=10);
                for k in 0..spread {
                    pairs.push((t as u32 + k, size / spread + u32::from(k < size % spread)));
                }
                t += exponential(&mut rng, f64::from(HOUR));
            }
            Trace::new(pairs, DAY)
        }
        "trickle" => {
            let mut pairs = Vec::new();
            for s in 0..DAY {
                pairs.push((s, poisson(&mut rng, 1.0 / 30.0)));
            }
            Trace::new(pairs, DAY)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_header_comments_and_repeats() {
        let t =
            Trace::from_csv("seconds,messages\n# burst\n0,10\n5, 2\n0,5\n\n9,0\n").expect("valid");
        assert_eq!(t.arrivals, [(0, 15), (5, 2)]);
        assert_eq!(t.duration, 6);
        assert_eq!(t.total(), 17);
    }

    #[test]
    fn bad_csv_lines_are_named() {
        let e = Trace::from_csv("0,1\n1;2\n").expect_err("bad");
        assert_eq!(e.line, 2);
        let e = Trace::from_csv("0,1\n-3,2\n").expect_err("bad");
        assert_eq!(e.line, 2);
        let e = Trace::from_csv("0,1\n3,1.5\n").expect_err("bad");
        assert!(e.message.contains("messages"));
    }

    #[test]
    fn reference_traces_are_deterministic_and_shaped_as_described() {
        for (name, _) in REFERENCE {
            let a = reference(name).expect("known");
            assert_eq!(Some(&a), reference(name).as_ref(), "{name}");
            assert!(a.total() > 0, "{name}");
        }
        assert_eq!(reference("burst").expect("known").arrivals, [(0, 1500)]);
        let diurnal = reference("diurnal").expect("known");
        assert!(
            diurnal.arrivals.iter().all(|(s, _)| *s >= 6 * HOUR),
            "quiet nights"
        );
        let sparse = reference("sparse").expect("known");
        for w in sparse.arrivals.windows(2) {
            let gap = w[1].0 - w[0].0;
            assert!((2 * HOUR..=8 * HOUR).contains(&gap), "gap {gap}");
        }
        let trickle = reference("trickle").expect("known").total();
        assert!((2000..4000).contains(&trickle), "{trickle}");
        assert!(reference("nope").is_none());
    }
}
