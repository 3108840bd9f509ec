//! `queuescale_step_scaling_policy` against the AWS backend: AWS must hold exactly the
//! alarms and step policies CDK's algorithm (the library's compiler) produces.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use terraform_provider_queuescale::aws::{app_autoscaling, cloudwatch};
use terraform_provider_queuescale::scaling::model::{
    AlarmMetric, Metric, MetricQuery, MetricStat, PolicyKind, QuerySource,
};
use terraform_provider_queuescale::scaling::step_policy::{StepSpec, objects};
use terraform_provider_queuescale::scaling::steps::{
    AdjustmentType, AggregationType, AlarmPeriods, StepInput, compile,
};

use tokio_util::sync::CancellationToken;

use crate::backlog_policy::alarm_actions_in_aws;
use crate::scalable_target::assert_import_matches;
use crate::support::aws::{self, ServiceFixture, unique_prefix};
use crate::support::emulator::Fault;
use crate::support::terraform::{TerraformBin, Workspace};
use crate::support::{Case, aws_workspace, existing_alarms, existing_policies, provider_header};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new("step_policy_basic", basic),
        Case::new("step_policy_notifications", notifications),
        Case::new("step_policy_percent", percent),
        Case::new("step_policy_zero_change_steps", zero_change_steps),
        Case::new("step_policy_trimmed_mean", trimmed_mean),
        Case::new("step_policy_metric_math", metric_math),
        Case::new("step_policy_update", update),
        Case::new("step_policy_disappears", disappears),
        Case::new("step_policy_import", import),
        Case::new("step_policy_import_unordered", import_unordered),
        Case::new("step_policy_partial_failure", partial_failure).embedded_only(),
        Case::new("step_policy_bad_steps", bad_steps),
        Case::new("step_policy_bad_metrics", bad_metrics),
        Case::new("step_policy_bad_expression", bad_expression),
        Case::new("step_policy_conflict_warning", conflict_warning),
    ]
}

const ADDR: &str = "queuescale_step_scaling_policy.p";

fn target(f: &ServiceFixture) -> String {
    format!(
        "{}\nresource \"queuescale_scalable_target\" \"svc\" {{\n  cluster_name = \"{}\"\n  \
         service_name = \"{}\"\n  min_capacity = 0\n  max_capacity = 50\n}}\n",
        provider_header(),
        f.cluster,
        f.service
    )
}

fn queue_metric(f: &ServiceFixture) -> String {
    format!(
        "  metric {{\n    namespace      = \"AWS/SQS\"\n    metric_name    = \"ApproximateNumberOfMessagesVisible\"\n    \
         dimensions     = {{ QueueName = \"{}\" }}\n    statistic      = \"Maximum\"\n    period_seconds = 300\n  }}\n",
        f.queue
    )
}

fn policy(label: &str, name: &str, body: &str) -> String {
    format!(
        "\nresource \"queuescale_step_scaling_policy\" \"{label}\" {{\n  name = \"{name}\"\n  \
         scalable_target_id = queuescale_scalable_target.svc.id\n{body}}}\n"
    )
}

fn steps_hcl(steps: &[(Option<f64>, Option<f64>, f64)]) -> String {
    steps
        .iter()
        .map(|(l, u, c)| {
            let mut s = String::from("  step {\n");
            if let Some(l) = l {
                s.push_str(&format!("    lower = {l}\n"));
            }
            if let Some(u) = u {
                s.push_str(&format!("    upper = {u}\n"));
            }
            s.push_str(&format!("    change = {c}\n  }}\n"));
            s
        })
        .collect()
}

/// The source document's first policy.
const INITIAL: [(Option<f64>, Option<f64>, f64); 4] = [
    (None, Some(0.0), -1.0),
    (Some(1.0), None, 1.0),
    (Some(5.0), None, 3.0),
    (Some(10.0), None, 5.0),
];
/// Its second policy (percent).
const PERCENT: [(Option<f64>, Option<f64>, f64); 2] =
    [(None, Some(10.0), -10.0), (Some(15.0), None, 67.0)];

fn sqs_metric(f: &ServiceFixture) -> AlarmMetric {
    AlarmMetric::Single(MetricStat {
        metric: Metric {
            namespace: "AWS/SQS".into(),
            name: "ApproximateNumberOfMessagesVisible".into(),
            dimensions: BTreeMap::from([("QueueName".to_owned(), f.queue.clone())]),
        },
        stat: "Maximum".into(),
        period: Some(300),
        unit: None,
    })
}

