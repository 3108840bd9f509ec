//! `queuescale_sqs_backlog_scaling_policy` against the AWS backend: what AWS holds must be
//! exactly what the library's compiler produces for the configuration.

use serde_json::json;
use terraform_provider_queuescale::scaling::backlog_policy::{
    BacklogSpec, BacklogTarget, Purpose, TaskCountSource, compile,
};

use crate::scalable_target::assert_import_matches;
use crate::support::aws::{self, ServiceFixture, unique_prefix};
use crate::support::emulator::Fault;
use crate::support::terraform::{TerraformBin, Workspace};
use crate::support::{
    Case, aws_workspace, existing_alarms, existing_policies, plan_block_lines, provider_header,
    state_entry,
};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new("backlog_policy_basic", basic),
        Case::new("backlog_policy_update", update),
        Case::new("backlog_policy_disappears", disappears),
        Case::new("backlog_policy_import", import),
        Case::new(
            "backlog_policy_import_after_console_edit",
            import_after_console_edit,
        ),
        Case::new("backlog_policy_notifications", notifications),
        Case::new("backlog_policy_keep_queue_active", keep_queue_active),
        Case::new("backlog_policy_suspended_state", suspended_state),
        Case::new("backlog_policy_dead_letter_queue", dead_letter_queue),
        Case::new("backlog_policy_partial_failure", partial_failure).embedded_only(),
        Case::new("backlog_policy_bad_input", bad_input),
        Case::new("backlog_policy_fifo", fifo),
        Case::new("backlog_policy_attached_to_scalable_target", attached),
    ]
}

const ADDR: &str = "queuescale_sqs_backlog_scaling_policy.worker";

fn resource(f: &ServiceFixture, name: &str, body: &str) -> String {
    format!(
        "{}\nresource \"queuescale_sqs_backlog_scaling_policy\" \"worker\" {{\n  name = \"{name}\"\n  \
         queue_name = \"{}\"\n  cluster_name = \"{}\"\n  service_name = \"{}\"\n{body}\n}}\n",
        provider_header(),
        f.queue,
        f.cluster,
        f.service
    )
}

/// The example: 0–50 tasks, 10 s latency, 0.1 s per message.
const EXAMPLE: &str = "  min_capacity = 0\n  max_capacity = 50\n  acceptable_latency_seconds = 10\n  \
                       average_processing_seconds = 0.1";

/// The spec the example configuration means, with every default.
fn example_spec(f: &ServiceFixture, name: &str) -> BacklogSpec {
    BacklogSpec {
        name: name.to_owned(),
        queue_name: f.queue.clone(),
        cluster: f.cluster.clone(),
        service: f.service.clone(),
        owned_capacity: Some((0, 50)),
        target: BacklogTarget::Latency {
            latency: 10.0,
            processing: 0.1,
        },
        include_in_flight: true,
        include_delayed: false,
        scale_out_cooldown: 60,
        scale_in_cooldown: 300,
        disable_scale_in: false,
        wake_threshold: 1.0,
        wake_tasks: 1,
        idle_minutes: 15,
        task_count: TaskCountSource::CpuSampleCount,
        notify: Default::default(),
        keep_active: None,
        dead_letter_queue: None,
        suspension: Default::default(),
    }
}

/// Asserts AWS holds exactly the compiled target, policies and alarms of `spec`, each
/// alarm invoking its own policy.
fn assert_aws_matches(spec: &BacklogSpec) {
    let compiled = compile(spec);
    let resource_id = format!("service/{}/{}", spec.cluster, spec.service);
    if let Some(t) = &compiled.target {
        let observed = aws::scalable_target(&resource_id).expect("scalable target registered");
        assert_eq!(&observed.target, t);
    }
    let policies = aws::policies(&resource_id);
    for (_, want) in &compiled.policies {
        let got = policies
            .iter()
            .find(|p| p.policy.name == want.name)
            .unwrap_or_else(|| panic!("policy {} missing", want.name));
        assert_eq!(&got.policy, want, "policy {} as AWS holds it", want.name);
    }
    assert_eq!(
        policies
            .iter()
            .filter(|p| p.policy.name.starts_with(&spec.name))
            .count(),
        compiled.policies.len(),
        "no other policies of this resource"
    );
    let names: Vec<String> = compiled
        .alarms
        .iter()
        .map(|(_, a)| a.name.clone())
        .collect();
    let alarms = aws::block_on(
        terraform_provider_queuescale::aws::cloudwatch::find_alarms_by_names(
            &aws::clients().cloudwatch,
            &names,
        ),
    )
    .expect("describe alarms");
    for (purpose, want) in &compiled.alarms {
        let got = alarms
            .iter()
            .find(|a| a.alarm.name == want.name)
            .unwrap_or_else(|| panic!("alarm {} missing", want.name));
        let policy = policies
            .iter()
            .find(|p| p.policy.name == purpose.object_name(&spec.name))
            .expect("the alarm's policy");
        let mut want = want.clone();
        want.actions = vec![policy.arn.clone()];
        assert_eq!(
            got.alarm, want,
            "alarm {} as CloudWatch holds it",
            want.name
        );
    }
    assert_eq!(
        aws::alarms_with_prefix(&spec.name).len(),
        compiled.alarms.len(),
        "no extra alarms"
    );
}

