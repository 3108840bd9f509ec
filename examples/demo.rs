//! `make demo`: the provider's main job, end to end.
//!
//! Starts the embedded AWS emulator on 127.0.0.1, creates a queue and an ECS service the
//! way a user's own stack would have them, applies the backlog-scaling example with the
//! real `terraform`, prints what AWS now holds (scalable target, policies, alarms), then
//! destroys everything and stops the emulator. `QUEUESCALE_DEMO_ENDPOINT=URL` uses another
//! endpoint, `QUEUESCALE_DEMO_ENDPOINT=aws` real AWS with the ambient credentials.

#![allow(dead_code)]

#[path = "../tests/acceptance/support/aws.rs"]
mod aws;
#[path = "../tests/acceptance/support/emulator.rs"]
mod emulator;
#[path = "../tests/acceptance/support/terraform.rs"]
mod terraform;

use std::path::Path;
use std::process::ExitCode;

use terraform_provider_queuescale::aws::cloudwatch;
use terraform_provider_queuescale::scaling::backlog_policy::fmt_number;
use terraform_provider_queuescale::scaling::model::{
    AlarmMetric, MetricQuery, PolicyKind, QuerySource, service_resource_id,
};

/// Names of everything the demo creates: specific enough never to touch anything else.
const CLUSTER: &str = "queuescale-demo";
const SERVICE: &str = "queuescale-demo-worker";
const QUEUE: &str = "queuescale-demo-jobs";

const PHASES: usize = 7;

fn phase(n: usize, what: &str) {
    println!("[{n}/{PHASES}] {what}");
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("unknown error");
        eprintln!("\ndemo failed: {msg}");
    }));
    match std::panic::catch_unwind(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = root.join("target/debug/terraform-provider-queuescale");
    assert!(
        binary.is_file(),
        "{} is missing: run `cargo build` first",
        binary.display()
    );
    let scratch = root.join("target/demo");
    std::fs::create_dir_all(&scratch).expect("create target/demo");
    terraform::init(terraform::Context {
        provider_binary: binary,
        scratch,
    });

    let setting = std::env::var("QUEUESCALE_DEMO_ENDPOINT").ok();
    phase(
        1,
        match setting.as_deref() {
            Some("aws") => "using AWS with your credentials",
            Some(s) if !s.is_empty() => "using the endpoint in QUEUESCALE_DEMO_ENDPOINT",
            _ => "starting the embedded AWS emulator on 127.0.0.1",
        },
    );
    emulator::use_backend(emulator::backend_from_setting(setting.as_deref()));
    let backend = emulator::backend();
    if let Some(url) = backend.endpoint() {
        println!("      endpoint {url}");
    }

    phase(
        2,
        "creating the queue and ECS service a user's stack would have",
    );
    clean_leftovers();
    let fixture = aws::ServiceFixture::create_named(CLUSTER, SERVICE, QUEUE);
    println!("      queue {QUEUE}, cluster {CLUSTER}, service {SERVICE} (0 tasks)");

    let tf = terraform::terraform_latest().unwrap_or_else(terraform::terraform_1_0);
    phase(
        3,
        &format!("terraform init (Terraform {})", tf.version_string()),
    );
    let mut ws = terraform::Workspace::new(&tf, "demo");
    for (k, v) in aws::terraform_env() {
        ws.env(&k, &v);
    }
    ws.write_config(&config(root));
    ws.init();

    phase(4, "terraform apply of the backlog-scaling example");
    ws.apply();
    let values = ws.resource_values("queuescale_sqs_backlog_scaling_policy.worker");
    println!("      target backlog per task: {}", values["target_value"]);

    phase(5, "what AWS now holds");
    print_summary();

    phase(6, "terraform destroy");
    ws.destroy();
    let resource_id = service_resource_id(CLUSTER, SERVICE);
    assert!(
        aws::scalable_target(&resource_id).is_none(),
        "destroy left the scalable target"
    );
    assert!(
        aws::alarms_with_prefix(SERVICE).is_empty(),
        "destroy left alarms"
    );
    println!("      nothing left: no scalable target, policies or alarms");

    phase(7, "removing the queue and service; stopping the emulator");
    drop(fixture);
    println!("done.");
}

