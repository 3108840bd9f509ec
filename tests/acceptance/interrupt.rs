//! Interrupting Terraform: Ctrl-C during a slow AWS call ends the apply within seconds,
//! state records exactly what exists, and the next apply converges.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use crate::support::aws::{self, ServiceFixture, block_on, unique_prefix};
use crate::support::emulator::Fault;
use crate::support::terraform::{TerraformBin, Workspace};
use crate::support::{Case, aws_workspace, existing_alarms, existing_policies, provider_header};

/// How soon after Ctrl-C Terraform must have exited.
const EXIT_WITHIN: Duration = Duration::from_secs(10);

/// How long the emulator holds the interrupted call: far beyond [`EXIT_WITHIN`].
const HELD_FOR_SECONDS: u64 = 90;

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "interrupt_during_a_slow_call_exits_promptly_with_state_matching_aws",
            interrupt_during_a_slow_call,
        )
        .embedded_only(),
    ]
}

/// What one backlog policy resource has made, as sets of ARNs and names.
#[derive(Debug, PartialEq, Eq)]
struct Objects {
    target: Option<String>,
    policies: BTreeSet<(String, String)>,
    alarms: BTreeSet<String>,
}

/// What state records for `address` (nothing when the resource is not in state).
fn in_state(ws: &Workspace, address: &str) -> Objects {
    let state = ws.state();
    let values = state["values"]["root_module"]["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["address"] == address))
        .map(|r| r["values"].clone())
        .unwrap_or(Json::Null);
    Objects {
        target: values["scalable_target_arn"].as_str().map(str::to_owned),
        policies: existing_policies(&values).into_iter().collect(),
        alarms: existing_alarms(&values).into_iter().collect(),
    }
}

/// What AWS holds for the resource `name` on `f`'s service, read with the SDK directly.
fn in_aws(f: &ServiceFixture, name: &str) -> Objects {
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
    let c = aws::clients();
    let rid = f.resource_id();
    block_on(async {
        let targets = c
            .aas
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_ids(&rid)
            .send()
            .await
            .expect("describe scalable targets");
        let policies = c
            .aas
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .resource_id(&rid)
            .send()
            .await
            .expect("describe scaling policies");
        let alarms = c
            .cloudwatch
            .describe_alarms()
            .alarm_name_prefix(name)
            .send()
            .await
            .expect("describe alarms");
        Objects {
            target: targets
                .scalable_targets()
                .iter()
                .find(|t| t.resource_id() == rid)
                .and_then(|t| t.scalable_target_arn().map(str::to_owned)),
            policies: policies
                .scaling_policies()
                .iter()
                .filter(|p| p.policy_name().starts_with(name))
                .map(|p| (p.policy_name().to_owned(), p.policy_arn().to_owned()))
                .collect(),
            alarms: alarms
                .metric_alarms()
                .iter()
                .filter_map(|a| a.alarm_name().map(str::to_owned))
                .collect(),
        }
    })
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what} within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn interrupt_during_a_slow_call(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("int"), false);
    let name = format!("{}-bp", f.cluster);
    let address = "queuescale_sqs_backlog_scaling_policy.bp";
    let ws = aws_workspace(tf, "int");
    ws.write_config(&format!(
        "{}\nresource \"queuescale_sqs_backlog_scaling_policy\" \"bp\" {{\n  name = \"{name}\"\n  \
         queue_name = \"{}\"\n  cluster_name = \"{}\"\n  service_name = \"{}\"\n  \
         min_capacity = 0\n  max_capacity = 5\n  target_backlog_per_task = 100\n}}\n",
        provider_header(),
        f.queue,
        f.cluster,
        f.service
    ));
    ws.init();

    // The first alarm write is held far longer than anyone waits; Ctrl-C comes a few
    // seconds into it.
    let fault = Fault::inject(json!({
        "operation": "PutMetricAlarm",
        "delay_seconds": HELD_FOR_SECONDS,
        "match": name,
        "count": 1,
    }));
    let mut apply = ws.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let held_since = Instant::now();
    while fault.fired() == 0 {
        assert!(
            !apply.has_exited(),
            "apply ended before writing an alarm:\n{}",
            apply.text_so_far()
        );
        assert!(
            held_since.elapsed() < Duration::from_secs(120),
            "no alarm written within 120 s:\n{}",
            apply.text_so_far()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let interrupted = Instant::now();
    apply.interrupt();
    let r = apply.wait(Duration::from_secs(HELD_FOR_SECONDS * 2));
    let took = interrupted.elapsed();
    eprintln!(
        "[int {}] terraform exited {took:?} after Ctrl-C",
        tf.version_string()
    );
    assert!(
        took < EXIT_WITHIN,
        "terraform exited {took:?} after Ctrl-C (limit {EXIT_WITHIN:?}):\n{}",
        r.text()
    );
    assert_ne!(r.code, 0, "an interrupted apply fails:\n{}", r.text());
    let said: Vec<&str> = r.stderr.split_whitespace().collect();
    assert!(
        said.join(" ")
            .contains("stopped because Terraform asked the provider to stop"),
        "the error says why:\n{}",
        r.text()
    );
    // The held write was abandoned, so it never takes effect.
    wait_until(
        "the emulator seeing the call abandoned",
        Duration::from_secs(5),
        || fault.abandoned() == 1,
    );
    drop(fault);

    let state = in_state(&ws, address);
    let aws_now = in_aws(&f, &name);
    assert_eq!(state, aws_now, "state records exactly what exists");
    assert!(
        state.target.is_some() && !state.policies.is_empty() && state.alarms.is_empty(),
        "the target and policies were written before the held alarm, no alarm after: {state:?}"
    );

    let r = ws.apply();
    assert!(!r.stderr.contains("Error"), "{}", r.text());
    ws.assert_plan_empty();
    let state = in_state(&ws, address);
    assert_eq!(
        state,
        in_aws(&f, &name),
        "state matches AWS after the next apply"
    );
    assert_eq!(state.alarms.len(), 2, "both alarms exist: {state:?}");

    ws.destroy();
    let gone = in_aws(&f, &name);
    assert_eq!(
        gone,
        Objects {
            target: None,
            policies: BTreeSet::new(),
            alarms: BTreeSet::new()
        },
        "destroy leaves nothing"
    );
}
