//! Figure 1: from spawning the plugin to its complete handshake line on stdout.

use std::fmt::Write as _;
use std::time::Duration;

use crate::plugin::{self, Handshake, Identity, Plugin};
use crate::report::{Figure, Section};
use crate::stats::{Summary, ms};
use crate::{Bench, Result};

const GOAL: Duration = Duration::from_millis(10);
const GOAL_TEXT: &str = "≤ 10 ms (median)";
/// Untimed starts first, so the binary is in the page cache as it is for Terraform.
const WARM_UP: u32 = 3;

/// Starts the plugin `bench.starts` times, timing spawn → first stdout line.
pub fn run(bench: &Bench) -> Result<Section> {
    let client = Identity::terraform_like()?;
    let mut cmd = plugin::command(&bench.binary, &client);
    let mut samples = Vec::new();
    for i in 0..WARM_UP + bench.starts {
        let (mut plugin, started) = Plugin::spawn(&mut cmd)?;
        let line = plugin.first_line()?;
        let took = started.elapsed();
        Handshake::parse(&line)?;
        // Dropping kills the process and waits for it.
        drop(plugin);
        if i >= WARM_UP {
            samples.push(took);
        }
    }
    let s = Summary::new(samples);
    let median = s.median();
    let pass = median <= GOAL;
    let mut details = format!(
        "Goal: {GOAL_TEXT}. **{verdict}** (median {median}, p90 {p90}, min {min}, \
         max {max}).\n\n\
         The release binary is started {n} times (after {WARM_UP} untimed starts) with the \
         environment Terraform gives a provider: `TF_PLUGIN_MAGIC_COOKIE`, \
         `PLUGIN_PROTOCOL_VERSIONS=5,6`, `PLUGIN_MIN_PORT=10000`, `PLUGIN_MAX_PORT=25000` and \
         `PLUGIN_CLIENT_CERT` holding a Terraform-like ECDSA P-521 certificate. Each sample is \
         the time from just before `spawn` to the moment the first complete stdout line \
         (the handshake line, checked to parse) has been read through the pipe; the process \
         is then killed and reaped. The time covers exec and dynamic loading, the Tokio \
         runtime, binding the port, parsing the client certificate, generating the \
         per-process P-256 server certificate and building the gRPC router.\n\n\
         Distribution:\n\n{table}\n\
         All samples (ms, sorted): ",
        verdict = if pass { "Pass" } else { "Fail" },
        median = ms(median),
        p90 = ms(s.percentile(90.0)),
        min = ms(s.min()),
        max = ms(s.max()),
        n = s.len(),
        table = s.markdown_table(),
    );
    let all: Vec<String> = s
        .sorted()
        .iter()
        .map(|d| format!("{:.2}", d.as_secs_f64() * 1e3))
        .collect();
    let _ = writeln!(details, "{}.", all.join(", "));
    Ok(Section {
        title: "Start-up: spawn to handshake line".to_owned(),
        figures: vec![Figure::with_goal(
            "Start → handshake line (median; p90, min, max)",
            format!(
                "{} ({}, {}, {})",
                ms(median),
                ms(s.percentile(90.0)),
                ms(s.min()),
                ms(s.max())
            ),
            GOAL_TEXT,
            pass,
        )],
        details,
    })
}