fn spec(
    f: &ServiceFixture,
    name: &str,
    steps: &[(Option<f64>, Option<f64>, f64)],
    adjustment: AdjustmentType,
    metric: AlarmMetric,
    aggregation: Option<AggregationType>,
) -> StepSpec {
    let inputs: Vec<StepInput> = steps
        .iter()
        .map(|(l, u, c)| StepInput {
            lower: *l,
            upper: *u,
            change: *c,
        })
        .collect();
    StepSpec {
        name: name.to_owned(),
        resource_id: f.resource_id(),
        metric,
        adjustment_type: adjustment,
        cooldown: Some(60),
        min_adjustment_magnitude: None,
        aggregation,
        periods: AlarmPeriods {
            evaluation_periods: 1,
            datapoints_to_alarm: None,
        },
        steps: compile(&inputs, adjustment).expect("valid steps"),
        notify: Default::default(),
    }
}

/// AWS holds exactly the compiled policies and alarms, each alarm invoking its policy.
fn assert_aws_matches(spec: &StepSpec) {
    let (policies, alarms) = objects(spec);
    let held = aws::policies(&spec.resource_id);
    for (_, want) in &policies {
        let got = held
            .iter()
            .find(|p| p.policy.name == want.name)
            .unwrap_or_else(|| panic!("{} missing", want.name));
        assert_eq!(&got.policy, want, "policy {}", want.name);
    }
    assert_eq!(
        held.iter()
            .filter(|p| p.policy.name.starts_with(&spec.name))
            .count(),
        policies.len()
    );
    let names: Vec<String> = alarms.iter().map(|(_, a)| a.name.clone()).collect();
    let got = aws::block_on(cloudwatch::find_alarms_by_names(
        &aws::clients().cloudwatch,
        &names,
    ))
    .expect("alarms");
    for (_, want) in &alarms {
        let a = got
            .iter()
            .find(|a| a.alarm.name == want.name)
            .unwrap_or_else(|| panic!("{} missing", want.name));
        let policy = held
            .iter()
            .find(|p| p.policy.name == want.name)
            .expect("its policy");
        let mut want = want.clone();
        want.actions = vec![policy.arn.clone()];
        assert_eq!(a.alarm, want, "alarm {}", want.name);
    }
    assert_eq!(
        aws::alarms_with_prefix(&spec.name).len(),
        alarms.len(),
        "no extra alarms"
    );
}

fn assert_nothing_left(f: &ServiceFixture, name: &str) {
    assert!(
        aws::policies(&f.resource_id())
            .iter()
            .all(|p| !p.policy.name.starts_with(name)),
        "policies left"
    );
    assert!(aws::alarms_with_prefix(name).is_empty(), "alarms left");
}

fn setup(tf: &TerraformBin, label: &str) -> (ServiceFixture, String, Workspace) {
    let f = ServiceFixture::create(&unique_prefix(label), false);
    let name = format!("{}-steps", f.cluster);
    let ws = aws_workspace(tf, label);
    (f, name, ws)
}

