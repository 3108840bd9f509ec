//! Lifecycle correctness across resources: nothing shared between two resources, nothing
//! lost when a neighbour is replaced, imports that must name what exists, interrupted
//! writes that converge, and default tags that change without noise.

use serde_json::json;
use terraform_provider_queuescale::scaling::backlog_policy::Purpose;

use crate::support::aws::{self, ServiceFixture, unique_prefix};
use crate::support::emulator::Fault;
use crate::support::terraform::{TerraformBin, Workspace, required_providers};
use crate::support::{Case, aws_workspace, provider_header};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "lifecycle_same_name_twice_in_one_config_fails_at_plan",
            same_name_one_config,
        ),
        Case::new(
            "lifecycle_same_name_in_another_workspace_fails_before_writing",
            same_name_two_workspaces,
        ),
        Case::new(
            "lifecycle_second_owner_of_one_service_is_refused",
            one_service_two_owners,
        ),
        Case::new(
            "lifecycle_replacing_a_target_never_loses_its_policies",
            target_replacement,
        ),
        Case::new("lifecycle_import_ids_must_name_what_exists", import_ids),
        Case::new(
            "lifecycle_lost_replies_converge_on_next_apply",
            lost_replies,
        )
        .embedded_only(),
        Case::new(
            "lifecycle_changing_default_tags_changes_only_tags_all",
            default_tags_change,
        ),
        Case::new(
            "lifecycle_container_insights_off_fails_before_writing",
            container_insights_off,
        ),
        Case::new(
            "lifecycle_policies_made_elsewhere_are_reported_and_kept",
            policies_made_elsewhere,
        ),
        Case::new("aws_calls_and_their_retries_are_logged", calls_logged).embedded_only(),
    ]
}

fn backlog(label: &str, name: &str, f: &ServiceFixture, extra: &str) -> String {
    format!(
        "\nresource \"queuescale_sqs_backlog_scaling_policy\" \"{label}\" {{\n  name = \"{name}\"\n  \
         queue_name = \"{}\"\n  cluster_name = \"{}\"\n  service_name = \"{}\"\n  \
         target_backlog_per_task = 100\n{extra}}}\n",
        f.queue, f.cluster, f.service
    )
}

fn owned(min: i32, max: i32) -> String {
    format!("  min_capacity = {min}\n  max_capacity = {max}\n")
}

fn target(label: &str, f: &ServiceFixture) -> String {
    format!(
        "\nresource \"queuescale_scalable_target\" \"{label}\" {{\n  cluster_name = \"{}\"\n  \
         service_name = \"{}\"\n  min_capacity = 0\n  max_capacity = 10\n}}\n",
        f.cluster, f.service
    )
}

fn step(label: &str, name: &str, target_label: &str, f: &ServiceFixture) -> String {
    format!(
        "\nresource \"queuescale_step_scaling_policy\" \"{label}\" {{\n  name = \"{name}\"\n  \
         scalable_target_id = queuescale_scalable_target.{target_label}.id\n  metric {{\n    \
         namespace = \"AWS/SQS\"\n    metric_name = \"ApproximateNumberOfMessagesVisible\"\n    \
         dimensions = {{ QueueName = \"{}\" }}\n    statistic = \"Maximum\"\n    \
         period_seconds = 60\n  }}\n  step {{\n    upper = 0\n    change = -1\n  }}\n  \
         step {{\n    lower = 10\n    change = 2\n  }}\n}}\n",
        f.queue
    )
}

/// Everything any resource named `name` could have made on `f`'s service.
fn nothing_of(f: &ServiceFixture, name: &str) -> bool {
    aws::alarms_with_prefix(name).is_empty()
        && aws::policies(&f.resource_id())
            .iter()
            .all(|p| !p.policy.name.starts_with(name))
}

/// `text` with every run of whitespace made one space: Terraform wraps diagnostics.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that `r`'s diagnostics contain `needle`, however Terraform wrapped them.
fn says(r: &crate::support::terraform::Run, needle: &str) {
    assert!(
        flat(&r.stderr).contains(&flat(needle)),
        "expected {needle:?} in:\n{}",
        r.text()
    );
}