/// Asserts nothing of the resource is left.
fn assert_nothing_left(f: &ServiceFixture, name: &str, owned: bool) {
    if owned {
        assert!(
            aws::scalable_target(&f.resource_id()).is_none(),
            "target left behind"
        );
    }
    let left: Vec<String> = aws::policies(&f.resource_id())
        .into_iter()
        .map(|p| p.policy.name)
        .filter(|n| n.starts_with(name))
        .collect();
    assert!(left.is_empty(), "policies left behind: {left:?}");
    assert!(
        aws::alarms_with_prefix(name).is_empty(),
        "alarms left behind"
    );
}

fn basic(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-basic"), false);
    let name = format!("{}-scale", f.cluster);
    let ws = aws_workspace(tf, "bp-basic");
    let hcl = resource(&f, &name, EXAMPLE);
    ws.write_config(&hcl);
    ws.init();
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    for shown in [
        "keeps IF(tasks > 0 AND visible + in_flight >= 0, \
         IF(visible + in_flight > 0, visible + in_flight, 0.1) / tasks) at 100",
        "IF(FILL(tasks, 0) == 0 AND in_flight + received + empty_receives == 0, visible, 0) \
         >= 1 for 1 of 1 periods of 60 s",
        "visible + in_flight + delayed + received <= 0 for 15 of 15 periods of 60 s",
        "ExactCapacity by breach: [0, +inf] → 1; cooldown 60 s",
        "-wake-from-zero",
        "-drain-to-zero",
        "target_value",
    ] {
        assert!(
            plan.stdout.contains(shown),
            "the plan shows {shown:?}:\n{}",
            plan.stdout
        );
    }
    // The whole resource, every alarm and policy included, in one screen.
    let lines = plan_block_lines(&plan.stdout, ADDR);
    assert!(
        lines <= 60,
        "the create shows in {lines} lines:\n{}",
        plan.stdout
    );
    ws.apply();
    let spec = example_spec(&f, &name);
    assert_aws_matches(&spec);
    let values = ws.resource_values(ADDR);
    assert_eq!(values["target_value"], 100);
    assert_eq!(values["id"], format!("{}/{}/{name}", f.cluster, f.service));
    assert!(
        state_entry(&values, "backlog-per-task")["does"]
            .as_str()
            .is_some_and(|d| d.contains(") at 100;")),
        "{values}"
    );
    ws.assert_plan_empty();
    assert_import_matches(
        &ws,
        tf,
        &hcl,
        &[(ADDR, format!("{}/{}/{name}", f.cluster, f.service))],
    );
    ws.destroy();
    assert_nothing_left(&f, &name, true);
}

fn update(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-update"), false);
    let other_queue = format!("{}-other", f.cluster);
    aws::create_queue(&other_queue);
    let name = format!("{}-scale", f.cluster);
    let ws = aws_workspace(tf, "bp-update");
    ws.write_config(&resource(
        &f,
        &name,
        &format!("{EXAMPLE}\n  tags = {{ team = \"a\" }}"),
    ));
    ws.init();
    ws.apply();
    let target_arn = aws::scalable_target(&f.resource_id()).expect("target").arn;

    // Every updatable attribute at once.
    let changed = format!(
        "{}\nresource \"queuescale_sqs_backlog_scaling_policy\" \"worker\" {{\n  name = \"{name}\"\n  \
         queue_name = \"{other_queue}\"\n  cluster_name = \"{}\"\n  service_name = \"{}\"\n  \
         min_capacity = 1\n  max_capacity = 20\n  target_backlog_per_task = 25\n  \
         include_in_flight = false\n  include_delayed = true\n  scale_out_cooldown = 30\n  \
         scale_in_cooldown = 600\n  wake_threshold = 5\n  wake_tasks = 2\n  idle_minutes = 30\n  \
         task_count_source = \"container_insights\"\n  tags = {{ team = \"b\", tier = \"jobs\" }}\n}}\n",
        provider_header(),
        f.cluster,
        f.service
    );
    ws.write_config(&changed);
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "in place:\n{}",
        plan.stdout
    );
    ws.apply();
    let mut spec = example_spec(&f, &name);
    spec.queue_name = other_queue.clone();
    spec.owned_capacity = Some((1, 20));
    spec.target = BacklogTarget::Explicit(25.0);
    spec.include_in_flight = false;
    spec.include_delayed = true;
    spec.scale_out_cooldown = 30;
    spec.scale_in_cooldown = 600;
    spec.wake_threshold = 5.0;
    spec.wake_tasks = 2;
    spec.idle_minutes = 30;
    spec.task_count = TaskCountSource::ContainerInsights;
    assert_aws_matches(&spec);
    let target = aws::scalable_target(&f.resource_id()).expect("target");
    assert_eq!(
        target.arn, target_arn,
        "the target was updated, not replaced"
    );
    let tags = aws::target_tags(&target.arn);
    assert_eq!(
        (tags["team"].as_str(), tags["tier"].as_str()),
        ("b", "jobs")
    );
    ws.assert_plan_empty();

    // disable_scale_in removes the drain; re-enabling brings it back.
    ws.write_config(&changed.replace(
        "  idle_minutes = 30\n",
        "  idle_minutes = 30\n  disable_scale_in = true\n",
    ));
    ws.apply();
    spec.disable_scale_in = true;
    assert_aws_matches(&spec);
    ws.assert_plan_empty();
    ws.write_config(&changed);
    ws.apply();
    spec.disable_scale_in = false;
    assert_aws_matches(&spec);
    ws.assert_plan_empty();

    // A new name is an update too: new objects, then the old ones deleted.
    let renamed = format!("{name}-v2");
    ws.write_config(&changed.replace(
        &format!("name = \"{name}\""),
        &format!("name = \"{renamed}\""),
    ));
    let plan = ws.plan();
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "in place:\n{}",
        plan.stdout
    );
    ws.apply();
    spec.name = renamed.clone();
    assert_aws_matches(&spec);
    let old_left: Vec<String> = aws::alarms_with_prefix(&name)
        .into_iter()
        .filter(|a| !a.starts_with(&renamed))
        .collect();
    assert!(old_left.is_empty(), "old alarms deleted: {old_left:?}");
    assert!(
        aws::policies(&f.resource_id())
            .iter()
            .all(|p| p.policy.name.starts_with(&renamed)),
        "old policies deleted"
    );
    assert_eq!(
        aws::scalable_target(&f.resource_id()).expect("target").arn,
        target_arn
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name, true);
    aws::delete_queue(&other_queue);
}