fn basic(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-basic");
    let body = format!(
        "{}  adjustment_type = \"ChangeInCapacity\"\n  cooldown_seconds = 60\n{}",
        queue_metric(&f),
        steps_hcl(&INITIAL)
    );
    let hcl = format!("{}{}", target(&f), policy("p", &name, &body));
    ws.write_config(&hcl);
    ws.init();
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    for shown in [
        "lower_threshold",
        "upper_threshold",
        "metric <= 0 for 1 of 1 periods of 300 s; missing data: missing",
        "metric >= 1 for 1 of 1 periods of 300 s; missing data: missing",
        "ChangeInCapacity by breach: [0, 4] → 1, [4, 9] → 3, [9, +inf] → 5; cooldown 60 s",
    ] {
        assert!(
            plan.stdout.contains(shown),
            "the plan shows {shown}:\n{}",
            plan.stdout
        );
    }
    ws.apply();
    let s = spec(
        &f,
        &name,
        &INITIAL,
        AdjustmentType::ChangeInCapacity,
        sqs_metric(&f),
        Some(AggregationType::Maximum),
    );
    assert_aws_matches(&s);
    let v = ws.resource_values(ADDR);
    assert_eq!(
        (v["lower_threshold"].clone(), v["upper_threshold"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(v["step"][0]["lower"], 0, "normalised bounds are shown: {v}");
    ws.assert_plan_empty();
    assert_import_matches(
        &ws,
        tf,
        &hcl,
        &[
            (
                "queuescale_scalable_target.svc",
                format!("{}/{}", f.cluster, f.service),
            ),
            (ADDR, format!("{}/{}/{name}", f.cluster, f.service)),
        ],
    );
    ws.destroy();
    assert_nothing_left(&f, &name);
}

fn percent(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-percent");
    let body = format!(
        "{}  adjustment_type = \"PercentChangeInCapacity\"\n  cooldown_seconds = 60\n  min_adjustment_magnitude = 2\n{}",
        queue_metric(&f),
        steps_hcl(&PERCENT)
    );
    ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &body)));
    ws.init();
    ws.apply();
    let mut s = spec(
        &f,
        &name,
        &PERCENT,
        AdjustmentType::PercentChangeInCapacity,
        sqs_metric(&f),
        Some(AggregationType::Maximum),
    );
    s.min_adjustment_magnitude = Some(2);
    assert_aws_matches(&s);
    let (_, alarms) = objects(&s);
    assert_eq!(
        (alarms[0].1.threshold, alarms[1].1.threshold),
        (10.0, 15.0),
        "alarms at <= 10 and >= 15"
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name);
}

/// CDK's full test schedule (aws-autoscaling-common test-utils.ts): two steps of 0 next to
/// each other, which CDK merges into the no-action range [20, 80].
const CDK_ZERO_STEPS: [(Option<f64>, Option<f64>, f64); 6] = [
    (Some(0.0), Some(10.0), -2.0),
    (Some(10.0), Some(20.0), -1.0),
    (Some(20.0), Some(60.0), 0.0),
    (Some(60.0), Some(80.0), 0.0),
    (Some(80.0), Some(90.0), 1.0),
    (Some(90.0), None, 2.0),
];

fn zero_change_steps(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-zero");
    // The same schedule with the zero steps' outer bounds left to their neighbours.
    let mut stripped = CDK_ZERO_STEPS;
    stripped[2].0 = None;
    stripped[3].1 = None;
    for steps in [CDK_ZERO_STEPS, stripped] {
        let body = format!(
            "{}  cooldown_seconds = 60\n{}",
            queue_metric(&f),
            steps_hcl(&steps)
        );
        ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &body)));
        ws.init();
        // Terraform itself checks that configured bounds are planned as configured
        // ("Provider produced invalid plan" otherwise).
        ws.apply();
        assert_aws_matches(&spec(
            &f,
            &name,
            &CDK_ZERO_STEPS,
            AdjustmentType::ChangeInCapacity,
            sqs_metric(&f),
            Some(AggregationType::Maximum),
        ));
        let v = ws.resource_values(ADDR);
        let bounds: Vec<(Json, Json)> = v["step"]
            .as_array()
            .expect("steps")
            .iter()
            .map(|s| (s["lower"].clone(), s["upper"].clone()))
            .collect();
        assert_eq!(
            bounds[2..4],
            [(json!(20), json!(60)), (json!(60), json!(80))],
            "each zero step keeps its own range: {v}"
        );
        assert_eq!(
            v["intervals"][2],
            json!({"lower": 20, "upper": 80, "change": null}),
            "the merged no-action range is shown in intervals: {v}"
        );
        assert_eq!(
            (v["lower_threshold"].clone(), v["upper_threshold"].clone()),
            (json!(20), json!(80))
        );
        ws.assert_plan_empty();
    }
    ws.destroy();
    assert_nothing_left(&f, &name);
}

/// An extended statistic other than a percentile (AWS accepts trimmed means) goes to AWS
/// as `ExtendedStatistic` and reads back unchanged.
fn trimmed_mean(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-tm");
    let body = format!(
        "{}  cooldown_seconds = 60\n{}",
        queue_metric(&f).replace("\"Maximum\"", "\"tm90\""),
        steps_hcl(&INITIAL)
    );
    ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &body)));
    ws.init();
    ws.apply();
    let AlarmMetric::Single(mut stat) = sqs_metric(&f) else {
        unreachable!("a single metric")
    };
    stat.stat = "tm90".into();
    assert_aws_matches(&spec(
        &f,
        &name,
        &INITIAL,
        AdjustmentType::ChangeInCapacity,
        AlarmMetric::Single(stat),
        Some(AggregationType::Average),
    ));
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name);
}

