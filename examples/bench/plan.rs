//! How the backlog example reads and what it weighs: the lines `terraform plan` gives the
//! resource on create and on an update of `idle_minutes`, under Terraform 1.0.3 and the
//! newest Terraform on `PATH`; the bytes its instance takes in state; and, because
//! Terraform rewrites the whole state after every resource change, the wall time of an
//! update of N policies in one state next to N `terraform_data` resources (Terraform ≥
//! 1.4), both against the embedded emulator with no added latency and unpaced requests,
//! so what is measured is Terraform's and the provider's own work.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::report::{Figure, Section};
use crate::terraform::{self, Context, TerraformBin, Workspace};
use crate::{Bench, Result, aws, emulator, scale};

const ADDR: &str = "queuescale_sqs_backlog_scaling_policy.worker";
const PLAN_GOAL: usize = 60;
const STATE_GOAL: usize = 3 * 1024;
/// The update the plan shows: one alarm changes.
const UPDATE: (&str, &str) = (
    "max_capacity = 50",
    "max_capacity = 50\n  idle_minutes = 30",
);
/// Policies in one state for the update timing.
const MANY: usize = 300;

/// What one Terraform version showed for the example.
struct Shown {
    version: String,
    create_lines: usize,
    create_total: usize,
    update_lines: usize,
    update_text: String,
    attributes_bytes: usize,
    instance_bytes: usize,
}

/// Measures the plan, the state and the update of many.
pub fn run(bench: &Bench) -> Result<Section> {
    let scratch = bench.scratch_dir("plan")?;
    let wrapper = scale::provider_wrapper(bench, scratch.as_path())?;
    terraform::init(Context {
        provider_binary: wrapper,
        scratch: scratch.as_path().to_path_buf(),
    });
    if !emulator::backend().is_embedded() {
        return Err("the plan benchmark needs the embedded emulator".into());
    }
    let example = bench
        .root
        .join("examples/resources/queuescale_sqs_backlog_scaling_policy/resource.tf");
    let hcl = std::fs::read_to_string(&example)
        .map_err(|e| format!("read {}: {e}", example.display()))?;
    if !hcl.contains(UPDATE.0) {
        return Err(format!("{} no longer sets {:?}", example.display(), UPDATE.0).into());
    }
    let mut versions = vec![terraform::terraform_1_0()];
    let latest = terraform::terraform_latest();
    versions.extend(latest.clone());
    let _fixture = aws::ServiceFixture::create_named("main", "worker", "jobs");
    let mut shown = Vec::new();
    for tf in &versions {
        eprintln!(
            "bench:       Terraform {}: plan, apply, update plan",
            tf.version_string()
        );
        shown.push(example_plan(bench, tf, &hcl)?);
    }
    let data_bytes = match &latest {
        Some(tf) => Some(terraform_data_instance(bench, tf)?),
        None => None,
    };
    let many = match &latest {
        Some(tf) => Some(update_many(bench, tf)?),
        None => None,
    };
    Ok(section(&shown, data_bytes, many.as_ref()))
}

fn workspace(bench: &Bench, tf: &TerraformBin, label: &str) -> Workspace {
    let mut ws = Workspace::new(tf, label);
    for (k, v) in aws::terraform_env() {
        ws.env(&k, &v);
    }
    ws.env(
        scale::PROVIDER_VARIABLE,
        &bench.binary.display().to_string(),
    );
    ws
}

/// The first resource instance in a raw state (`terraform state pull`): its attributes as
/// compact JSON, and the bytes its instance takes in the file as Terraform indents it.
fn instance_sizes(raw: &str) -> Result<(usize, usize)> {
    let state: Json = serde_json::from_str(raw).map_err(|e| format!("state pull: {e}"))?;
    let instance = &state["resources"][0]["instances"][0];
    if instance.is_null() {
        return Err("the state holds no resource instance".into());
    }
    let attributes = serde_json::to_string(&instance["attributes"])?.len();
    // Terraform writes two spaces per level; an instance sits four levels deep.
    let pretty = serde_json::to_string_pretty(instance)?;
    let indented: usize = pretty.lines().map(|l| l.len() + 8 + 1).sum();
    Ok((attributes, indented))
}