fn disappears(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-gone"), false);
    let name = format!("{}-scale", f.cluster);
    let spec = example_spec(&f, &name);
    let ws = aws_workspace(tf, "bp-gone");
    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.init();
    ws.apply();
    let cw = &aws::clients().cloudwatch;

    // An alarm deleted behind Terraform's back.
    let wake = Purpose::WakeFromZero.object_name(&name);
    aws::block_on(cw.delete_alarms().alarm_names(&wake).send()).expect("delete alarm");
    expect_repair(&ws, &spec, "wake-from-zero");

    // An alarm edited behind Terraform's back.
    let drain = Purpose::DrainToZero.object_name(&name);
    let compiled = compile(&spec);
    let mut edited = compiled.alarms[1].1.clone();
    edited.threshold = 5.0;
    edited.actions = vec![
        aws::policies(&f.resource_id())
            .into_iter()
            .find(|p| p.policy.name == drain)
            .expect("drain policy")
            .arn,
    ];
    aws::block_on(
        terraform_provider_queuescale::aws::cloudwatch::put_metric_alarm(
            cw,
            &edited,
            &Default::default(),
        ),
    )
    .expect("edit alarm");
    expect_repair(&ws, &spec, "drain-to-zero");

    // A description edited in the console: not in the plan's text, but noticed.
    put_with_description(&f, &name, Purpose::WakeFromZero, "edited in the console");
    expect_repair(&ws, &spec, "AWS holds other description");

    // A policy deleted behind Terraform's back.
    let tt = Purpose::BacklogPerTask.object_name(&name);
    aws::block_on(
        terraform_provider_queuescale::aws::app_autoscaling::delete_scaling_policy(
            &aws::clients().aas,
            &f.resource_id(),
            &tt,
        ),
    )
    .expect("delete policy");
    expect_repair(&ws, &spec, "backlog-per-task");

    // The target deregistered (AWS deletes its policies with it).
    aws::deregister(&f.resource_id());
    expect_repair(&ws, &spec, "scalable_target_arn");

    // Destroy is idempotent when some objects are already gone.
    aws::block_on(cw.delete_alarms().alarm_names(&wake).send()).expect("delete alarm");
    ws.ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-refresh=false",
    ]);
    assert_nothing_left(&f, &name, true);
}

/// Rewrites the alarm of `purpose` as compiled for the example, invoking its policy, with
/// another description (PutMetricAlarm keeps an existing alarm's tags).
fn put_with_description(f: &ServiceFixture, name: &str, purpose: Purpose, description: &str) {
    let compiled = compile(&example_spec(f, name));
    let (_, alarm) = compiled
        .alarms
        .iter()
        .find(|(p, _)| *p == purpose)
        .expect("the alarm is compiled");
    let mut edited = alarm.clone();
    edited.description = description.to_owned();
    edited.actions = vec![
        aws::policies(&f.resource_id())
            .into_iter()
            .find(|p| p.policy.name == purpose.object_name(name))
            .expect("its policy")
            .arn,
    ];
    aws::block_on(
        terraform_provider_queuescale::aws::cloudwatch::put_metric_alarm(
            &aws::clients().cloudwatch,
            &edited,
            &Default::default(),
        ),
    )
    .expect("edit alarm");
}

