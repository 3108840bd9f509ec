//! Many backlog policies in one state, as a team with hundreds of services would have
//! them: create, refresh and destroy N of them (one queue and ECS service each) through
//! Terraform 1.0.3 against the embedded emulator, with 50 ms added to every request by a
//! relay in front of it (`latency.rs`), and count the calls per resource and step.
//!
//! Run with the provider's default request pacing (AWS's quotas, `aws/limit.rs`) and with
//! every `rate_limits` entry at its highest, so the wall time of the round trips and the
//! time the quotas impose can be told apart; with `--before PATH`, the same steps also
//! run with another provider build for comparison. The quota floor of a step is the
//! longest any one quota needs for the step's calls at its rate, whatever the
//! parallelism.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use terraform_provider_queuescale::aws::limit::{Limits, Op, Quota};
use terraform_provider_queuescale::provider::config::MAX_RATE_LIMIT;

use crate::report::{Figure, Section};
use crate::terraform::{self, Context, Workspace};
use crate::{Bench, Result, aws, display_path, emulator, latency};

/// Added to every request on its way to the emulator.
const LATENCY: Duration = Duration::from_millis(50);

/// The environment variable the mirror's wrapper runs the provider binary from.
pub const PROVIDER_VARIABLE: &str = "QUEUESCALE_BENCH_PROVIDER";

/// How a run's provider is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pacing {
    /// No `rate_limits` block: AWS's quotas.
    Quotas,
    /// Every `rate_limits` entry at its highest.
    Unpaced,
    /// A build without `rate_limits` (the baseline).
    Baseline,
}

impl Pacing {
    fn label(self) -> &'static str {
        match self {
            Pacing::Quotas => "this build, paced at AWS's quotas (default)",
            Pacing::Unpaced => "this build, `rate_limits` at 10000/s",
            Pacing::Baseline => "baseline build (no pacing)",
        }
    }
}

/// One measured Terraform command.
struct Step {
    n: usize,
    pacing: Pacing,
    command: &'static str,
    took: Duration,
    calls: BTreeMap<String, u64>,
}

/// Runs the scenario at each size in `bench.scale`.
pub fn run(bench: &Bench) -> Result<Section> {
    let scratch = bench.scratch_dir("scale")?;
    let wrapper = provider_wrapper(bench, scratch.as_path())?;
    terraform::init(Context {
        provider_binary: wrapper,
        scratch: scratch.as_path().to_path_buf(),
    });
    let backend = emulator::backend();
    if !backend.is_embedded() {
        return Err("the scale benchmark needs the embedded emulator".into());
    }
    let upstream = backend
        .endpoint()
        .and_then(|u| u.strip_prefix("http://"))
        .and_then(|a| a.trim_end_matches('/').parse().ok())
        .ok_or("the emulator's endpoint is not http://ADDRESS:PORT")?;
    let relay = latency::start(upstream, LATENCY)?;
    let tf = terraform::terraform_1_0();
    let mut steps = Vec::new();
    for &n in &bench.scale {
        eprintln!("bench:       {n} queues and ECS services");
        let fixtures = fixtures("qsbench", n);
        if let Some(before) = &bench.before {
            steps.extend(lifecycle(&tf, relay, n, Pacing::Baseline, before)?);
        }
        steps.extend(lifecycle(&tf, relay, n, Pacing::Quotas, &bench.binary)?);
        drop(fixtures);
    }
    Ok(section(bench, &tf.version_string(), &steps))
}

/// A script in `dir` for the plugin mirror that runs the binary `$QUEUESCALE_BENCH_PROVIDER`
/// names, else `bench.binary`, so one mirror serves every build a run measures.
pub fn provider_wrapper(bench: &Bench, dir: &Path) -> Result<PathBuf> {
    let wrapper = dir.join("provider-wrapper.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec \"${{{PROVIDER_VARIABLE}:-{}}}\" \"$@\"\n",
            bench.binary.display()
        ),
    )
    .map_err(|e| format!("write {}: {e}", wrapper.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("make {} executable: {e}", wrapper.display()))?;
    Ok(wrapper)
}

/// The provider block with every `rate_limits` entry at its highest.
pub fn unpaced_provider_block() -> String {
    let mut b = "provider \"queuescale\" {\n  rate_limits {\n".to_owned();
    for q in Quota::ALL {
        let _ = writeln!(b, "    {} = {MAX_RATE_LIMIT}", q.attribute());
    }
    b.push_str("  }\n}\n");
    b
}

/// The provider block for `pacing`.
fn provider_block(pacing: Pacing) -> String {
    match pacing {
        Pacing::Quotas | Pacing::Baseline => "provider \"queuescale\" {}\n".to_owned(),
        Pacing::Unpaced => unpaced_provider_block(),
    }
}

