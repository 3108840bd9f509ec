//! Distribution summaries of timed samples.

use std::time::Duration;

/// Order statistics of a set of durations (nearest-rank percentiles).
pub struct Summary {
    sorted: Vec<Duration>,
}

impl Summary {
    /// Summarises `samples` (at least one).
    pub fn new(mut samples: Vec<Duration>) -> Summary {
        assert!(!samples.is_empty(), "a summary needs samples");
        samples.sort_unstable();
        Summary { sorted: samples }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The nearest-rank `p`-th percentile (0 < p ≤ 100): the smallest sample such that
    /// at least p % of the samples are less than or equal to it.
    pub fn percentile(&self, p: f64) -> Duration {
        let n = self.sorted.len();
        // Ranks are small integers; the float round trip is exact.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        self.sorted[rank.clamp(1, n) - 1]
    }

    /// The median (50th percentile).
    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    /// Smallest sample.
    pub fn min(&self) -> Duration {
        self.sorted[0]
    }

    /// Largest sample.
    pub fn max(&self) -> Duration {
        self.sorted[self.sorted.len() - 1]
    }

    /// Arithmetic mean.
    pub fn mean(&self) -> Duration {
        let total: Duration = self.sorted.iter().sum();
        total / u32::try_from(self.sorted.len()).unwrap_or(u32::MAX)
    }

    /// The samples, smallest first.
    pub fn sorted(&self) -> &[Duration] {
        &self.sorted
    }

    /// A Markdown table of the usual order statistics, in milliseconds.
    pub fn markdown_table(&self) -> String {
        let points: [(&str, Duration); 9] = [
            ("min", self.min()),
            ("p10", self.percentile(10.0)),
            ("p25", self.percentile(25.0)),
            ("median", self.median()),
            ("p75", self.percentile(75.0)),
            ("p90", self.percentile(90.0)),
            ("p99", self.percentile(99.0)),
            ("max", self.max()),
            ("mean", self.mean()),
        ];
        let header: Vec<&str> = points.iter().map(|(name, _)| *name).collect();
        let values: Vec<String> = points.iter().map(|(_, d)| ms(*d)).collect();
        format!(
            "| n | {} |\n|---|{}\n| {} | {} |\n",
            header.join(" | "),
            "---|".repeat(points.len()),
            self.len(),
            values.join(" | ")
        )
    }
}

/// Milliseconds with three decimals, e.g. `4.213 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Summary::new((1..=10).rev().map(Duration::from_millis).collect());
        assert_eq!(s.median(), Duration::from_millis(5));
        assert_eq!(s.percentile(90.0), Duration::from_millis(9));
        assert_eq!(s.percentile(99.0), Duration::from_millis(10));
        assert_eq!(s.min(), Duration::from_millis(1));
        assert_eq!(s.max(), Duration::from_millis(10));
    }
}