/// Import reads how the target was given from the alarms' `queuescale:inputs` tag, so an
/// alarm description edited in the console does not lose it; the plan then rewrites only
/// that alarm.
fn import_after_console_edit(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-import-edit"), false);
    let name = format!("{}-scale", f.cluster);
    let hcl = resource(&f, &name, EXAMPLE);
    let made = aws_workspace(tf, "bp-import-edit-src");
    made.write_config(&hcl);
    made.init();
    made.apply();
    let wake = Purpose::WakeFromZero.object_name(&name);
    let cw = &aws::clients().cloudwatch;
    let arn = aws::block_on(cw.describe_alarms().alarm_names(&wake).send())
        .expect("describe")
        .metric_alarms()
        .first()
        .and_then(|a| a.alarm_arn().map(str::to_owned))
        .expect("the wake alarm");
    let tags =
        aws::block_on(cw.list_tags_for_resource().resource_arn(&arn).send()).expect("list tags");
    let inputs = tags
        .tags()
        .iter()
        .find(|t| t.key() == Some("queuescale:inputs"))
        .and_then(|t| t.value());
    assert_eq!(inputs, Some("latency=10 processing=0.1"), "{tags:?}");
    put_with_description(
        &f,
        &name,
        Purpose::WakeFromZero,
        "Wakes the worker service.",
    );

    let fresh = aws_workspace(tf, "bp-import-edit");
    fresh.write_config(&hcl);
    fresh.init();
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &format!("{}/{}/{name}", f.cluster, f.service),
    ]);
    let values = fresh.resource_values(ADDR);
    assert_eq!(values["acceptable_latency_seconds"], 10, "{values}");
    assert_eq!(values["average_processing_seconds"], 0.1, "{values}");
    assert!(values["target_backlog_per_task"].is_null(), "{values}");
    let plan = fresh.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy")
            && plan.stdout.contains("AWS holds other description"),
        "only the edited alarm is rewritten:\n{}",
        plan.stdout
    );
    fresh.apply();
    assert_aws_matches(&example_spec(&f, &name));
    fresh.assert_plan_empty();
    made.assert_plan_empty();
    fresh.destroy();
    assert_nothing_left(&f, &name, true);
}

/// The next plan shows a change mentioning `what`; the next apply restores `spec` exactly.
fn expect_repair(ws: &Workspace, spec: &BacklogSpec, what: &str) {
    let plan = ws.plan();
    assert_eq!(
        plan.code,
        2,
        "the change behind Terraform's back shows:\n{}",
        plan.text()
    );
    assert!(
        plan.stdout.contains(what),
        "the plan mentions {what}:\n{}",
        plan.stdout
    );
    ws.apply();
    assert_aws_matches(spec);
    ws.assert_plan_empty();
}

fn import(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-import"), false);
    let name = format!("{}-scale", f.cluster);
    let body = format!(
        "{EXAMPLE}\n  wake_tasks = 2\n  idle_minutes = 20\n  include_delayed = true\n  tags = {{ team = \"jobs\" }}"
    );
    let hcl = resource(&f, &name, &body);
    let made = aws_workspace(tf, "bp-import-src");
    made.write_config(&hcl);
    made.init();
    made.apply();
    // Import into a fresh directory: state equal, plan empty.
    let fresh = aws_workspace(tf, "bp-import");
    fresh.write_config(&hcl);
    fresh.init();
    let bad = fresh.run(&["import", "-input=false", "-no-color", ADDR, "only/two"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("Invalid import id"), "{}", bad.text());
    assert!(
        bad.stderr.contains("CLUSTER/SERVICE/NAME"),
        "{}",
        bad.text()
    );
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &format!("{}/{}/{name}", f.cluster, f.service),
    ]);
    assert_eq!(fresh.resource_values(ADDR), made.resource_values(ADDR));
    fresh.assert_plan_empty();
    made.destroy();
    assert_nothing_left(&f, &name, true);
}

fn partial_failure(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-partial"), false);
    let name = format!("{}-scale", f.cluster);
    let drain = Purpose::DrainToZero.object_name(&name);
    let ws = aws_workspace(tf, "bp-partial");
    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.init();
    {
        let fault = Fault::inject(json!({
            "operation": "PutMetricAlarm",
            "error": "LimitExceeded",
            "message": "The maximum number of alarms has been reached.",
            "status": 400,
            "match": drain,
        }));
        let r = ws.apply_fails();
        assert!(r.stderr.contains("Putting alarm failed"), "{}", r.text());
        assert!(
            r.stderr.contains(&drain),
            "the error names the alarm:\n{}",
            r.text()
        );
        assert!(fault.fired() >= 1);
        // State records exactly what exists: the target, three policies, the wake alarm.
        let values = ws.resource_values(ADDR);
        assert!(values["scalable_target_arn"].as_str().is_some(), "{values}");
        assert_eq!(existing_policies(&values).len(), 3, "{values}");
        assert_eq!(
            existing_alarms(&values),
            [Purpose::WakeFromZero.object_name(&name)],
            "{values}"
        );
        assert!(aws::alarms_with_prefix(&drain).is_empty());
    }
    // Fault gone: the next apply converges.
    ws.apply();
    assert_aws_matches(&example_spec(&f, &name));
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name, true);
}