/// `n` backlog policies (`count`) named `PREFIX-000`…, each on its own queue
/// (`PREFIX-q000`…) and service (`PREFIX-w000`…) of cluster `PREFIX`, under `provider`;
/// `extra` holds further argument lines.
pub fn policies_config(prefix: &str, n: usize, provider: &str, extra: &str) -> String {
    format!(
        "{}\n{provider}\n\
         resource \"queuescale_sqs_backlog_scaling_policy\" \"p\" {{\n  \
           count                      = {n}\n  \
           name                       = format(\"{prefix}-%03d\", count.index)\n  \
           queue_name                 = format(\"{prefix}-q%03d\", count.index)\n  \
           cluster_name               = \"{prefix}\"\n  \
           service_name               = format(\"{prefix}-w%03d\", count.index)\n  \
           min_capacity               = 0\n  \
           max_capacity               = 10\n  \
           acceptable_latency_seconds = 10\n  \
           average_processing_seconds = 0.1\n\
         {extra}}}\n",
        terraform::required_providers(),
    )
}

/// The queues and ECS services [`policies_config`] names.
pub fn fixtures(prefix: &str, n: usize) -> Vec<aws::ServiceFixture> {
    (0..n)
        .map(|i| {
            aws::ServiceFixture::create_named(
                prefix,
                &format!("{prefix}-w{i:03}"),
                &format!("{prefix}-q{i:03}"),
            )
        })
        .collect()
}

fn config(n: usize, pacing: Pacing) -> String {
    policies_config("qsbench", n, &provider_block(pacing), "")
}

/// Create, refresh and destroy `n` policies with `binary`. This build creates at AWS's
/// quotas at 100 policies or fewer and unpaced above (paced, 300 would take minutes of
/// PutMetricAlarm alone), refreshes both ways and destroys unpaced.
fn lifecycle(
    tf: &terraform::TerraformBin,
    relay: std::net::SocketAddr,
    n: usize,
    pacing: Pacing,
    binary: &Path,
) -> Result<Vec<Step>> {
    let key = format!(
        "AKIAQSBENCHSCALE{n:04}{}",
        if pacing == Pacing::Baseline { "B" } else { "A" }
    );
    let mut ws = Workspace::new(tf, &format!("bench-scale-{n}"));
    for (k, v) in aws::terraform_env() {
        ws.env(&k, &v);
    }
    ws.env("AWS_ACCESS_KEY_ID", &key);
    ws.env("AWS_ENDPOINT_URL", &format!("http://{relay}"));
    ws.env(PROVIDER_VARIABLE, &binary.display().to_string());
    let create_pacing = match pacing {
        Pacing::Quotas if n > 100 => Pacing::Unpaced,
        other => other,
    };
    let refreshes: &[Pacing] = match pacing {
        Pacing::Baseline => &[Pacing::Baseline],
        _ => &[Pacing::Quotas, Pacing::Unpaced],
    };
    let destroy_pacing = match pacing {
        Pacing::Baseline => Pacing::Baseline,
        _ => Pacing::Unpaced,
    };
    let write = [
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-refresh=false",
    ];
    let mut plan: Vec<(&'static str, Pacing, Vec<&str>)> = vec![(
        "apply (create)",
        create_pacing,
        [&["apply"][..], &write[..]].concat(),
    )];
    for p in refreshes {
        plan.push((
            "apply -refresh-only",
            *p,
            vec![
                "apply",
                "-refresh-only",
                "-auto-approve",
                "-input=false",
                "-no-color",
            ],
        ));
    }
    plan.push((
        "destroy",
        destroy_pacing,
        [&["destroy"][..], &write[..]].concat(),
    ));

    ws.write_config(&config(n, create_pacing));
    ws.ok(&["init", "-input=false", "-no-color"]);
    let mut steps = Vec::new();
    for (command, p, args) in plan {
        eprintln!("bench:       n={n} {}: terraform {command}", p.label());
        ws.write_config(&config(n, p));
        emulator::reset_requests(&key);
        let started = Instant::now();
        ws.ok(&args);
        let took = started.elapsed();
        steps.push(Step {
            n,
            pacing: p,
            command,
            took,
            calls: emulator::requests(&key),
        });
    }
    Ok(steps)
}

/// Calls without the STS credentials check each provider process makes.
fn operation_calls(step: &Step) -> u64 {
    step.calls
        .iter()
        .filter(|(k, _)| !k.starts_with("sts:"))
        .map(|(_, n)| n)
        .sum()
}