fn metric_math(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-math");
    let body = format!(
        "  metric_query {{\n    id = \"visible\"\n    return_data = false\n    metric {{\n      namespace = \"AWS/SQS\"\n      \
         metric_name = \"ApproximateNumberOfMessagesVisible\"\n      dimensions = {{ QueueName = \"{q}\" }}\n      stat = \"Sum\"\n      \
         period_seconds = 60\n    }}\n  }}\n  metric_query {{\n    id = \"in_flight\"\n    return_data = false\n    metric {{\n      \
         namespace = \"AWS/SQS\"\n      metric_name = \"ApproximateNumberOfMessagesNotVisible\"\n      dimensions = {{ QueueName = \"{q}\" }}\n      \
         stat = \"Sum\"\n      period_seconds = 60\n    }}\n  }}\n  metric_query {{\n    id = \"backlog\"\n    expression = \"visible + in_flight\"\n    \
         label = \"Backlog\"\n    return_data = true\n  }}\n  evaluation_periods = 3\n  datapoints_to_alarm = 2\n  cooldown_seconds = 60\n{}",
        steps_hcl(&INITIAL),
        q = f.queue
    );
    ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &body)));
    ws.init();
    ws.apply();
    let stat = |metric: &str| MetricStat {
        metric: Metric {
            namespace: "AWS/SQS".into(),
            name: metric.into(),
            dimensions: BTreeMap::from([("QueueName".to_owned(), f.queue.clone())]),
        },
        stat: "Sum".into(),
        period: Some(60),
        unit: None,
    };
    let metric = AlarmMetric::Math(vec![
        MetricQuery {
            id: "visible".into(),
            label: None,
            return_data: false,
            source: QuerySource::Metric(stat("ApproximateNumberOfMessagesVisible")),
        },
        MetricQuery {
            id: "in_flight".into(),
            label: None,
            return_data: false,
            source: QuerySource::Metric(stat("ApproximateNumberOfMessagesNotVisible")),
        },
        MetricQuery {
            id: "backlog".into(),
            label: Some("Backlog".into()),
            return_data: true,
            source: QuerySource::Expression("visible + in_flight".into()),
        },
    ]);
    let mut s = spec(
        &f,
        &name,
        &INITIAL,
        AdjustmentType::ChangeInCapacity,
        metric,
        None,
    );
    s.periods = AlarmPeriods {
        evaluation_periods: 3,
        datapoints_to_alarm: Some(2),
    };
    assert_aws_matches(&s);
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name);
}

fn update(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-update");
    let first = format!(
        "{}  cooldown_seconds = 60\n{}",
        queue_metric(&f),
        steps_hcl(&INITIAL)
    );
    ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &first)));
    ws.init();
    ws.apply();
    // New steps (only an upper side remains: the lower alarm and policy must go), cooldown,
    // evaluation settings, aggregation, tags.
    let steps = [(Some(2.0), Some(6.0), 1.0), (Some(6.0), None, 4.0)];
    let second = format!(
        "{}  cooldown_seconds = 120\n  evaluation_periods = 2\n  datapoints_to_alarm = 2\n  \
         metric_aggregation_type = \"Average\"\n  tags = {{ team = \"jobs\" }}\n{}",
        queue_metric(&f),
        steps_hcl(&steps)
    );
    ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &second)));
    let plan = ws.plan();
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "in place:\n{}",
        plan.stdout
    );
    ws.apply();
    let mut s = spec(
        &f,
        &name,
        &steps,
        AdjustmentType::ChangeInCapacity,
        sqs_metric(&f),
        Some(AggregationType::Average),
    );
    s.cooldown = Some(120);
    s.periods = AlarmPeriods {
        evaluation_periods: 2,
        datapoints_to_alarm: Some(2),
    };
    assert!(s.steps.lower.is_none());
    assert_aws_matches(&s);
    ws.assert_plan_empty();
    // Renaming is an update: new objects, then the old ones deleted.
    let renamed = format!("{name}-v2");
    ws.write_config(&format!("{}{}", target(&f), policy("p", &renamed, &second)));
    let plan = ws.plan();
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "in place:\n{}",
        plan.stdout
    );
    ws.apply();
    s.name = renamed.clone();
    assert_aws_matches(&s);
    assert_eq!(
        aws::alarms_with_prefix(&name),
        aws::alarms_with_prefix(&renamed),
        "only the new alarms are left"
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name);
}