fn bad_input(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-bad"), false);
    let name = format!("{}-scale", f.cluster);
    let ws = aws_workspace(tf, "bp-bad");
    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.init();
    let cases: [(&str, &str, &str); 7] = [
        (
            "  min_capacity = 0\n  max_capacity = 5\n  target_backlog_per_task = 10\n  acceptable_latency_seconds = 10\n  average_processing_seconds = 1",
            "Conflicting targets",
            "target_backlog_per_task = 10",
        ),
        (
            "  min_capacity = 0\n  max_capacity = 5\n  acceptable_latency_seconds = 0.05\n  average_processing_seconds = 0.1",
            "Latency shorter than processing time",
            "acceptable_latency_seconds = 0.05",
        ),
        (
            "  min_capacity = 0\n  max_capacity = 5\n  target_backlog_per_task = 0",
            "Invalid target_backlog_per_task",
            "target_backlog_per_task = 0",
        ),
        (
            "  min_capacity = 6\n  max_capacity = 5\n  target_backlog_per_task = 10",
            "min_capacity is greater than max_capacity",
            "min_capacity = 6",
        ),
        (
            "  min_capacity = 0\n  max_capacity = 5\n  target_backlog_per_task = 10\n  idle_minutes = 0",
            "Invalid idle_minutes",
            "idle_minutes = 0",
        ),
        (
            "  min_capacity = 0\n  max_capacity = 5\n  target_backlog_per_task = 10\n  scale_in_cooldown = -5",
            "Invalid scale_in_cooldown",
            "scale_in_cooldown = -5",
        ),
        (
            "  min_capacity = 0\n  max_capacity = 5\n  target_backlog_per_task = 10\n  task_count_source = \"guess\"",
            "Invalid task_count_source",
            "task_count_source = \"guess\"",
        ),
    ];
    for (body, summary, line) in cases {
        ws.write_config(&resource(&f, &name, body));
        let r = ws.run(&["plan", "-input=false", "-no-color"]);
        assert_ne!(r.code, 0, "{}", r.text());
        assert!(r.stderr.contains(summary), "{summary}:\n{}", r.text());
        assert!(
            r.stderr.contains(line),
            "the error points at {line}:\n{}",
            r.text()
        );
    }
    // A queue name SQS would refuse, and a queue that does not exist.
    let mut bad_queue = resource(&f, &name, EXAMPLE);
    bad_queue = bad_queue.replace(
        &format!("queue_name = \"{}\"", f.queue),
        "queue_name = \"not a queue\"",
    );
    ws.write_config(&bad_queue);
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(r.stderr.contains("Invalid queue_name"), "{}", r.text());
    ws.write_config(
        &resource(&f, &name, EXAMPLE).replace(&f.queue, &format!("{}-missing", f.queue)),
    );
    let r = ws.apply_fails();
    assert!(r.stderr.contains("SQS queue not found"), "{}", r.text());
    assert!(
        ws.ok(&["state", "list"]).stdout.trim().is_empty(),
        "nothing recorded"
    );
    assert_nothing_left(&f, &name, true);
}

fn fifo(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-fifo"), true);
    let name = format!("{}-scale", f.cluster);
    let ws = aws_workspace(tf, "bp-fifo");
    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.init();
    ws.apply();
    let spec = example_spec(&f, &name);
    assert!(spec.queue_name.ends_with(".fifo"));
    assert_aws_matches(&spec);
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name, true);
}

fn attached(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-attached"), false);
    let name = format!("{}-scale", f.cluster);
    let ws = aws_workspace(tf, "bp-attached");
    let hcl = format!(
        "{}
resource \"queuescale_scalable_target\" \"svc\" {{
  cluster_name = \"{c}\"
  service_name = \"{s}\"
  min_capacity = 0
  max_capacity = 8
}}

resource \"queuescale_sqs_backlog_scaling_policy\" \"worker\" {{
  name                    = \"{name}\"
  queue_name              = \"{q}\"
  cluster_name            = \"{c}\"
  service_name            = \"{s}\"
  scalable_target_id      = queuescale_scalable_target.svc.id
  target_backlog_per_task = 50
}}
",
        provider_header(),
        c = f.cluster,
        s = f.service,
        q = f.queue
    );
    ws.write_config(&hcl);
    ws.init();
    ws.apply();
    let mut spec = example_spec(&f, &name);
    spec.owned_capacity = None;
    spec.target = BacklogTarget::Explicit(50.0);
    assert_aws_matches(&spec);
    let values = ws.resource_values(ADDR);
    assert!(
        values["scalable_target_arn"].is_null(),
        "the target belongs to the other resource"
    );
    let target = aws::scalable_target(&f.resource_id()).expect("target");
    assert_eq!(target.target.max_capacity, 8);
    ws.assert_plan_empty();
    let fresh = aws_workspace(tf, "bp-attached-import");
    fresh.write_config(&hcl);
    fresh.init();
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &format!("{}/{}/{name}/attached", f.cluster, f.service),
    ]);
    assert_eq!(fresh.resource_values(ADDR), values);
    // Destroying only the policy leaves the target alone.
    ws.ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        &format!("-target={ADDR}"),
    ]);
    assert!(
        aws::scalable_target(&f.resource_id()).is_some(),
        "the attached target stays"
    );
    assert!(
        aws::policies(&f.resource_id())
            .iter()
            .all(|p| !p.policy.name.starts_with(&name)),
        "its policies are gone"
    );
    assert!(aws::alarms_with_prefix(&name).is_empty());
    ws.destroy();
    assert_nothing_left(&f, &name, true);
}

