//! Figure 3 and the API-call budget: one real lifecycle of the backlog example
//! (`examples/resources/queuescale_sqs_backlog_scaling_policy`) against the embedded
//! emulator — `init`, create, refresh, update, destroy — recording the peak RSS of every
//! provider process Terraform 1.0.3 starts and the AWS API calls each step makes (the
//! emulator counts requests per access key, and the run uses a key of its own).
//!
//! The filesystem mirror holds a wrapper instead of the provider: a Python script that
//! runs the real binary (or the one `QUEUESCALE_BENCH_PROVIDER` names, which the scale
//! benchmark sets when it shares the mirror) as its child with stdin, stdout and stderr inherited (so
//! Terraform reads the handshake line as usual) and, once the child has exited, appends
//! its peak RSS (`getrusage(RUSAGE_CHILDREN).ru_maxrss`) to a log.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::report::{Figure, Section};
use crate::terraform::{self, Context, Workspace};
use crate::{Bench, Result, aws, emulator};

/// 25 MiB.
const GOAL_KIB: u64 = 25 * 1024;
const GOAL_TEXT: &str = "≤ 25 MiB (max over processes)";

/// The access key the run signs with, so the emulator's counts are this run's alone.
const ACCESS_KEY: &str = "AKIAQSBENCHLIFECYCLE";

/// The update step's change: two attributes, so two objects are rewritten.
const UPDATE: (&str, &str) = (
    "max_capacity = 50",
    "max_capacity = 60\n  idle_minutes = 30",
);

/// One provider process, as the wrapper logged it.
struct Process {
    peak_kib: u64,
    exit_code: i32,
    seconds: f64,
}

/// One Terraform command, the provider processes it started and the AWS calls made.
struct Step {
    command: &'static str,
    took: Duration,
    processes: Vec<Process>,
    calls: BTreeMap<String, u64>,
}

/// Runs the lifecycle with the wrapper installed and collects the log and the counts.
pub fn run(bench: &Bench) -> Result<Section> {
    let scratch = bench.scratch_dir("lifecycle")?;
    let example = bench
        .root
        .join("examples/resources/queuescale_sqs_backlog_scaling_policy/resource.tf");
    let hcl = std::fs::read_to_string(&example)
        .map_err(|e| format!("read {}: {e}", example.display()))?;
    if !hcl.contains(UPDATE.0) {
        return Err(format!("{} no longer sets {:?}", example.display(), UPDATE.0).into());
    }
    let log = scratch.as_path().join("provider-rss.log");
    let wrapper = write_wrapper(bench, scratch.as_path(), &log)?;
    terraform::init(Context {
        provider_binary: wrapper,
        scratch: scratch.as_path().to_path_buf(),
    });
    eprintln!("bench:       starting the emulator and the example's queue and service");
    let backend = emulator::backend();
    if !backend.is_embedded() {
        return Err("the lifecycle benchmark needs the embedded emulator".into());
    }
    let _fixture = aws::ServiceFixture::create_named("main", "worker", "jobs");
    let tf = terraform::terraform_1_0();
    let mut ws = Workspace::new(&tf, "bench-lifecycle");
    for (k, v) in aws::terraform_env() {
        ws.env(&k, &v);
    }
    ws.env("AWS_ACCESS_KEY_ID", ACCESS_KEY);
    // The example names the provider's source itself; only an older one needs the block.
    let header = if hcl.contains("required_providers") {
        String::new()
    } else {
        terraform::required_providers()
    };
    ws.write_config(&format!("{header}\n{hcl}"));

    let mut steps = Vec::new();
    let mut seen = 0;
    let commands: [(&str, &[&str]); 5] = [
        ("init", &["init", "-input=false", "-no-color"]),
        (
            "apply (create)",
            &[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-refresh=false",
            ],
        ),
        (
            "apply -refresh-only",
            &[
                "apply",
                "-refresh-only",
                "-auto-approve",
                "-input=false",
                "-no-color",
            ],
        ),
        (
            "apply (update)",
            &[
                "apply",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-refresh=false",
            ],
        ),
        (
            "destroy",
            &[
                "destroy",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-refresh=false",
            ],
        ),
    ];
    for (command, args) in commands {
        if command == "apply (update)" {
            ws.write_config(&format!("{header}\n{}", hcl.replace(UPDATE.0, UPDATE.1)));
        }
        eprintln!("bench:       terraform {command}");
        emulator::reset_requests(ACCESS_KEY);
        let started = Instant::now();
        ws.ok(args);
        let took = started.elapsed();
        let calls = emulator::requests(ACCESS_KEY);
        let (starts, processes) = read_log(&log)?;
        if starts != processes.len() {
            return Err(format!(
                "{} provider processes started but {} recorded an exit: Terraform killed \
                 the wrapper before the provider exited ({})",
                starts,
                processes.len(),
                log.display()
            )
            .into());
        }
        steps.push(Step {
            command,
            took,
            processes: processes.into_iter().skip(seen).collect(),
            calls,
        });
        seen = starts;
    }
    Ok(section(&tf.version_string(), &steps))
}