fn disappears(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-gone");
    let body = format!(
        "{}  cooldown_seconds = 60\n{}",
        queue_metric(&f),
        steps_hcl(&INITIAL)
    );
    ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &body)));
    ws.init();
    ws.apply();
    let s = spec(
        &f,
        &name,
        &INITIAL,
        AdjustmentType::ChangeInCapacity,
        sqs_metric(&f),
        Some(AggregationType::Maximum),
    );
    let cw = &aws::clients().cloudwatch;
    aws::block_on(
        cw.delete_alarms()
            .alarm_names(format!("{name}-upper"))
            .send(),
    )
    .expect("delete alarm");
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    ws.apply();
    assert_aws_matches(&s);
    aws::block_on(
        terraform_provider_queuescale::aws::app_autoscaling::delete_scaling_policy(
            &aws::clients().aas,
            &f.resource_id(),
            &format!("{name}-lower"),
        ),
    )
    .expect("delete policy");
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    ws.apply();
    assert_aws_matches(&s);
    ws.assert_plan_empty();
    // Everything gone behind Terraform's back: the next plan creates it again.
    let (policies, alarms) = objects(&s);
    let names: Vec<String> = alarms.iter().map(|(_, a)| a.name.clone()).collect();
    aws::block_on(cloudwatch::delete_alarms(cw, &names)).expect("delete alarms");
    for (_, p) in &policies {
        aws::block_on(
            terraform_provider_queuescale::aws::app_autoscaling::delete_scaling_policy(
                &aws::clients().aas,
                &f.resource_id(),
                &p.name,
            ),
        )
        .expect("delete policy");
    }
    let plan = ws.plan();
    assert!(plan.stdout.contains("will be created"), "{}", plan.text());
    ws.apply();
    assert_aws_matches(&s);
    ws.destroy();
    assert_nothing_left(&f, &name);
}

fn import(tf: &TerraformBin) {
    let (f, name, made) = setup(tf, "sp-import");
    let body = format!(
        "{}  adjustment_type = \"ChangeInCapacity\"\n  cooldown_seconds = 60\n  evaluation_periods = 2\n  tags = {{ team = \"jobs\" }}\n{}",
        queue_metric(&f),
        steps_hcl(&INITIAL)
    );
    let hcl = format!("{}{}", target(&f), policy("p", &name, &body));
    made.write_config(&hcl);
    made.init();
    made.apply();
    let fresh = aws_workspace(tf, "sp-import-fresh");
    fresh.write_config(&hcl);
    fresh.init();
    let bad = fresh.run(&["import", "-input=false", "-no-color", ADDR, "two/parts"]);
    assert!(bad.stderr.contains("Invalid import id"), "{}", bad.text());
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "queuescale_scalable_target.svc",
        &format!("{}/{}", f.cluster, f.service),
    ]);
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
    assert_nothing_left(&f, &name);
}

/// Step adjustments written in another order (by hand in the console, by another tool)
/// mean the same policy: neither a refresh nor an import may plan a rewrite.
fn import_unordered(tf: &TerraformBin) {
    let (f, name, made) = setup(tf, "sp-unordered");
    let body = format!(
        "{}  cooldown_seconds = 60\n{}",
        queue_metric(&f),
        steps_hcl(&INITIAL)
    );
    let hcl = format!("{}{}", target(&f), policy("p", &name, &body));
    made.write_config(&hcl);
    made.init();
    made.apply();
    // The upper policy has three steps (the lower one has one): write them high to low.
    let policy_name = format!("{name}-upper");
    let mut held = aws::policies(&f.resource_id())
        .into_iter()
        .find(|p| p.policy.name == policy_name)
        .unwrap_or_else(|| panic!("{policy_name} exists"))
        .policy;
    {
        let PolicyKind::Step(step) = &mut held.kind else {
            panic!("{policy_name} is a step policy")
        };
        assert_eq!(step.steps.len(), 3, "{policy_name}");
        step.steps.reverse();
    }
    aws::block_on(app_autoscaling::put_scaling_policy(
        &aws::clients().aas,
        &CancellationToken::new(),
        &held,
    ))
    .expect("rewrite the policy");
    let reordered = aws::policies(&f.resource_id());
    assert!(
        reordered.iter().any(|p| match &p.policy.kind {
            PolicyKind::Step(s) => s.steps.first().is_some_and(|a| a.upper_bound.is_none()),
            PolicyKind::TargetTracking(_) => false,
        }),
        "AWS now holds the upper policy's open-ended step first"
    );
    made.assert_plan_empty();
    let fresh = aws_workspace(tf, "sp-unordered-fresh");
    fresh.write_config(&hcl);
    fresh.init();
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "queuescale_scalable_target.svc",
        &format!("{}/{}", f.cluster, f.service),
    ]);
    fresh.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &format!("{}/{}/{name}", f.cluster, f.service),
    ]);
    fresh.assert_plan_empty();
    made.destroy();
    assert_nothing_left(&f, &name);
}