/// The operation an emulator count stands for (`service:Operation`).
fn op_of(name: &str) -> Option<Op> {
    Some(match name {
        "application-autoscaling:DescribeScalableTargets" => Op::DescribeScalableTargets,
        "application-autoscaling:RegisterScalableTarget" => Op::RegisterScalableTarget,
        "application-autoscaling:DeregisterScalableTarget" => Op::DeregisterScalableTarget,
        "application-autoscaling:DescribeScalingPolicies" => Op::DescribeScalingPolicies,
        "application-autoscaling:PutScalingPolicy" => Op::PutStepScalingPolicy,
        "application-autoscaling:DeleteScalingPolicy" => Op::DeleteScalingPolicy,
        "application-autoscaling:ListTagsForResource" => Op::ListScalableTargetTags,
        "application-autoscaling:TagResource" | "application-autoscaling:UntagResource" => {
            Op::TagScalableTarget
        }
        "monitoring:DescribeAlarms" => Op::DescribeAlarms,
        "monitoring:PutMetricAlarm" => Op::PutMetricAlarm,
        "monitoring:DeleteAlarms" => Op::DeleteAlarms,
        "monitoring:ListTagsForResource" => Op::ListAlarmTags,
        "monitoring:TagResource" | "monitoring:UntagResource" => Op::TagAlarm,
        "ecs:DescribeServices" => Op::DescribeServices,
        "ecs:DescribeClusters" => Op::DescribeClusters,
        "sqs:GetQueueUrl" => Op::GetQueueUrl,
        _ => return None,
    })
}

/// The shortest time AWS's default quotas allow for the step's calls, and the quota that
/// sets it. A create puts one target-tracking policy per resource (two alarm writes more
/// each); the emulator counts it as a plain PutScalingPolicy.
fn quota_floor(step: &Step) -> (f64, Quota) {
    let limits = Limits::new(&BTreeMap::new());
    let mut tokens: BTreeMap<Quota, f64> = BTreeMap::new();
    for (name, count) in &step.calls {
        let Some(op) = op_of(name) else { continue };
        for (q, cost) in op.costs() {
            *tokens.entry(*q).or_default() += f64::from(*cost) * *count as f64;
        }
    }
    if step.command == "apply (create)" {
        *tokens.entry(Quota::PutMetricAlarm).or_default() += 2.0 * step.n as f64;
    }
    tokens
        .iter()
        .filter_map(|(q, t)| {
            let rate = limits.rate(*q)?;
            Some((t / f64::from(rate.per_second.max(1)), *q))
        })
        .fold((0.0, Quota::DescribeAlarms), |best, x| {
            if x.0 > best.0 { x } else { best }
        })
}

fn list_calls(step: &Step) -> String {
    step.calls
        .iter()
        .filter(|(k, _)| !k.starts_with("sts:"))
        .map(|(k, n)| {
            let short = k
                .replace("application-autoscaling:", "aas:")
                .replace("monitoring:", "cw:");
            format!("{short} ×{n}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn section(bench: &Bench, tf_version: &str, steps: &[Step]) -> Section {
    let mut details = format!(
        "Terraform {tf_version} creates, refreshes and destroys N \
         `queuescale_sqs_backlog_scaling_policy` resources (one `count` block; each with its \
         own queue and ECS service, made first) in one state with the default \
         `-parallelism=10`, against the embedded emulator behind a relay that delays every \
         request by {} ms on its way in (`examples/bench/latency.rs`), as a network round \
         trip would. The writes run with `-refresh=false`, so each step counts only its own \
         calls; counts come from the emulator (per access key) and leave out each provider \
         process's STS credentials check. The emulator enforces no quotas, so a build that \
         does not pace its requests is never throttled here; against AWS it would be. \
         *Quota floor*: the longest any one AWS quota (`aws/limit.rs`, defaults) needs for \
         the step's calls at its rate, whatever the parallelism. Operations: `aas:` is \
         Application Auto Scaling, `cw:` CloudWatch. Provider: `{}`{}.\n\n\
         | N | Provider | Step | Wall time | Calls | Calls per resource | Quota floor (quota) | Calls by operation |\n\
         |---|---|---|---|---|---|---|---|\n",
        LATENCY.as_millis(),
        display_path(bench, &bench.binary),
        bench
            .before
            .as_ref()
            .map(|b| format!("; baseline: `{}`", display_path(bench, b)))
            .unwrap_or_default(),
    );
    for s in steps {
        let calls = operation_calls(s);
        let (floor, quota) = quota_floor(s);
        let _ = writeln!(
            details,
            "| {} | {} | `terraform {}` | {:.1} s | {calls} | {:.2} | {floor:.1} s ({}) | {} |",
            s.n,
            s.pacing.label(),
            s.command,
            s.took.as_secs_f64(),
            calls as f64 / s.n as f64,
            quota.attribute(),
            list_calls(s),
        );
    }
    let mut figures = Vec::new();
    for s in steps.iter().filter(|s| s.command == "apply -refresh-only") {
        figures.push(Figure::info(
            &format!("{} backlog policies, refresh: {}", s.n, s.pacing.label()),
            format!(
                "{:.1} s, {:.2} calls per resource",
                s.took.as_secs_f64(),
                operation_calls(s) as f64 / s.n as f64
            ),
        ));
    }
    Section {
        title: format!(
            "Many policies in one state: wall time and calls with {} ms per request",
            LATENCY.as_millis()
        ),
        figures,
        details,
    }
}

/// `PATH` made absolute against the current directory.
pub fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| format!("resolve {}: {e}", path.display()).into())
}