fn same_name_one_config(tf: &TerraformBin) {
    let prefix = unique_prefix("lc-dup");
    let [a, b, c, d] =
        ["a", "b", "c", "d"].map(|x| ServiceFixture::create(&format!("{prefix}{x}"), false));
    let name = format!("{prefix}-same");
    let step_name = format!("{prefix}-steps");
    let ws = aws_workspace(tf, "lc-dup");
    ws.write_config(&format!(
        "{}{}{}{}{}{}{}",
        provider_header(),
        backlog("a", &name, &a, &owned(0, 5)),
        backlog("b", &name, &b, &owned(0, 5)),
        target("tc", &c),
        target("td", &d),
        step("sc", &step_name, "tc", &c),
        step("sd", &step_name, "td", &d),
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(
        r.code,
        0,
        "two resources with one name must not plan:\n{}",
        r.text()
    );
    says(&r, "Name already used by another resource");
    for (kind, f, n) in [
        ("sqs_backlog_scaling_policy", &a, &name),
        ("sqs_backlog_scaling_policy", &b, &name),
        ("step_scaling_policy", &c, &step_name),
        ("step_scaling_policy", &d, &step_name),
    ] {
        says(
            &r,
            &format!(
                "queuescale_{kind} service/{}/{} name={n}",
                f.cluster, f.service
            ),
        );
    }
    // The same with -parallelism: apply stops at plan, before anything is written.
    let r = ws.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=10",
    ]);
    assert_ne!(r.code, 0, "{}", r.text());
    for f in [&a, &b] {
        assert!(nothing_of(f, &name), "nothing written");
        assert!(
            aws::scalable_target(&f.resource_id()).is_none(),
            "no target registered"
        );
    }
    for f in [&c, &d] {
        assert!(nothing_of(f, &step_name), "nothing written");
    }
}

fn same_name_two_workspaces(tf: &TerraformBin) {
    let prefix = unique_prefix("lc-ws");
    let a = ServiceFixture::create(&format!("{prefix}a"), false);
    let b = ServiceFixture::create(&format!("{prefix}b"), false);
    let name = format!("{prefix}-same");
    let first = aws_workspace(tf, "lc-ws-1");
    first.write_config(&format!(
        "{}{}",
        provider_header(),
        backlog("w", &name, &a, &owned(0, 5))
    ));
    first.init();
    first.apply();
    let alarms_before = aws::alarms_with_prefix(&name);

    let second = aws_workspace(tf, "lc-ws-2");
    second.write_config(&format!(
        "{}{}",
        provider_header(),
        backlog("w", &name, &b, &owned(0, 5))
    ));
    second.init();
    let r = second.apply_fails();
    says(&r, "Name already used by another resource");
    let holder = format!(
        "queuescale_sqs_backlog_scaling_policy service/{}/{} name={name}",
        a.cluster, a.service
    );
    says(&r, &holder);
    // Nothing of the second was written: no target, no policies on its service, and the
    // first one's alarms still invoke the first service's policies.
    assert!(
        aws::scalable_target(&b.resource_id()).is_none(),
        "{}",
        r.text()
    );
    assert!(aws::policies(&b.resource_id()).is_empty());
    assert_eq!(aws::alarms_with_prefix(&name), alarms_before);
    let alarms = aws::block_on(
        terraform_provider_queuescale::aws::cloudwatch::find_alarms_by_names(
            &aws::clients().cloudwatch,
            &alarms_before,
        ),
    )
    .expect("describe alarms");
    let first_service = format!("resource/ecs/{}:", a.resource_id());
    for alarm in &alarms {
        assert!(
            alarm
                .alarm
                .actions
                .iter()
                .all(|x| x.contains(&first_service)),
            "{} still invokes the first service's policies: {:?}",
            alarm.alarm.name,
            alarm.alarm.actions
        );
    }
    first.assert_plan_empty();
    first.destroy();
    assert!(nothing_of(&a, &name));
}

fn one_service_two_owners(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("lc-svc"), false);
    let one = format!("{}-one", f.cluster);
    let two = format!("{}-two", f.cluster);
    let first = aws_workspace(tf, "lc-svc-1");
    first.write_config(&format!(
        "{}{}",
        provider_header(),
        backlog("w", &one, &f, &owned(0, 5))
    ));
    first.init();
    first.apply();

    // A second policy that would own the same service's target, in another workspace.
    let second = aws_workspace(tf, "lc-svc-2");
    second.write_config(&format!(
        "{}{}",
        provider_header(),
        backlog("w", &two, &f, &owned(0, 9))
    ));
    second.init();
    let r = second.apply_fails();
    assert!(
        r.stderr
            .contains("Scalable target managed by another resource"),
        "{}",
        r.text()
    );
    says(&r, &format!("name={one}"));
    // A standalone target for it in a third workspace is refused the same way.
    let third = aws_workspace(tf, "lc-svc-3");
    third.write_config(&format!("{}{}", provider_header(), target("t", &f)));
    third.init();
    let r = third.apply_fails();
    assert!(
        r.stderr
            .contains("Scalable target managed by another resource"),
        "{}",
        r.text()
    );
    // Neither took it over: capacities and policies are the first one's.
    let t = aws::scalable_target(&f.resource_id()).expect("target");
    assert_eq!((t.target.min_capacity, t.target.max_capacity), (0, 5));
    assert!(nothing_of(&f, &two));
    second.destroy();
    third.destroy();
    assert!(
        aws::scalable_target(&f.resource_id()).is_some(),
        "still registered"
    );
    first.assert_plan_empty();
    first.destroy();
    assert!(aws::scalable_target(&f.resource_id()).is_none());
    assert!(nothing_of(&f, &one));
}