fn partial_failure(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-partial");
    let body = format!(
        "{}  cooldown_seconds = 60\n{}",
        queue_metric(&f),
        steps_hcl(&INITIAL)
    );
    ws.write_config(&format!("{}{}", target(&f), policy("p", &name, &body)));
    ws.init();
    {
        let fault = Fault::inject(json!({
            "operation": "PutMetricAlarm",
            "error": "LimitExceeded",
            "status": 400,
            "match": format!("{name}-upper"),
        }));
        let r = ws.apply_fails();
        assert!(r.stderr.contains("Putting alarm failed"), "{}", r.text());
        assert!(fault.fired() >= 1);
        let v = ws.resource_values(ADDR);
        assert_eq!(
            existing_alarms(&v),
            [format!("{name}-lower")],
            "state lists what exists: {v}"
        );
        assert_eq!(existing_policies(&v).len(), 2, "{v}");
    }
    ws.apply();
    assert_aws_matches(&spec(
        &f,
        &name,
        &INITIAL,
        AdjustmentType::ChangeInCapacity,
        sqs_metric(&f),
        Some(AggregationType::Maximum),
    ));
    ws.assert_plan_empty();
    ws.destroy();
    assert_nothing_left(&f, &name);
}

fn bad_steps(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-bad");
    ws.write_config(&target(&f));
    ws.init();
    // (steps, the error's summary, the source line Terraform must show the error at, and
    // for errors about steps the step our message names).
    let cases: [(String, &str, &str, &str); 6] = [
        (
            steps_hcl(&[(Some(1.0), None, 1.0)]),
            "step",
            "resource \"queuescale_step_scaling_policy\" \"p\" {",
            "At least 2",
        ),
        (
            steps_hcl(&[(Some(0.0), Some(10.0), 1.0), (Some(5.0), None, 2.0)]),
            "Invalid scaling steps",
            "    lower = 5",
            "step[1]",
        ),
        (
            steps_hcl(&[(None, None, 1.0), (Some(5.0), None, 2.0)]),
            "Invalid scaling steps",
            "  step {",
            "step[0]",
        ),
        (
            steps_hcl(&[
                (None, Some(1.0), -1.0),
                (Some(2.0), Some(3.0), 1.0),
                (Some(4.0), None, 2.0),
            ]),
            "Invalid scaling steps",
            "    lower = 4",
            "no action",
        ),
        (
            format!(
                "  evaluation_periods = 1\n  datapoints_to_alarm = 3\n{}",
                steps_hcl(&INITIAL)
            ),
            "Invalid scaling steps",
            "  datapoints_to_alarm = 3",
            "evaluation_periods",
        ),
        (
            format!(
                "  adjustment_type = \"ExactCapacity\"\n{}",
                steps_hcl(&INITIAL)
            ),
            "Invalid scaling steps",
            "    change = -1",
            "step[0]",
        ),
    ];
    for (steps, summary, line, named) in cases {
        ws.write_config(&format!(
            "{}{}",
            target(&f),
            policy("p", &name, &format!("{}{steps}", queue_metric(&f)))
        ));
        let r = ws.run(&["plan", "-input=false", "-no-color"]);
        assert_ne!(r.code, 0, "{}", r.text());
        assert!(r.stderr.contains(summary), "{summary}:\n{}", r.text());
        assert!(
            shown_at(&r.stderr, line),
            "the error is shown at {line:?}:\n{}",
            r.text()
        );
        assert!(r.stderr.contains(named), "names {named}:\n{}", r.text());
    }
    assert_nothing_left(&f, &name);
}