/// The wrapper script: runs the real binary, then logs `exit PEAK_KIB CODE SECONDS`.
fn write_wrapper(bench: &Bench, dir: &Path, log: &Path) -> Result<PathBuf> {
    let python = std::env::var_os("QUEUESCALE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| bench.root.join(".tools/venv/bin/python"));
    let python = if python.is_relative() {
        bench.root.join(python)
    } else {
        python
    };
    if !python.is_file() {
        return Err(format!(
            "Python not found at {} (set QUEUESCALE_PYTHON or run `make tools`)",
            python.display()
        )
        .into());
    }
    // JSON string literals are valid Python string literals.
    let quote = |p: &Path| serde_json::Value::from(p.display().to_string()).to_string();
    let script = format!(
        r#"#!{python} -S
"""Runs the provider as a child with inherited stdio and logs the child's peak RSS."""
import os, resource, subprocess, sys, time

REAL, LOG = os.environ.get({variable}, {real}), {log}

def record(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")

record("start")
began = time.monotonic()
code = subprocess.call([REAL] + sys.argv[1:])
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
record(f"exit {{peak_kib}} {{code}} {{time.monotonic() - began:.3f}}")
sys.exit(code if code >= 0 else 128 - code)
"#,
        python = python.display(),
        real = quote(&bench.binary),
        variable = quote(Path::new(crate::scale::PROVIDER_VARIABLE)),
        log = quote(log),
    );
    let path = dir.join("provider-wrapper.py");
    std::fs::write(&path, script).map_err(|e| format!("write {}: {e}", path.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("make {} executable: {e}", path.display()))?;
    }
    Ok(path)
}

/// The number of `start` lines and the parsed `exit` lines of the wrapper's log.
fn read_log(log: &Path) -> Result<(usize, Vec<Process>)> {
    let text = match std::fs::read_to_string(log) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("read {}: {e}", log.display()).into()),
    };
    let mut starts = 0;
    let mut processes = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            ["start"] => starts += 1,
            ["exit", peak, code, seconds] => processes.push(Process {
                peak_kib: peak.parse().map_err(|e| format!("{line:?}: {e}"))?,
                exit_code: code.parse().map_err(|e| format!("{line:?}: {e}"))?,
                seconds: seconds.parse().map_err(|e| format!("{line:?}: {e}"))?,
            }),
            _ => return Err(format!("unexpected line in {}: {line:?}", log.display()).into()),
        }
    }
    Ok((starts, processes))
}

/// `12.3 MiB`.
pub fn mib(kib: u64) -> String {
    // Reporting precision only.
    #[allow(clippy::cast_precision_loss)]
    let mib = kib as f64 / 1024.0;
    format!("{mib:.1} MiB")
}

/// Calls to AWS in a step, without the one STS credentials check each provider process
/// makes when it is configured.
fn operation_calls(step: &Step) -> u64 {
    step.calls
        .iter()
        .filter(|(k, _)| !k.starts_with("sts:"))
        .map(|(_, n)| n)
        .sum()
}