/// (alarm actions, OK actions) of an alarm as CloudWatch holds it, read with the SDK.
pub fn alarm_actions_in_aws(name: &str) -> (Vec<String>, Vec<String>) {
    let out = aws::block_on(
        aws::clients()
            .cloudwatch
            .describe_alarms()
            .alarm_names(name)
            .send(),
    )
    .unwrap_or_else(|e| panic!("DescribeAlarms {name}: {e:?}"));
    let [a] = out.metric_alarms() else {
        panic!(
            "CloudWatch holds {} alarms named {name}",
            out.metric_alarms().len()
        );
    };
    (a.alarm_actions().to_vec(), a.ok_actions().to_vec())
}

/// `alarm_actions`/`ok_actions` reach both alarms after the policy's own ARN, show in the
/// plan, change in place, import back, and go away; a bad ARN fails at its element.
fn notifications(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-notify"), false);
    let name = format!("{}-scale", f.cluster);
    let topic = |t: &str| format!("arn:aws:sns:us-east-1:123456789012:{}-{t}", f.cluster);
    let (ops, wakes, sleeps) = (topic("ops"), topic("wakes"), topic("sleeps"));
    let body = |alarm: &[&str], ok: &[&str]| {
        let list = |xs: &[&str]| {
            xs.iter()
                .map(|x| format!("\"{x}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut hcl = EXAMPLE.to_owned();
        for (attr, xs) in [("alarm_actions", alarm), ("ok_actions", ok)] {
            if !xs.is_empty() {
                hcl.push_str(&format!("\n  {attr} = [{}]", list(xs)));
            }
        }
        hcl
    };
    let ws = aws_workspace(tf, "bp-notify");
    ws.write_config(&resource(&f, &name, &body(&[&ops], &[&sleeps])));
    ws.init();
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(
        plan.stdout.contains(&format!(
            "; notifies {ops} in ALARM; notifies {sleeps} on OK"
        )),
        "{}",
        plan.stdout
    );
    ws.apply();
    let values = ws.resource_values(ADDR);
    for purpose in [Purpose::WakeFromZero, Purpose::DrainToZero] {
        let policy_arn = state_entry(&values, purpose.as_str())["arn"]
            .as_str()
            .expect("policy arn")
            .to_owned();
        assert_eq!(
            alarm_actions_in_aws(&purpose.object_name(&name)),
            (vec![policy_arn, ops.clone()], vec![sleeps.clone()]),
            "{purpose:?}"
        );
    }
    ws.assert_plan_empty();

    let hcl = resource(&f, &name, &body(&[&ops, &wakes], &[]));
    ws.write_config(&hcl);
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply();
    let wake = Purpose::WakeFromZero.object_name(&name);
    let (alarm, ok) = alarm_actions_in_aws(&wake);
    assert_eq!(alarm[1..], [ops.clone(), wakes.clone()]);
    assert!(ok.is_empty(), "{ok:?}");
    ws.assert_plan_empty();
    assert_import_matches(
        &ws,
        tf,
        &hcl,
        &[(ADDR, format!("{}/{}/{name}", f.cluster, f.service))],
    );

    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.apply();
    let (alarm, ok) = alarm_actions_in_aws(&wake);
    assert_eq!(alarm.len(), 1, "only its policy: {alarm:?}");
    assert!(ok.is_empty());
    ws.assert_plan_empty();

    ws.write_config(&resource(&f, &name, &body(&["ops"], &[])));
    let bad = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(bad.code, 0);
    let err = bad.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        err.contains("Not an ARN") && err.contains("alarm_actions"),
        "{}",
        bad.text()
    );
    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.destroy();
    assert_nothing_left(&f, &name, true);
}

/// The schedule as EventBridge Scheduler holds it (raw GetSchedule), or `None`.
fn schedule_in_aws(
    name: &str,
) -> Option<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput> {
    match aws::block_on(aws::clients().scheduler.get_schedule().name(name).send()) {
        Ok(s) => Some(s),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("GetSchedule {name}: {e:?}"),
    }
}

/// `keep_queue_active` owns a schedule that reads the queue every few hours as the given
/// role: created, changed in place, repaired when edited elsewhere, imported, removed with
/// the block and on destroy; bad hours fail at the attribute.
fn keep_queue_active(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-keep"), false);
    let name = format!("{}-scale", f.cluster);
    let schedule = format!("{name}-keep-queue-active");
    let role = "arn:aws:iam::123456789012:role/qsacc-keep";
    let body = |extra: &str| {
        format!("{EXAMPLE}\n  keep_queue_active {{\n    role_arn = \"{role}\"\n{extra}  }}")
    };
    let ws = aws_workspace(tf, "bp-keep");
    ws.write_config(&resource(&f, &name, &body("")));
    ws.init();
    ws.apply();
    let arn = ws.resource_values(ADDR)["keep_queue_active_schedule_arn"]
        .as_str()
        .expect("the schedule's ARN")
        .to_owned();
    let got = schedule_in_aws(&schedule).expect("the schedule exists");
    assert_eq!(got.arn(), Some(arn.as_str()));
    assert_eq!(got.schedule_expression(), Some("rate(5 hours)"));
    assert_eq!(got.state().map(|s| s.as_str()), Some("ENABLED"));
    let target = got.target().expect("a target");
    assert_eq!(
        target.arn(),
        "arn:aws:scheduler:::aws-sdk:sqs:getQueueAttributes"
    );
    assert_eq!(target.role_arn(), role);
    let input: serde_json::Value =
        serde_json::from_str(target.input().unwrap_or_default()).expect("JSON input");
    assert!(
        input["QueueUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/{}", f.queue))),
        "{input}"
    );
    ws.assert_plan_empty();

    let hcl = resource(&f, &name, &body("    every_hours = 2\n"));
    ws.write_config(&hcl);
    ws.apply();
    let got = schedule_in_aws(&schedule).expect("still there");
    assert_eq!(got.schedule_expression(), Some("rate(2 hours)"));
    assert_eq!(got.arn(), Some(arn.as_str()), "updated in place");
    ws.assert_plan_empty();
    assert_import_matches(
        &ws,
        tf,
        &hcl,
        &[(ADDR, format!("{}/{}/{name}", f.cluster, f.service))],
    );

    // Disabled and set to 3 hours behind Terraform's back: the plan shows both, apply
    // restores the schedule.
    let mut off = aws::clients()
        .scheduler
        .update_schedule()
        .name(&schedule)
        .schedule_expression("rate(3 hours)")
        .state(aws_sdk_scheduler::types::ScheduleState::Disabled)
        .flexible_time_window(
            aws_sdk_scheduler::types::FlexibleTimeWindow::builder()
                .mode(aws_sdk_scheduler::types::FlexibleTimeWindowMode::Off)
                .build()
                .expect("window"),
        );
    if let Some(d) = got.description() {
        off = off.description(d);
    }
    if let Some(t) = got.target() {
        off = off.target(t.clone());
    }
    aws::block_on(off.send()).expect("disable the schedule");
    let plan = ws.plan();
    assert_eq!(
        plan.code,
        2,
        "the disabled schedule shows:\n{}",
        plan.text()
    );
    assert!(
        plan.stdout.contains("keep_queue_active_schedule_arn")
            && plan.stdout.contains("every_hours")
            && plan.stdout.contains("3 -> 2"),
        "the plan shows the lost schedule and its hours:\n{}",
        plan.stdout
    );
    ws.apply();
    let got = schedule_in_aws(&schedule).expect("still there");
    assert_eq!(got.state().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(got.schedule_expression(), Some("rate(2 hours)"));
    ws.assert_plan_empty();

    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.apply();
    assert!(
        schedule_in_aws(&schedule).is_none(),
        "removed with the block"
    );
    assert!(ws.resource_values(ADDR)["keep_queue_active_schedule_arn"].is_null());
    ws.assert_plan_empty();

    ws.write_config(&resource(&f, &name, &body("    every_hours = 6\n")));
    let bad = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(bad.code, 0);
    let err = bad.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(err.contains("Invalid every_hours"), "{}", bad.text());

    ws.write_config(&resource(&f, &name, &body("")));
    ws.apply();
    assert!(schedule_in_aws(&schedule).is_some());
    ws.destroy();
    assert!(schedule_in_aws(&schedule).is_none(), "destroy removes it");
    assert_nothing_left(&f, &name, true);
}

/// `suspended_state` reaches the owned target (raw DescribeScalableTargets), changes in
/// place, imports back; with an attached target it is an error at the block.
fn suspended_state(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-suspend"), false);
    let name = format!("{}-scale", f.cluster);
    let suspended = |scale_in: bool| {
        format!(
            "{EXAMPLE}\n  suspended_state {{\n    dynamic_scaling_in_suspended = {scale_in}\n  }}"
        )
    };
    let raw = || {
        let out = aws::block_on(
            aws::clients()
                .aas
                .describe_scalable_targets()
                .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
                .resource_ids(f.resource_id())
                .send(),
        )
        .expect("DescribeScalableTargets");
        let t = out.scalable_targets().first().expect("the target").clone();
        let s = t.suspended_state().cloned().unwrap_or_else(|| {
            aws_sdk_applicationautoscaling::types::SuspendedState::builder().build()
        });
        (
            s.dynamic_scaling_in_suspended().unwrap_or(false),
            s.dynamic_scaling_out_suspended().unwrap_or(false),
            s.scheduled_scaling_suspended().unwrap_or(false),
        )
    };
    let ws = aws_workspace(tf, "bp-suspend");
    ws.write_config(&resource(&f, &name, &suspended(true)));
    ws.init();
    ws.apply();
    assert_eq!(raw(), (true, false, false));
    ws.assert_plan_empty();
    let hcl = resource(&f, &name, &suspended(false));
    ws.write_config(&hcl);
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply();
    assert_eq!(raw(), (false, false, false));
    ws.write_config(&resource(&f, &name, &suspended(true)));
    ws.apply();
    assert_import_matches(
        &ws,
        tf,
        &resource(&f, &name, &suspended(true)),
        &[(ADDR, format!("{}/{}/{name}", f.cluster, f.service))],
    );
    ws.destroy();
    assert_nothing_left(&f, &name, true);

    let attached = format!(
        "{}resource \"queuescale_sqs_backlog_scaling_policy\" \"worker\" {{\n  \
         name = \"{name}\"\n  queue_name = \"{}\"\n  cluster_name = \"{}\"\n  \
         service_name = \"{}\"\n  scalable_target_id = \"{}\"\n  \
         target_backlog_per_task = 10\n  suspended_state {{\n    \
         dynamic_scaling_in_suspended = true\n  }}\n}}\n",
        provider_header(),
        f.queue,
        f.cluster,
        f.service,
        f.resource_id()
    );
    ws.write_config(&attached);
    let bad = ws.run(&["validate", "-no-color"]);
    assert_ne!(bad.code, 0);
    let err = bad.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        err.contains("suspended_state with scalable_target_id"),
        "{}",
        bad.text()
    );
}