/// Metric settings CloudWatch would refuse only at apply, after the first policy was
/// written: each must fail the plan at its own line, with nothing created.
fn bad_metrics(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-badmetric");
    ws.write_config(&target(&f));
    ws.init();
    let metric = |stat: &str| {
        format!(
            "  metric {{\n    namespace      = \"AWS/SQS\"\n    metric_name    = \"ApproximateNumberOfMessagesVisible\"\n    \
             dimensions     = {{ QueueName = \"{}\" }}\n    statistic      = \"{stat}\"\n    period_seconds = 300\n  }}\n",
            f.queue
        )
    };
    let math = |expression: &str| {
        format!(
            "  metric_query {{\n    id = \"visible\"\n    metric {{\n      namespace = \"AWS/SQS\"\n      \
             metric_name = \"ApproximateNumberOfMessagesVisible\"\n      stat = \"Sum\"\n      period_seconds = 60\n    }}\n  }}\n  \
             metric_query {{\n    id = \"backlog\"\n    expression = \"{expression}\"\n    return_data = true\n  }}\n"
        )
    };
    // (metric and settings, the error's summary, the line it is shown at, a word it names).
    let cases: [(String, &str, &str, &str); 4] = [
        (
            metric("Median"),
            "Invalid statistic",
            "    statistic      = \"Median\"",
            "p50",
        ),
        (
            format!("{}  evaluation_periods = 289\n", metric("Maximum")),
            "Alarm evaluation window too long",
            "  evaluation_periods = 289",
            "288",
        ),
        (
            math("visible + in_flight"),
            "Expression refers to unknown ids",
            "    expression = \"visible + in_flight\"",
            "in_flight",
        ),
        (
            format!("{}  evaluation_periods = 1441\n", math("visible * 2")),
            "Alarm evaluation window too long",
            "  evaluation_periods = 1441",
            "1440",
        ),
    ];
    for (body, summary, line, named) in cases {
        ws.write_config(&format!(
            "{}{}",
            target(&f),
            policy("p", &name, &format!("{body}{}", steps_hcl(&INITIAL)))
        ));
        let r = ws.run(&["plan", "-input=false", "-no-color"]);
        assert_ne!(r.code, 0, "{}", r.text());
        assert!(r.stderr.contains(summary), "{summary}:\n{}", r.text());
        assert!(
            shown_at(&r.stderr, line),
            "the error is shown at {line:?}:\n{}",
            r.text()
        );
        assert!(r.stderr.contains(named), "names {named}:\n{}", r.text());
    }
    assert_nothing_left(&f, &name);
}

/// Metric math that cannot work: `validate` and `plan` refuse it at the `expression` of
/// the query at fault, with the column and what was expected, and nothing is created.
fn bad_expression(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-badexpr");
    ws.write_config(&target(&f));
    ws.init();
    let queries = |e1: &str, e2: &str| {
        format!(
            "  metric_query {{\n    id = \"visible\"\n    metric {{\n      namespace = \"AWS/SQS\"\n      \
             metric_name = \"ApproximateNumberOfMessagesVisible\"\n      stat = \"Sum\"\n      period_seconds = 60\n    }}\n  }}\n  \
             metric_query {{\n    id = \"e1\"\n    expression = \"{e1}\"\n  }}\n  \
             metric_query {{\n    id = \"e2\"\n    expression = \"{e2}\"\n    return_data = true\n  }}\n"
        )
    };
    // (e1, e2, the error's summary, the lines it is shown at, what it says).
    let cases: [(&str, &str, &str, Vec<&str>, &str); 2] = [
        (
            "visible * 2",
            "IF(e1 > 0, e1, 0))",
            "Invalid metric math expression",
            vec!["    expression = \"IF(e1 > 0, e1, 0))\""],
            "unexpected \")\" at column 18; expected an operator or the end of the expression",
        ),
        (
            "e2 + visible",
            "e1 * 2",
            "Expressions refer to each other in a cycle",
            vec![
                "    expression = \"e2 + visible\"",
                "    expression = \"e1 * 2\"",
            ],
            "e1 -> e2 -> e1",
        ),
    ];
    for (e1, e2, summary, lines, says) in cases {
        ws.write_config(&format!(
            "{}{}",
            target(&f),
            policy(
                "p",
                &name,
                &format!("{}{}", queries(e1, e2), steps_hcl(&INITIAL))
            )
        ));
        for args in [
            &["validate", "-no-color"][..],
            &["plan", "-input=false", "-no-color"],
        ] {
            let command = args[0];
            let r = ws.run(args);
            assert_ne!(r.code, 0, "{command}: {}", r.text());
            let errors = r.stderr.matches("Error: ").count();
            assert_eq!(
                errors,
                lines.len(),
                "{command}: one error per line:\n{}",
                r.text()
            );
            assert!(
                r.stderr.contains(summary),
                "{command}: {summary}:\n{}",
                r.text()
            );
            for line in &lines {
                assert!(
                    shown_at(&r.stderr, line),
                    "{command}: the error is shown at {line:?}:\n{}",
                    r.text()
                );
            }
            assert!(
                one_line(&r.stderr).contains(says),
                "{command}: says {says:?}:\n{}",
                r.text()
            );
        }
    }
    assert_nothing_left(&f, &name);
}