fn target_replacement(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("lc-repl"), false);
    let name = format!("{}-bp", f.cluster);
    let step_name = format!("{}-st", f.cluster);
    let ws = aws_workspace(tf, "lc-repl");
    let attached = "  scalable_target_id = queuescale_scalable_target.svc.id\n";
    ws.write_config(&format!(
        "{}{}{}{}",
        provider_header(),
        target("svc", &f),
        backlog("bp", &name, &f, attached),
        step("st", &step_name, "svc", &f),
    ));
    ws.init();
    // The first plan of a fresh stack already says that two policies scale one service.
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    let warning = format!("Several scaling policies for {}", f.resource_id());
    assert!(plan.text().contains(&warning), "{}", plan.text());
    ws.apply();
    let policies_before = aws::policies(&f.resource_id()).len();
    assert_eq!(policies_before, 5, "3 backlog + 2 step policies");

    // Replacing the target alone would deregister it, and AWS would delete the five
    // policies with it: refused, before anything is deleted.
    let r = ws.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-replace=queuescale_scalable_target.svc",
    ]);
    assert_ne!(r.code, 0, "{}", r.text());
    says(&r, "Scalable target still in use");
    assert!(
        r.stderr
            .contains(&Purpose::BacklogPerTask.object_name(&name)),
        "{}",
        r.text()
    );
    assert_eq!(aws::policies(&f.resource_id()).len(), policies_before);
    ws.assert_plan_empty();

    // Replacing the target with the policies on it works and leaves everything in place.
    ws.ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-replace=queuescale_scalable_target.svc",
        "-replace=queuescale_sqs_backlog_scaling_policy.bp",
        "-replace=queuescale_step_scaling_policy.st",
    ]);
    assert_eq!(aws::policies(&f.resource_id()).len(), policies_before);
    ws.assert_plan_empty();
    ws.destroy();
    assert!(aws::scalable_target(&f.resource_id()).is_none());
    assert!(nothing_of(&f, &name) && nothing_of(&f, &step_name));
}

fn import_fails(ws: &Workspace, addr: &str, id: &str, expect: &str) {
    let r = ws.run(&["import", "-input=false", "-no-color", addr, id]);
    assert_ne!(r.code, 0, "import of {id:?} must fail:\n{}", r.text());
    says(&r, expect);
}

fn import_ids(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("lc-imp"), false);
    let name = format!("{}-bp", f.cluster);
    let step_name = format!("{}-st", f.cluster);
    let other = ServiceFixture::create(&unique_prefix("lc-imp2"), false);
    let owned_hcl = format!(
        "{}{}",
        provider_header(),
        backlog("bp", &name, &f, &owned(0, 5))
    );
    let made = aws_workspace(tf, "lc-imp-src");
    made.write_config(&format!(
        "{owned_hcl}{}{}",
        target("svc", &other),
        step("st", &step_name, "svc", &other)
    ));
    made.init();
    made.apply();

    let fresh = aws_workspace(tf, "lc-imp");
    fresh.write_config(&made_config(&owned_hcl, &other, &step_name));
    fresh.init();
    let bp = "queuescale_sqs_backlog_scaling_policy.bp";
    let (c, s) = (&f.cluster, &f.service);
    import_fails(
        &fresh,
        bp,
        &format!("{c}/{s}/nope"),
        "No backlog scaling policy named \"nope\"",
    );
    import_fails(
        &fresh,
        bp,
        &format!("{c}/{s}/{name}/attached"),
        "without /attached",
    );
    import_fails(&fresh, bp, &format!("{c}/{s}"), "CLUSTER/SERVICE/NAME");
    // The name on another service: nothing there.
    import_fails(
        &fresh,
        bp,
        &format!("{}/{}/{name}", other.cluster, other.service),
        "No backlog scaling policy",
    );
    // The target's own id in front is accepted.
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        bp,
        &format!("service/{c}/{s}/{name}"),
    ]);

    let st = "queuescale_step_scaling_policy.st";
    let (oc, os) = (&other.cluster, &other.service);
    import_fails(
        &fresh,
        st,
        &format!("{oc}/{os}/nope"),
        "No step scaling policy named \"nope\"",
    );
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        st,
        &format!("service/{oc}/{os}/{step_name}"),
    ]);

    let t = "queuescale_scalable_target.svc";
    import_fails(
        &fresh,
        t,
        &format!("{oc}/nope"),
        "Cannot import: scalable target not found",
    );
    // The backlog policy's own target belongs to it.
    import_fails(
        &fresh,
        t,
        &format!("{c}/{s}"),
        "managed by another resource",
    );
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        t,
        &format!("service/{oc}/{os}"),
    ]);
    fresh.assert_plan_empty();
    made.destroy();
}