/// `dead_letter_queue_name` adds an alarm on the dead-letter queue that notifies and
/// invokes no policy; it imports back, goes with the attribute, and a missing queue fails
/// at the attribute before anything is written.
fn dead_letter_queue(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("bp-dlq"), false);
    let name = format!("{}-scale", f.cluster);
    let dlq = format!("{}-dlq", f.cluster);
    let ops = format!("arn:aws:sns:us-east-1:123456789012:{}-ops", f.cluster);
    let body = |queue: &str| {
        format!("{EXAMPLE}\n  dead_letter_queue_name = \"{queue}\"\n  alarm_actions = [\"{ops}\"]")
    };
    let ws = aws_workspace(tf, "bp-dlq");
    ws.write_config(&resource(&f, &name, &body(&dlq)));
    ws.init();
    let missing = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(missing.code, 0);
    let err = missing
        .stderr
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        err.contains("SQS queue not found") && err.contains(&dlq),
        "{}",
        missing.text()
    );
    assert!(aws::alarms_with_prefix(&name).is_empty(), "nothing written");

    aws::create_queue(&dlq);
    let hcl = resource(&f, &name, &body(&dlq));
    ws.apply();
    let alarm = Purpose::DeadLetters.object_name(&name);
    assert_eq!(
        alarm_actions_in_aws(&alarm),
        (vec![ops.clone()], vec![]),
        "it notifies and invokes no policy"
    );
    let values = ws.resource_values(ADDR);
    let entry = state_entry(&values, "dead-letters");
    assert!(entry["arn"].is_null() && entry["does"].is_null(), "{entry}");
    assert_eq!(
        entry["alarm"].as_str(),
        Some(
            format!(
                "dead_letters > 0 for 1 of 1 periods of 60 s; missing data: notBreaching; \
                 notifies {ops} in ALARM"
            )
            .as_str()
        )
    );
    assert_eq!(
        values["metrics"]["dead_letters"].as_str(),
        Some(
            format!("AWS/SQS ApproximateNumberOfMessagesVisible QueueName={dlq}, Maximum").as_str()
        )
    );
    ws.assert_plan_empty();
    assert_import_matches(
        &ws,
        tf,
        &hcl,
        &[(ADDR, format!("{}/{}/{name}", f.cluster, f.service))],
    );

    ws.write_config(&resource(&f, &name, EXAMPLE));
    ws.apply();
    assert!(
        aws::alarms_with_prefix(&alarm).is_empty(),
        "removed with the attribute"
    );
    assert_aws_matches(&example_spec(&f, &name));
    ws.assert_plan_empty();

    ws.write_config(&resource(&f, &name, &body(&f.queue)));
    let same = ws.run(&["validate", "-no-color"]);
    assert_ne!(same.code, 0);
    assert!(
        same.stderr.contains("own dead-letter queue"),
        "{}",
        same.text()
    );
    ws.write_config(&resource(&f, &name, &body(&dlq)));
    ws.apply();
    ws.destroy();
    assert_nothing_left(&f, &name, true);
    aws::delete_queue(&dlq);
}