fn example_plan(bench: &Bench, tf: &TerraformBin, hcl: &str) -> Result<Shown> {
    let ws = workspace(bench, tf, "bench-plan");
    ws.write_config(hcl);
    ws.init();
    let create = ws.ok(&["plan", "-input=false", "-no-color"]);
    let create_lines = block_lines(&create.stdout)?;
    ws.apply();
    let (attributes_bytes, instance_bytes) = instance_sizes(&ws.ok(&["state", "pull"]).stdout)?;
    ws.write_config(&hcl.replacen(UPDATE.0, UPDATE.1, 1));
    let update = ws.ok(&["plan", "-input=false", "-no-color"]);
    let update_lines = block_lines(&update.stdout)?;
    let update_text = block(&update.stdout).join("\n");
    ws.destroy();
    Ok(Shown {
        version: tf.version_string(),
        create_lines,
        create_total: create.stdout.lines().count(),
        update_lines,
        update_text,
        attributes_bytes,
        instance_bytes,
    })
}

/// The resource's block in a plan: its `# ADDR will be …` line through its closing brace.
fn block(stdout: &str) -> Vec<&str> {
    let header = format!("# {ADDR} ");
    let mut out = Vec::new();
    let mut lines = stdout
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(&header));
    if let Some(first) = lines.next() {
        let indent = first.len() - first.trim_start().len();
        let closing = format!("{}}}", " ".repeat(indent + 2));
        out.push(first);
        for l in lines {
            out.push(l);
            if l == closing {
                break;
            }
        }
    }
    out
}

fn block_lines(stdout: &str) -> Result<usize> {
    match block(stdout).len() {
        0 => Err(format!("the plan shows no {ADDR}:\n{stdout}").into()),
        n => Ok(n),
    }
}

/// The instance bytes of one `terraform_data` with a short input, for comparison.
fn terraform_data_instance(bench: &Bench, tf: &TerraformBin) -> Result<(usize, usize)> {
    let ws = workspace(bench, tf, "bench-plan-data");
    ws.write_config("resource \"terraform_data\" \"x\" {\n  input = \"worker\"\n}\n");
    ws.init();
    ws.apply();
    let sizes = instance_sizes(&ws.ok(&["state", "pull"]).stdout)?;
    ws.destroy();
    Ok(sizes)
}

/// Update wall times at N in one state.
struct Many {
    version: String,
    policies: Duration,
    data: Duration,
    state_bytes: usize,
    data_state_bytes: usize,
}

fn many_config(idle: u32) -> String {
    scale::policies_config(
        "qsplan",
        MANY,
        &scale::unpaced_provider_block(),
        &format!("  idle_minutes               = {idle}\n"),
    )
}

fn update_many(bench: &Bench, tf: &TerraformBin) -> Result<Many> {
    eprintln!("bench:       {MANY} queues and ECS services");
    let _fixtures = scale::fixtures("qsplan", MANY);
    let write = [
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-refresh=false",
    ];
    let ws = workspace(bench, tf, "bench-plan-many");
    ws.write_config(&many_config(15));
    ws.init();
    eprintln!("bench:       {MANY} backlog policies: create");
    ws.ok(&write);
    ws.write_config(&many_config(30));
    eprintln!("bench:       {MANY} backlog policies: update idle_minutes");
    let started = Instant::now();
    ws.ok(&write);
    let policies = started.elapsed();
    let state_bytes = ws.ok(&["state", "pull"]).stdout.len();
    ws.destroy();

    let data = |input: &str| {
        format!(
            "resource \"terraform_data\" \"d\" {{\n  count = {MANY}\n  input = \"{input}-${{count.index}}\"\n}}\n"
        )
    };
    let ws = workspace(bench, tf, "bench-plan-many-data");
    ws.write_config(&data("a"));
    ws.init();
    ws.ok(&write);
    ws.write_config(&data("b"));
    eprintln!("bench:       {MANY} terraform_data: update input");
    let started = Instant::now();
    ws.ok(&write);
    let data_took = started.elapsed();
    let data_state_bytes = ws.ok(&["state", "pull"]).stdout.len();
    ws.destroy();
    Ok(Many {
        version: tf.version_string(),
        policies,
        data: data_took,
        state_bytes,
        data_state_bytes,
    })
}