/// The importing workspace's configuration: the same objects.
fn made_config(owned_hcl: &str, other: &ServiceFixture, step_name: &str) -> String {
    format!(
        "{owned_hcl}{}{}",
        target("svc", other),
        step("st", step_name, "svc", other)
    )
}

fn lost_replies(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("lc-lost"), false);
    let name = format!("{}-bp", f.cluster);
    let ws = aws_workspace(tf, "lc-lost");
    ws.write_config(&format!(
        "{}{}",
        provider_header(),
        backlog("bp", &name, &f, &owned(0, 5))
    ));
    ws.init();
    // Each write below reaches AWS, but its reply is lost: the first apply fails with
    // the object outside state; the next apply recognises it as its own.
    for (operation, matching) in [
        ("RegisterScalableTarget", f.service.clone()),
        (
            "PutScalingPolicy",
            Purpose::BacklogPerTask.object_name(&name),
        ),
        ("PutMetricAlarm", Purpose::DrainToZero.object_name(&name)),
    ] {
        {
            let fault = Fault::inject(json!({
                "operation": operation,
                "error": "ValidationException",
                "message": "reply lost",
                "status": 400,
                "match": matching,
                "count": 1,
                "after": true,
            }));
            let r = ws.apply_fails();
            assert!(
                r.stderr.contains("reply lost"),
                "{operation}:\n{}",
                r.text()
            );
            assert_eq!(fault.fired(), 1, "{operation}");
        }
        let r = ws.apply();
        assert!(!r.stderr.contains("Error"), "{operation}: {}", r.text());
        ws.assert_plan_empty();
        ws.destroy();
        assert!(nothing_of(&f, &name), "{operation}: nothing orphaned");
        assert!(
            aws::scalable_target(&f.resource_id()).is_none(),
            "{operation}"
        );
    }
    // Destroying right after the interrupted apply leaves nothing behind either: the
    // alarm state never recorded carries this resource's owner tag.
    {
        let _fault = Fault::inject(json!({
            "operation": "PutMetricAlarm",
            "error": "ValidationException",
            "message": "reply lost",
            "status": 400,
            "match": Purpose::DrainToZero.object_name(&name),
            "count": 1,
            "after": true,
        }));
        ws.apply_fails();
    }
    assert_eq!(
        aws::alarms_with_prefix(&name).len(),
        2,
        "both alarms exist in AWS"
    );
    ws.destroy();
    assert!(nothing_of(&f, &name), "nothing orphaned after destroy");
    assert!(aws::scalable_target(&f.resource_id()).is_none());
}

fn default_tags_change(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("lc-tags"), false);
    let name = format!("{}-bp", f.cluster);
    let other = ServiceFixture::create(&format!("{}t", f.cluster), false);
    let ws = aws_workspace(tf, "lc-tags");
    let config = |owner: &str| {
        format!(
            "{}provider \"queuescale\" {{\n  default_tags {{\n    tags = {{ owner = \"{owner}\" }}\n  }}\n}}\n{}{}{}",
            required_providers(),
            backlog("bp", &name, &f, &owned(0, 5)),
            target("svc", &other),
            step("st", &format!("{name}-st"), "svc", &other),
        )
    };
    ws.write_config(&config("a"));
    ws.init();
    ws.apply();
    ws.assert_plan_empty();
    ws.write_config(&config("b"));
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        !plan.stdout.contains("changed outside of Terraform"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("-> null"),
        "no tags removed:\n{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("tags_all"), "{}", plan.stdout);
    ws.apply();
    ws.assert_plan_empty();
    ws.destroy();
}