/// `text` with every run of whitespace made one space: Terraform wraps diagnostics.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether Terraform's error output quotes `line` as the source line of a diagnostic
/// (`  NN: <line>`).
fn shown_at(stderr: &str, line: &str) -> bool {
    stderr.lines().any(|l| {
        l.trim_start()
            .split_once(": ")
            .is_some_and(|(n, rest)| n.parse::<u32>().is_ok() && rest == line)
    })
}

fn conflict_warning(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-conflict");
    let initial = policy(
        "p",
        &name,
        &format!(
            "{}  cooldown_seconds = 60\n{}",
            queue_metric(&f),
            steps_hcl(&INITIAL)
        ),
    );
    ws.write_config(&format!("{}{initial}", target(&f)));
    ws.init();
    ws.apply();
    let percent_name = format!("{}-percent", f.cluster);
    let percent = policy(
        "q",
        &percent_name,
        &format!(
            "{}  adjustment_type = \"PercentChangeInCapacity\"\n  cooldown_seconds = 60\n{}",
            queue_metric(&f),
            steps_hcl(&PERCENT)
        ),
    );
    ws.write_config(&format!("{}{initial}{percent}", target(&f)));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(
        plan.code,
        0,
        "a warning does not fail the plan:\n{}",
        plan.text()
    );
    let all = format!("{}{}", plan.stdout, plan.stderr);
    assert!(
        all.contains("conflict"),
        "the plan warns of a conflict:\n{all}"
    );
    assert!(
        all.contains("[1, 10]"),
        "and names the range where the policies fight:\n{all}"
    );
    ws.apply();
    // Now both exist: planning either shows the fight.
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(
        format!("{}{}", plan.stdout, plan.stderr).contains("conflict"),
        "{}",
        plan.text()
    );
    ws.destroy();
    assert_nothing_left(&f, &name);
    assert_nothing_left(&f, &percent_name);
}

/// Both alarms notify after invoking their own policy; the notifications import back.
fn notifications(tf: &TerraformBin) {
    let (f, name, ws) = setup(tf, "sp-notify");
    let ops = format!("arn:aws:sns:us-east-1:123456789012:{}-ops", f.cluster);
    let body = format!(
        "{}  adjustment_type = \"ChangeInCapacity\"\n  alarm_actions = [\"{ops}\"]\n  \
         ok_actions = [\"{ops}\"]\n{}",
        queue_metric(&f),
        steps_hcl(&INITIAL)
    );
    let hcl = format!("{}{}", target(&f), policy("p", &name, &body));
    ws.write_config(&hcl);
    ws.init();
    ws.apply();
    let values = ws.resource_values(ADDR);
    for side in ["lower", "upper"] {
        let entry = &values["policies"][side];
        let policy_arn = entry["arn"].as_str().expect("policy arn").to_owned();
        assert_eq!(
            alarm_actions_in_aws(&format!("{name}-{side}")),
            (vec![policy_arn, ops.clone()], vec![ops.clone()]),
            "{side}"
        );
        assert!(
            entry["alarm"].as_str().is_some_and(
                |a| a.ends_with(&format!("; notifies {ops} in ALARM; notifies {ops} on OK"))
            ),
            "{entry}"
        );
    }
    ws.assert_plan_empty();
    assert_import_matches(
        &ws,
        tf,
        &hcl,
        &[
            (
                "queuescale_scalable_target.svc",
                format!("{}/{}", f.cluster, f.service),
            ),
            (ADDR, format!("{}/{}/{name}", f.cluster, f.service)),
        ],
    );
    ws.destroy();
}