/// The example from `examples/resources/queuescale_sqs_backlog_scaling_policy` with the
/// demo's names in its `name`, `queue_name`, `cluster_name` and `service_name`, plus the
/// provider requirement.
fn config(root: &Path) -> String {
    let example = std::fs::read_to_string(
        root.join("examples/resources/queuescale_sqs_backlog_scaling_policy/resource.tf"),
    )
    .expect("read the backlog example");
    let names = [
        ("name", SERVICE),
        ("queue_name", QUEUE),
        ("cluster_name", CLUSTER),
        ("service_name", SERVICE),
    ];
    let body: Vec<String> = example
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let attr = trimmed
                .split(|c: char| c.is_whitespace() || c == '=')
                .next()
                .unwrap_or("");
            match names.iter().find(|(a, _)| *a == attr) {
                Some((_, value)) if trimmed.contains('=') => {
                    let indent = &line[..line.len() - trimmed.len()];
                    format!("{indent}{attr} = \"{value}\"")
                }
                _ => line.to_owned(),
            }
        })
        .collect();
    // The example names the provider's source itself; only an older one needs the block.
    let header = if example.contains("required_providers") {
        String::new()
    } else {
        terraform::required_providers()
    };
    format!("{header}\n{}\n", body.join("\n"))
}

/// Deletes demo objects an interrupted earlier run left behind (only the demo's names).
fn clean_leftovers() {
    let resource_id = service_resource_id(CLUSTER, SERVICE);
    if aws::scalable_target(&resource_id).is_some() {
        aws::deregister(&resource_id);
    }
    let alarms = aws::alarms_with_prefix(SERVICE);
    if !alarms.is_empty() {
        aws::block_on(cloudwatch::delete_alarms(
            &aws::clients().cloudwatch,
            &alarms,
        ))
        .expect("delete leftover alarms");
    }
    drop(aws::ServiceFixture {
        cluster: CLUSTER.into(),
        service: SERVICE.into(),
        queue: QUEUE.into(),
    });
}

fn print_summary() {
    let resource_id = service_resource_id(CLUSTER, SERVICE);
    let target = aws::scalable_target(&resource_id).expect("the scalable target exists");
    println!(
        "      Scalable target {resource_id}: {}–{} tasks",
        target.target.min_capacity, target.target.max_capacity
    );
    let policies = aws::policies(&resource_id);
    for p in &policies {
        match &p.policy.kind {
            PolicyKind::TargetTracking(t) => {
                println!(
                    "      Policy {} (target tracking): keep the returned series at {}",
                    p.policy.name,
                    fmt_number(t.target_value)
                );
                print_math(&t.metrics);
            }
            PolicyKind::Step(s) => {
                let steps: Vec<String> = s
                    .steps
                    .iter()
                    .map(|a| {
                        let lo = a.lower_bound.map_or("-inf".into(), fmt_number);
                        let hi = a.upper_bound.map_or("+inf".into(), fmt_number);
                        format!("[{lo}, {hi}] -> {}", a.scaling_adjustment)
                    })
                    .collect();
                println!(
                    "      Policy {} (step scaling, {}, cooldown {} s): {}",
                    p.policy.name,
                    s.adjustment_type.as_aws_str(),
                    s.cooldown.unwrap_or_default(),
                    steps.join("; ")
                );
            }
        }
    }
    let names: Vec<String> = aws::alarms_with_prefix(SERVICE);
    let alarms = aws::block_on(cloudwatch::find_alarms_by_names(
        &aws::clients().cloudwatch,
        &names,
    ))
    .expect("describe alarms");
    for o in alarms {
        let a = &o.alarm;
        let invokes = policies
            .iter()
            .find(|p| a.actions.contains(&p.arn))
            .map_or("nothing", |p| p.policy.name.as_str());
        let returned = match &a.metric {
            AlarmMetric::Math(qs) => qs.iter().find(|q| q.return_data).map(|q| q.id.clone()),
            AlarmMetric::Single(ms) => Some(ms.metric.name.clone()),
        };
        println!(
            "      Alarm {}: {} {} {} for {} of {} periods of 60 s (missing data: {}) -> {invokes}",
            a.name,
            returned.unwrap_or_default(),
            a.comparison.symbol(),
            fmt_number(a.threshold),
            a.datapoints_to_alarm.unwrap_or(a.evaluation_periods),
            a.evaluation_periods,
            a.missing_data.as_aws_str(),
        );
        if let AlarmMetric::Math(qs) = &a.metric {
            print_math(qs);
        }
    }
}

fn print_math(queries: &[MetricQuery]) {
    for q in queries {
        match &q.source {
            QuerySource::Expression(e) => println!("          {} = {e}", q.id),
            QuerySource::Metric(ms) => println!(
                "          {} = {} {} ({})",
                q.id, ms.metric.namespace, ms.metric.name, ms.stat
            ),
        }
    }
}