fn list_calls(step: &Step) -> String {
    if step.calls.is_empty() {
        return "—".to_owned();
    }
    step.calls
        .iter()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn section(tf_version: &str, steps: &[Step]) -> Section {
    let all: Vec<&Process> = steps.iter().flat_map(|s| &s.processes).collect();
    let peak = all.iter().map(|p| p.peak_kib).max().unwrap_or(0);
    let pass = !all.is_empty() && peak <= GOAL_KIB;
    let mut details = format!(
        "Goal: {GOAL_TEXT}. **{verdict}** (peak {peak}, {n} provider processes).\n\n\
         Terraform {tf_version} runs the lifecycle of the backlog example \
         (`examples/resources/queuescale_sqs_backlog_scaling_policy`: 0–50 tasks, 10 s / 0.1 s) \
         against the embedded emulator, with the queue and ECS service it names created \
         first: `init`, create, a refresh, an update of `max_capacity` and `idle_minutes`, \
         and destroy (the writes with `-refresh=false`, so each step counts only its own \
         calls). The filesystem mirror holds a wrapper in \
         place of the provider: a Python script that starts the release binary as its \
         child with stdin, stdout and stderr inherited, so Terraform reads the handshake \
         line and talks to the provider directly, and after the child exits appends the \
         child's peak resident set size (`getrusage(RUSAGE_CHILDREN).ru_maxrss`) to a log. \
         The wrapper's own memory is not counted.\n\n\
         | Command | Wall time | Provider processes | Peak RSS per process | Exit codes | \
         Process lifetimes |\n|---|---|---|---|---|---|\n",
        verdict = if pass { "Pass" } else { "Fail" },
        peak = mib(peak),
        n = all.len(),
    );
    for step in steps {
        let list = |f: &dyn Fn(&Process) -> String| {
            if step.processes.is_empty() {
                "—".to_owned()
            } else {
                step.processes.iter().map(f).collect::<Vec<_>>().join(", ")
            }
        };
        let _ = writeln!(
            details,
            "| `terraform {}` | {:.2} s | {} | {} | {} | {} |",
            step.command,
            step.took.as_secs_f64(),
            step.processes.len(),
            list(&|p| mib(p.peak_kib)),
            list(&|p| p.exit_code.to_string()),
            list(&|p| format!("{:.2} s", p.seconds)),
        );
    }
    let _ = writeln!(
        details,
        "\nMaximum over all {} provider processes: {peak} KiB ({}).",
        all.len(),
        mib(peak)
    );
    let _ = writeln!(
        details,
        "\n### AWS API calls per operation\n\n\
         Counted by the emulator for this run's access key. Each provider process also \
         makes one STS `GetCallerIdentity` when it is configured (the credentials check, \
         skipped with `skip_credentials_validation`); the operation column leaves it out.\n\n\
         | Step | Operation calls | All calls |\n|---|---|---|"
    );
    for step in steps.iter().filter(|s| s.command != "init") {
        let _ = writeln!(
            details,
            "| `terraform {}` | {} | {} |",
            step.command,
            operation_calls(step),
            list_calls(step)
        );
    }
    let count = |name: &str| {
        steps
            .iter()
            .find(|s| s.command == name)
            .map_or(0, operation_calls)
    };
    let mut figures = vec![
        Figure::with_goal(
            "Provider peak RSS during a real lifecycle",
            mib(peak),
            GOAL_TEXT,
            pass,
        ),
        Figure::info(
            "Provider processes started by Terraform in that run",
            all.len().to_string(),
        ),
    ];
    figures.push(Figure::with_goal(
        "Backlog policy: API calls to create",
        count("apply (create)").to_string(),
        "≤ 8",
        count("apply (create)") <= 8,
    ));
    let refresh = steps.iter().find(|s| s.command == "apply -refresh-only");
    let tag_reads = refresh.map_or(0, |s| {
        s.calls
            .iter()
            .filter(|(k, _)| k.ends_with(":ListTagsForResource"))
            .map(|(_, n)| n)
            .sum()
    });
    let refresh_without_tags = count("apply -refresh-only") - tag_reads;
    figures.push(Figure::with_goal(
        "Backlog policy: API calls to refresh, tag reads aside",
        format!("{refresh_without_tags} (+{tag_reads} tag read)"),
        "≤ 3 without tags",
        refresh_without_tags <= 3,
    ));
    figures.push(Figure::info(
        "Backlog policy: API calls to update max_capacity and idle_minutes",
        count("apply (update)").to_string(),
    ));
    figures.push(Figure::info(
        "Backlog policy: API calls to destroy",
        count("destroy").to_string(),
    ));
    Section {
        title: "A real lifecycle: peak RSS and AWS API calls".to_owned(),
        figures,
        details,
    }
}