fn container_insights_off(tf: &TerraformBin) {
    let f = ServiceFixture::create_without_insights(&unique_prefix("lc-ci"));
    let name = format!("{}-bp", f.cluster);
    let ws = aws_workspace(tf, "lc-ci");
    let source = "  task_count_source = \"container_insights\"\n";
    ws.write_config(&format!(
        "{}{}",
        provider_header(),
        backlog("bp", &name, &f, &format!("{}{source}", owned(0, 5)))
    ));
    ws.init();
    let r = ws.apply_fails();
    says(&r, "Container Insights is off");
    says(&r, "task_count_source");
    assert!(
        aws::scalable_target(&f.resource_id()).is_none(),
        "nothing written"
    );
    assert!(nothing_of(&f, &name));
    // The default source needs no setting.
    ws.write_config(&format!(
        "{}{}",
        provider_header(),
        backlog("bp", &name, &f, &owned(0, 5))
    ));
    ws.apply();
    ws.destroy();
}

/// Puts a step policy by hand (raw SDK), as another tool would.
fn put_policy_by_hand(resource_id: &str, name: &str) {
    use aws_sdk_applicationautoscaling::types as t;
    let config = t::StepScalingPolicyConfiguration::builder()
        .adjustment_type(t::AdjustmentType::ChangeInCapacity)
        .step_adjustments(
            t::StepAdjustment::builder()
                .metric_interval_lower_bound(0.0)
                .scaling_adjustment(1)
                .build()
                .expect("step"),
        )
        .build();
    aws::block_on(
        aws::clients()
            .aas
            .put_scaling_policy()
            .policy_name(name)
            .service_namespace(t::ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(t::ScalableDimension::EcsServiceDesiredCount)
            .policy_type(t::PolicyType::StepScaling)
            .step_scaling_policy_configuration(config)
            .send(),
    )
    .expect("put policy by hand");
}

fn policies_made_elsewhere(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("lc-else"), false);
    let name = format!("{}-bp", f.cluster);
    let by_hand = format!("{}-by-hand", f.cluster);
    let ws = aws_workspace(tf, "lc-else");
    let only_target = format!("{}{}", provider_header(), target("svc", &f));
    ws.write_config(&only_target);
    ws.init();
    ws.apply();
    put_policy_by_hand(&f.resource_id(), &by_hand);
    let attached = "  scalable_target_id = queuescale_scalable_target.svc.id\n";
    ws.write_config(&format!(
        "{only_target}{}",
        backlog("bp", &name, &f, attached)
    ));
    let r = ws.apply();
    let out = flat(&format!("{}{}", r.stdout, r.stderr));
    assert!(
        out.contains(&format!("Other scaling policies on {}", f.resource_id())),
        "{}",
        r.text()
    );
    assert!(
        out.contains(&by_hand),
        "the warning names it:\n{}",
        r.text()
    );
    // Destroying the target would delete the hand-made policy with it: refused.
    let r = ws.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    says(&r, "Scalable target still in use");
    says(&r, &by_hand);
    assert!(
        aws::policies(&f.resource_id())
            .iter()
            .any(|p| p.policy.name == by_hand)
    );
    aws::block_on(
        terraform_provider_queuescale::aws::app_autoscaling::delete_scaling_policy(
            &aws::clients().aas,
            &f.resource_id(),
            &by_hand,
        ),
    )
    .expect("delete by hand");
    ws.destroy();
    assert!(aws::scalable_target(&f.resource_id()).is_none());
}

fn calls_logged(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("lc-log"), false);
    let ws = aws_workspace(tf, "lc-log");
    ws.write_config(&format!("{}{}", provider_header(), target("svc", &f)));
    ws.init();
    let _fault = Fault::inject(json!({
        "operation": "RegisterScalableTarget",
        "error": "ThrottlingException",
        "message": "Rate exceeded",
        "status": 400,
        "match": f.service,
        "count": 1,
    }));
    let r = ws.run_with(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        &[("TF_LOG", "debug")],
    );
    assert_eq!(r.code, 0, "the throttled call is retried:\n{}", r.text());
    let ours: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-queuescale") && l.contains("AWS call"))
        .collect();
    let has = |level: &str, needles: &[&str]| {
        ours.iter()
            .any(|l| l.contains(level) && needles.iter().all(|n| l.contains(n)))
    };
    assert!(
        has(
            "[WARN]",
            &[
                "AWS call failed",
                "operation=RegisterScalableTarget",
                "status=400",
                "attempt=1"
            ]
        ),
        "the throttled attempt is logged at warn:\n{}",
        ours.join("\n")
    );
    assert!(
        has(
            "[DEBUG]",
            &[
                "operation=RegisterScalableTarget",
                "status=200",
                "attempt=2"
            ]
        ),
        "the retry that succeeded is logged:\n{}",
        ours.join("\n")
    );
    assert!(
        has("[DEBUG]", &["operation=DescribeScalableTargets"]),
        "{}",
        ours.join("\n")
    );
    ws.destroy();
}
