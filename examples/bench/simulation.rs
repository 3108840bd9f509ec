//! Figures 5 and 6: how fast the simulator runs a month of one policy, and the comparison
//! of five ways to scale one service on every reference trace (`compare`), which is also
//! written into `docs/guides/how-it-scales.md` between its markers.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use terraform_provider_queuescale::compare;
use terraform_provider_queuescale::sim::{self, trace};
use terraform_provider_queuescale::simulate;

use crate::report::{Figure, Section};
use crate::{Bench, Result};

const GOAL: Duration = Duration::from_secs(2);
const GOAL_TEXT: &str = "≤ 2 s (slowest trace)";
const DAYS: u32 = 30;
/// Timed runs per trace; the median is reported.
const RUNS: usize = 3;

/// The guide the comparison table is written into, and its markers.
const GUIDE: &str = "docs/guides/how-it-scales.md";
const BEGIN: &str = "<!-- comparison -->";
const END: &str = "<!-- /comparison -->";

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Runs the default backlog policy for 30 days on each reference trace played back to back.
pub fn speed(_bench: &Bench) -> Result<Section> {
    let contenders = compare::contenders()?;
    let Some(compare::Scaler::Objects(objects)) = contenders.first().map(|c| &c.scaler) else {
        return Err("the first contender is the backlog policy".into());
    };
    let mut table = String::from(
        "| Trace | Copies | Messages | Simulated | Median of 3 runs | Simulated seconds per second |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut slowest: Option<(&str, Duration)> = None;
    for name in compare::reference_traces() {
        let one = trace::reference(name).ok_or_else(|| format!("no trace {name}"))?;
        let copies = (DAYS * 86_400).div_ceil(one.duration.max(1));
        let t = simulate::repeated(one, copies);
        let mut sc = compare::workload().scenario_for(
            sim::Names {
                queue: "jobs".into(),
                cluster: "main".into(),
                service: "worker".into(),
            },
            Some(compare::PROCESSING_SECONDS),
            t,
        )?;
        sc.duration = DAYS * 86_400;
        let mut times = Vec::new();
        let mut messages = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let report = sim::run(objects, &sc).map_err(|e| format!("{name}: {e}"))?;
            times.push(started.elapsed());
            messages = report.summary.messages_arrived;
        }
        times.sort_unstable();
        let median = times[RUNS / 2];
        let rate = f64::from(sc.duration) / median.as_secs_f64().max(1e-9);
        let _ = writeln!(
            table,
            "| `{name}` | {copies} | {messages} | {DAYS} days | {} | {rate:.3e} |",
            secs(median)
        );
        if slowest.is_none_or(|(_, d)| median > d) {
            slowest = Some((name, median));
        }
    }
    let (name, worst) = slowest.ok_or("no reference trace")?;
    let pass = worst <= GOAL;
    let details = format!(
        "Goal: {GOAL_TEXT}. **{verdict}** (slowest: `{name}`, {worst}).\n\n\
         The default backlog policy (as in the comparison below: 0–50 tasks, 10 s / 0.1 s) \
         is planned once and simulated for {DAYS} days on each reference trace played back \
         to back, in the release build, in this process (`sim::run`, no I/O). The clock \
         steps one second at a time while anything is visible or being processed; \
         stretches where nothing is (no message visible, every task idle) are advanced to \
         the next arrival, metric minute or alarm evaluation in one jump, with the same \
         result as stepping through them. Each figure is the median of {RUNS} runs.\n\n\
         {table}",
        verdict = if pass { "Pass" } else { "Fail" },
        worst = secs(worst),
    );
    Ok(Section {
        title: "Simulator: 30 days of one policy at one-second resolution".to_owned(),
        figures: vec![Figure::with_goal(
            "Simulate 30 days of one policy (release build, slowest trace)",
            format!("{} (`{name}`)", secs(worst)),
            GOAL_TEXT,
            pass,
        )],
        details,
    })
}

/// The comparison table and its notes, as Markdown.
fn comparison_markdown() -> Result<(String, usize)> {
    let traces = compare::reference_traces();
    let rows = compare::run(&traces)?;
    let mut md = format!("{}\n{}", compare::markdown(&rows), compare::notes()?);
    md.push_str(
        "\nTask-minutes count tasks from launch to stop (what Fargate bills). Waits run from \
         sending a message to the start of the processing that completed it. A wake is a \
         message arriving while no task runs; its latency runs to the first running task. \
         Still queued: messages not processed when the trace ends.\n",
    );
    Ok((md, rows.len()))
}

/// The traces the guide charts, and where.
const CHARTS: [&str; 3] = ["burst", "diurnal", "spiky"];
const CHART_DIR: &str = "docs/guides/charts";

/// The default backlog policy of the comparison, as `simulate` takes it.
const DEFAULT_POLICY: &str = r#"{"name": "worker", "queue_name": "jobs", "cluster_name": "main",
    "service_name": "worker", "min_capacity": 0, "max_capacity": 50,
    "acceptable_latency_seconds": 10, "average_processing_seconds": 0.1}"#;

/// Draws the default policy on the charted traces into the guide's chart files, as
/// `simulate --chart` does with the default workload.
fn write_charts(bench: &Bench) -> Result<()> {
    let planned = simulate::plan_policy(DEFAULT_POLICY, None, None).map_err(|e| e.join("\n"))?;
    for name in CHARTS {
        let trace = trace::reference(name).ok_or_else(|| format!("no reference trace {name}"))?;
        let sc = simulate::Workload::default().scenario(&planned, trace)?;
        let report = sim::run(&planned.objects, &sc).map_err(|e| e.to_string())?;
        let svg = sim::chart::svg(&report.timeline, &format!("worker on {name}"))?;
        let path = bench.root.join(CHART_DIR).join(format!("{name}.svg"));
        std::fs::write(&path, svg).map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    eprintln!("bench: drew {} charts into {CHART_DIR}", CHARTS.len());
    Ok(())
}

/// Runs the comparison; with `bench.write_guide`, also puts it into the guide.
pub fn comparison(bench: &Bench) -> Result<Section> {
    let started = Instant::now();
    let (md, rows) = comparison_markdown()?;
    let took = started.elapsed();
    if bench.write_guide {
        let path = bench.root.join(GUIDE);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
        let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
            return Err(format!("{GUIDE} has no {BEGIN} … {END} markers").into());
        };
        if b < a {
            return Err(format!("{GUIDE}: {END} comes before {BEGIN}").into());
        }
        let updated = format!("{}{BEGIN}\n{md}{}", &text[..a], &text[b..]);
        std::fs::write(&path, updated).map_err(|e| format!("write {}: {e}", path.display()))?;
        eprintln!("bench: wrote the comparison into {GUIDE}");
        write_charts(bench)?;
    }
    let details = format!(
        "Each policy is planned from its arguments by the provider's resources and the \
         compiled objects run in the simulator (`src/compare.rs`; the KEDA-like poller is \
         `src/sim/keda.rs`). What the figures mean, and what the model assumes, is in \
         [Simulating a scaling policy](docs/guides/simulation.md); what they say is discussed \
         in [How it scales](docs/guides/how-it-scales.md). {rows} runs took {}.\n\n{md}",
        secs(took)
    );
    Ok(Section {
        title: "Comparison: five ways to scale one service on the reference traces".to_owned(),
        figures: vec![Figure::info(
            "Scaling comparison (5 scalers × 5 reference traces)",
            "see the section below".to_owned(),
        )],
        details,
    })
}