fn section(shown: &[Shown], data: Option<(usize, usize)>, many: Option<&Many>) -> Section {
    let mut figures = Vec::new();
    for s in shown {
        figures.push(Figure::with_goal(
            &format!(
                "Plan of the backlog example, create (Terraform {})",
                s.version
            ),
            format!("{} lines", s.create_lines),
            &format!("≤ {PLAN_GOAL} lines"),
            s.create_lines <= PLAN_GOAL,
        ));
        figures.push(Figure::info(
            &format!("Plan of an `idle_minutes` update (Terraform {})", s.version),
            format!("{} lines", s.update_lines),
        ));
    }
    if let Some(s) = shown.first() {
        figures.push(Figure::with_goal(
            "State per backlog policy (attributes)",
            format!("{} bytes", s.attributes_bytes),
            "≤ 3 KiB (3072 bytes)",
            s.attributes_bytes <= STATE_GOAL,
        ));
    }
    if let Some(m) = many {
        let ratio = m.policies.as_secs_f64() / m.data.as_secs_f64().max(1e-9);
        figures.push(Figure::with_goal(
            &format!("Update of {MANY} backlog policies vs {MANY} `terraform_data`"),
            format!(
                "{:.1} s vs {:.1} s ({ratio:.1}×)",
                m.policies.as_secs_f64(),
                m.data.as_secs_f64()
            ),
            "≤ 2×",
            ratio <= 2.0,
        ));
    }
    let mut d = String::from(
        "The backlog example (`examples/resources/queuescale_sqs_backlog_scaling_policy`: \
         0–50 tasks, 10 s / 0.1 s, one tag) is planned, applied, and planned again with \
         `idle_minutes = 30`, against the embedded emulator with its queue and service made \
         first. *Lines* are the resource's block in `terraform plan -no-color`, from its \
         `# … will be created` line through its closing brace (Terraform adds a preamble and \
         the `Plan:` line around it). *Attributes* is the instance's attributes as compact \
         JSON, as the provider returns them; *in the file* adds the indentation Terraform \
         writes around them.\n\n\
         | Terraform | create: lines (whole output) | update: lines | attributes | in the file |\n\
         |---|---|---|---|---|\n",
    );
    for s in shown {
        let _ = writeln!(
            d,
            "| {} | {} ({}) | {} | {} bytes | {} bytes |",
            s.version,
            s.create_lines,
            s.create_total,
            s.update_lines,
            s.attributes_bytes,
            s.instance_bytes
        );
    }
    if let Some((attributes, file)) = data {
        let _ = writeln!(
            d,
            "\nOne `terraform_data` with a short `input`, for scale: {attributes} bytes of \
             attributes, {file} bytes in the file."
        );
    }
    if let Some(s) = shown.last() {
        let _ = writeln!(
            d,
            "\nThe update, as Terraform {} shows it:\n\n```\n{}\n```",
            s.version, s.update_text
        );
    }
    if let Some(m) = many {
        let _ = writeln!(
            d,
            "\n{MANY} backlog policies (`count`, one queue and service each) and, separately, \
             {MANY} `terraform_data`, created, then updated with `apply -refresh=false` under \
             Terraform {}: `idle_minutes` 15 → 30 (one `PutMetricAlarm` per policy, requests \
             unpaced) and `input` changed on every `terraform_data`. The update took {:.1} s \
             for the policies and {:.1} s for `terraform_data`; the states were {} and {} \
             bytes.",
            m.version,
            m.policies.as_secs_f64(),
            m.data.as_secs_f64(),
            m.state_bytes,
            m.data_state_bytes
        );
    }
    Section {
        title: "Plan and state of the backlog example".to_owned(),
        figures,
        details: d,
    }
}
