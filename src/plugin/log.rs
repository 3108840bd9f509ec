//! Logging for a plugin process: `tracing` events written to stderr as hclog JSON lines,
//! which Terraform reads, levels and shows according to `TF_LOG` / `TF_LOG_PROVIDER`.
//!
//! Owns the subscriber set-up only. Secrets must never reach a log call; third-party
//! crates (which might log raw requests at lower levels) are capped at INFO.

use std::io::Write;

use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// hclog's timestamp layout (`2006-01-02T15:04:05.000000Z07:00`), always in UTC.
const TIMESTAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The level asked for by `TF_LOG_PROVIDER`, else `TF_LOG`. Unset or `OFF` is off;
/// Terraform treats any other unrecognised value (such as `JSON`) as TRACE.
pub fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let raw = provider
        .filter(|s| !s.is_empty())
        .or(global.filter(|s| !s.is_empty()));
    match raw.map(str::to_ascii_uppercase).as_deref() {
        None | Some("OFF") => LevelFilter::OFF,
        Some("ERROR") => LevelFilter::ERROR,
        Some("WARN") => LevelFilter::WARN,
        Some("INFO") => LevelFilter::INFO,
        Some("DEBUG") => LevelFilter::DEBUG,
        Some(_) => LevelFilter::TRACE,
    }
}

/// Installs the global subscriber. `json` selects hclog JSON lines (when Terraform runs
/// the plugin); otherwise human-readable lines (debug mode, run by a person).
pub fn init(level: LevelFilter, json: bool) {
    let filter = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), level)
        .with_default(level.min(LevelFilter::INFO));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry.with(HclogLayer).try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init()
    };
    // Already initialised (e.g. in tests): keep the existing subscriber.
    drop(result);
}

/// Writes each event as one hclog JSON line on stderr.
struct HclogLayer;

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = hclog_line(event.metadata().level(), OffsetDateTime::now_utc(), |v| {
            event.record(v);
        });
        let mut err = std::io::stderr().lock();
        // Nothing sensible can be done when stderr is gone.
        let _ = writeln!(err, "{line}");
    }
}

/// Builds one hclog JSON line from a level, a time and the event's fields.
fn hclog_line(level: &Level, at: OffsetDateTime, record: impl FnOnce(&mut FieldVisitor)) -> String {
    let mut visitor = FieldVisitor::default();
    record(&mut visitor);
    let mut obj = serde_json::Map::new();
    obj.insert("@level".into(), hclog_level(level).into());
    obj.insert(
        "@message".into(),
        visitor.message.unwrap_or_default().into(),
    );
    obj.insert("@module".into(), "queuescale".into());
    obj.insert(
        "@timestamp".into(),
        at.format(TIMESTAMP).unwrap_or_default().into(),
    );
    for (k, v) in visitor.fields {
        obj.insert(k, v);
    }
    serde_json::Value::Object(obj).to_string()
}

fn hclog_level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: Option<String>,
    fields: Vec<(String, serde_json::Value)>,
}

impl FieldVisitor {
    fn put(&mut self, field: &Field, v: serde_json::Value) {
        if field.name() == "message" {
            self.message = Some(v.as_str().map_or_else(|| v.to_string(), str::to_owned));
        } else {
            self.fields.push((field.name().to_owned(), v));
        }
    }
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_level_wins_over_global_and_unknown_means_trace() {
        assert_eq!(
            level_from_env(Some("debug"), Some("ERROR")),
            LevelFilter::DEBUG
        );
        assert_eq!(level_from_env(None, Some("warn")), LevelFilter::WARN);
        assert_eq!(level_from_env(Some(""), Some("JSON")), LevelFilter::TRACE);
        assert_eq!(level_from_env(None, None), LevelFilter::OFF);
        assert_eq!(level_from_env(Some("off"), Some("trace")), LevelFilter::OFF);
    }

    #[test]
    fn lines_are_hclog_json_with_fields() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let line = hclog_line(&Level::DEBUG, at, |v| {
            v.message = Some("request".into());
            v.fields.push(("rpc".into(), "GetProviderSchema".into()));
        });
        let j: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(j["@level"], "debug");
        assert_eq!(j["@message"], "request");
        assert_eq!(j["@timestamp"], "2023-11-14T22:13:20.000000Z");
        assert_eq!(j["rpc"], "GetProviderSchema");
    }
}
