//! What CloudWatch itself holds after an apply, read with plain SDK calls (DescribeAlarms,
//! ListTagsForResource) rather than the provider's own finders, against golden values
//! written out here by hand from the design (docs/guides/how-it-scales.md) and CDK's
//! `scaleOnMetric`: each alarm's comparison, threshold, periods, missing-data treatment and
//! every metric query; its actions are the policy ARN state records, its tags the state's
//! `tags_all` plus the owner tag; the state's one-line text reads as written here; and
//! none is left after destroy. Runs against every backend; in the LocalStack lane
//! (`make test-localstack`) the reads go to LocalStack's CloudWatch.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::MetricAlarm;
use serde_json::Value as Json;

use crate::support::aws::{self, ServiceFixture, unique_prefix};
use crate::support::terraform::{TerraformBin, required_providers};
use crate::support::{Case, aws_workspace, state_entry};

pub fn cases() -> Vec<Case> {
    vec![Case::new(
        "alarms_in_cloudwatch_match_the_state",
        alarms_match_state,
    )]
}

const BACKLOG: &str = "queuescale_sqs_backlog_scaling_policy.worker";
const STEPS: &str = "queuescale_step_scaling_policy.depth";

/// A backlog policy on one service and a metric-math step policy on another, with
/// resource tags and provider default tags.
fn config(backlog: &ServiceFixture, stepped: &ServiceFixture, team: &str, wake: u32) -> String {
    format!(
        "{providers}provider \"queuescale\" {{
  default_tags {{
    tags = {{ suite = \"qsacc\" }}
  }}
}}

resource \"queuescale_sqs_backlog_scaling_policy\" \"worker\" {{
  name                       = \"{bc}-scale\"
  queue_name                 = \"{bq}\"
  cluster_name               = \"{bc}\"
  service_name               = \"{bs}\"
  min_capacity               = 0
  max_capacity               = 10
  target_backlog_per_task    = 50
  wake_threshold             = {wake}
  tags                       = {{ team = \"{team}\" }}
}}

resource \"queuescale_scalable_target\" \"svc\" {{
  cluster_name = \"{sc}\"
  service_name = \"{ss}\"
  min_capacity = 0
  max_capacity = 20
}}

resource \"queuescale_step_scaling_policy\" \"depth\" {{
  name               = \"{sc}-depth\"
  scalable_target_id = queuescale_scalable_target.svc.id
  adjustment_type    = \"ChangeInCapacity\"
  evaluation_periods = 2
  tags               = {{ team = \"{team}\" }}
  metric_query {{
    id          = \"visible\"
    return_data = false
    metric {{
      namespace      = \"AWS/SQS\"
      metric_name    = \"ApproximateNumberOfMessagesVisible\"
      dimensions     = {{ QueueName = \"{sq}\" }}
      stat           = \"Sum\"
      period_seconds = 60
    }}
  }}
  metric_query {{
    id          = \"in_flight\"
    return_data = false
    metric {{
      namespace      = \"AWS/SQS\"
      metric_name    = \"ApproximateNumberOfMessagesNotVisible\"
      dimensions     = {{ QueueName = \"{sq}\" }}
      stat           = \"Sum\"
      period_seconds = 60
    }}
  }}
  metric_query {{
    id          = \"backlog\"
    expression  = \"visible + in_flight\"
    label       = \"Backlog\"
    return_data = true
  }}
  step {{
    upper  = 0
    change = -1
  }}
  step {{
    lower  = {wake}
    change = 2
  }}
}}
",
        providers = required_providers(),
        bc = backlog.cluster,
        bs = backlog.service,
        bq = backlog.queue,
        sc = stepped.cluster,
        ss = stepped.service,
        sq = stepped.queue,
    )
}

fn alarms_match_state(tf: &TerraformBin) {
    let backlog = ServiceFixture::create(&unique_prefix("cw-backlog"), false);
    let stepped = ServiceFixture::create(&unique_prefix("cw-steps"), false);
    let ws = aws_workspace(tf, "cw-raw");
    ws.write_config(&config(&backlog, &stepped, "a", 1));
    ws.init();
    ws.apply();
    for (address, golden) in golden(&backlog, &stepped, 1) {
        assert_cloudwatch_holds(&ws.resource_values(address), &golden);
    }
    ws.assert_plan_empty();

    ws.write_config(&config(&backlog, &stepped, "b", 3));
    ws.apply();
    for (address, golden) in golden(&backlog, &stepped, 3) {
        let values = ws.resource_values(address);
        assert_eq!(values["tags_all"]["team"], "b", "{address} was updated");
        assert_cloudwatch_holds(&values, &golden);
    }
    ws.assert_plan_empty();

    ws.destroy();
    for prefix in [&backlog.cluster, &stepped.cluster] {
        let left = alarm_names_with_prefix(prefix);
        assert!(left.is_empty(), "alarms left after destroy: {left:?}");
    }
}

/// The alarms CloudWatch holds whose names start with `prefix`.
fn alarm_names_with_prefix(prefix: &str) -> Vec<String> {
    let out = aws::block_on(
        aws::clients()
            .cloudwatch
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .send(),
    )
    .expect("DescribeAlarms");
    out.metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_owned))
        .collect()
}

/// One metric query as it must be in CloudWatch: an expression, or a metric
/// (namespace, name, dimensions, statistic; every period is 60 s).
enum Query {
    Expr(&'static str, &'static str, bool),
    Metric(
        &'static str,
        &'static str,
        &'static str,
        Vec<(&'static str, String)>,
        &'static str,
    ),
}

/// One alarm as it must be: its purpose in state, comparison, threshold, evaluation
/// periods, datapoints to alarm, missing data, queries, and the state's text.
struct Golden {
    purpose: &'static str,
    comparison: &'static str,
    threshold: f64,
    periods: i32,
    datapoints: Option<i32>,
    missing: &'static str,
    queries: Vec<Query>,
    text: String,
    /// The `queuescale:inputs` tag (backlog policies: how the target was given).
    inputs: Option<&'static str>,
}

fn sqs(id: &'static str, metric: &'static str, stat: &'static str, queue: &str) -> Query {
    Query::Metric(
        id,
        "AWS/SQS",
        metric,
        vec![("QueueName", queue.to_owned())],
        stat,
    )
}

/// What the two resources of [`config`] must have put in CloudWatch.
fn golden(
    backlog: &ServiceFixture,
    stepped: &ServiceFixture,
    wake: u32,
) -> Vec<(&'static str, Vec<Golden>)> {
    let q = backlog.queue.as_str();
    let tasks = Query::Metric(
        "tasks",
        "AWS/ECS",
        "CPUUtilization",
        vec![
            ("ClusterName", backlog.cluster.clone()),
            ("ServiceName", backlog.service.clone()),
        ],
        "SampleCount",
    );
    let backlog_alarms = vec![
        Golden {
            purpose: "wake-from-zero",
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: f64::from(wake),
            periods: 1,
            datapoints: Some(1),
            missing: "notBreaching",
            queries: vec![
                sqs(
                    "visible",
                    "ApproximateNumberOfMessagesVisible",
                    "Maximum",
                    q,
                ),
                Query::Expr("waiting", "visible", false),
                sqs(
                    "in_flight",
                    "ApproximateNumberOfMessagesNotVisible",
                    "Maximum",
                    q,
                ),
                sqs("received", "NumberOfMessagesReceived", "Sum", q),
                sqs("empty_receives", "NumberOfEmptyReceives", "Sum", q),
                Query::Expr("consumers", "in_flight + received + empty_receives", false),
                tasks,
                Query::Expr(
                    "waiting_at_zero_tasks",
                    "IF(FILL(tasks, 0) == 0 AND consumers == 0, waiting, 0)",
                    true,
                ),
            ],
            text: format!(
                "IF(FILL(tasks, 0) == 0 AND in_flight + received + empty_receives == 0, visible, 0) \
                 >= {wake} for 1 of 1 periods of 60 s; missing data: notBreaching"
            ),
            inputs: Some("per_task=50"),
        },
        Golden {
            purpose: "drain-to-zero",
            comparison: "LessThanOrEqualToThreshold",
            threshold: 0.0,
            periods: 15,
            datapoints: Some(15),
            missing: "notBreaching",
            queries: vec![
                sqs(
                    "visible",
                    "ApproximateNumberOfMessagesVisible",
                    "Maximum",
                    q,
                ),
                sqs(
                    "in_flight",
                    "ApproximateNumberOfMessagesNotVisible",
                    "Maximum",
                    q,
                ),
                sqs(
                    "delayed",
                    "ApproximateNumberOfMessagesDelayed",
                    "Maximum",
                    q,
                ),
                sqs("received", "NumberOfMessagesReceived", "Sum", q),
                Query::Expr("messages", "visible + in_flight + delayed + received", true),
            ],
            text: "visible + in_flight + delayed + received <= 0 for 15 of 15 periods of 60 s; \
                   missing data: notBreaching"
                .to_owned(),
            inputs: Some("per_task=50"),
        },
    ];
    let sq = stepped.queue.as_str();
    let step_queries = || {
        vec![
            sqs("visible", "ApproximateNumberOfMessagesVisible", "Sum", sq),
            sqs(
                "in_flight",
                "ApproximateNumberOfMessagesNotVisible",
                "Sum",
                sq,
            ),
            Query::Expr("backlog", "visible + in_flight", true),
        ]
    };
    // CDK's scaleOnMetric: the lower alarm at the top of the lowest steps (<= 0), the upper
    // at the bottom of the highest (>= wake), both over `evaluation_periods`; missing data
    // left to CloudWatch's default.
    let step_alarms = vec![
        Golden {
            purpose: "lower",
            comparison: "LessThanOrEqualToThreshold",
            threshold: 0.0,
            periods: 2,
            datapoints: None,
            missing: "missing",
            queries: step_queries(),
            text: "visible + in_flight <= 0 for 2 of 2 periods of 60 s; missing data: missing"
                .to_owned(),
            inputs: None,
        },
        Golden {
            purpose: "upper",
            comparison: "GreaterThanOrEqualToThreshold",
            threshold: f64::from(wake),
            periods: 2,
            datapoints: None,
            missing: "missing",
            queries: step_queries(),
            text: format!(
                "visible + in_flight >= {wake} for 2 of 2 periods of 60 s; missing data: missing"
            ),
            inputs: None,
        },
    ];
    vec![(BACKLOG, backlog_alarms), (STEPS, step_alarms)]
}

/// Asserts the alarms of one resource are in CloudWatch as `golden` says, invoking the
/// policies state records and carrying exactly the state's `tags_all` plus the owner tag,
/// and that state shows them as `golden`'s texts.
fn assert_cloudwatch_holds(values: &Json, golden: &[Golden]) {
    let cw = &aws::clients().cloudwatch;
    let want_tags: BTreeMap<String, String> =
        serde_json::from_value(values["tags_all"].clone()).expect("tags_all is a map");
    for want in golden {
        let entry = state_entry(values, want.purpose);
        let name = entry["name"].as_str().expect("alarm name");
        assert_eq!(
            entry["alarm"].as_str(),
            Some(want.text.as_str()),
            "{name}: the state's text"
        );
        let out = aws::block_on(cw.describe_alarms().alarm_names(name).send())
            .unwrap_or_else(|e| panic!("DescribeAlarms {name}: {e:?}"));
        let [got] = out.metric_alarms() else {
            panic!(
                "CloudWatch holds {} alarms named {name}",
                out.metric_alarms().len()
            );
        };
        assert_eq!(got.alarm_arn(), entry["alarm_arn"].as_str(), "{name}: arn");
        let policy_arn = entry["arn"].as_str().expect("the policy's arn");
        assert_eq!(
            got.alarm_actions(),
            [policy_arn],
            "{name}: it invokes its policy"
        );
        assert_alarm(got, want);
        let tags = aws::block_on(
            cw.list_tags_for_resource()
                .resource_arn(got.alarm_arn().unwrap_or_default())
                .send(),
        )
        .unwrap_or_else(|e| panic!("ListTagsForResource {name}: {e:?}"));
        let got_tags: BTreeMap<&str, &str> = tags
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
            .collect();
        for (k, v) in &want_tags {
            assert_eq!(
                got_tags.get(k.as_str()),
                Some(&v.as_str()),
                "alarm {name} has tag {k} = {v:?}: {got_tags:?}"
            );
        }
        // Beyond tags_all, only the owner tag, naming this resource's name, and the inputs tag.
        let owner = got_tags
            .get("queuescale:owner")
            .copied()
            .unwrap_or_default();
        let resource_name = values["name"].as_str().unwrap_or_default();
        assert!(
            owner.ends_with(&format!(" name={resource_name}")),
            "alarm {name} carries its owner: {got_tags:?}"
        );
        assert_eq!(
            got_tags.get("queuescale:inputs").copied(),
            want.inputs,
            "alarm {name}: how the target was given"
        );
        let reserved = 1 + usize::from(want.inputs.is_some());
        assert_eq!(got_tags.len(), want_tags.len() + reserved, "{got_tags:?}");
    }
}

/// Asserts one alarm as CloudWatch returns it equals its golden values.
fn assert_alarm(got: &MetricAlarm, want: &Golden) {
    let name = got.alarm_name().unwrap_or_default();
    assert_eq!(
        got.comparison_operator().map(|c| c.as_str()),
        Some(want.comparison),
        "{name}: comparison operator"
    );
    assert_eq!(got.threshold(), Some(want.threshold), "{name}: threshold");
    assert_eq!(
        got.evaluation_periods(),
        Some(want.periods),
        "{name}: evaluation periods"
    );
    assert_eq!(
        got.datapoints_to_alarm(),
        want.datapoints,
        "{name}: datapoints to alarm"
    );
    assert_eq!(
        got.treat_missing_data().unwrap_or("missing"),
        want.missing,
        "{name}: missing data"
    );
    let ids: Vec<&str> = got.metrics().iter().filter_map(|m| m.id()).collect();
    let want_ids: Vec<&str> = want
        .queries
        .iter()
        .map(|q| match q {
            Query::Expr(id, ..) | Query::Metric(id, ..) => *id,
        })
        .collect();
    assert_eq!(ids, want_ids, "{name}: the metric queries, in order");
    for (m, q) in got.metrics().iter().zip(&want.queries) {
        let id = m.id().unwrap_or_default();
        match q {
            Query::Expr(_, expression, returns) => {
                assert_eq!(m.expression(), Some(*expression), "{name}/{id}: expression");
                assert_eq!(
                    m.return_data().unwrap_or(true),
                    *returns,
                    "{name}/{id}: return data"
                );
            }
            Query::Metric(_, namespace, metric, dimensions, stat) => {
                assert_eq!(m.expression(), None, "{name}/{id}: a metric");
                assert_eq!(m.return_data(), Some(false), "{name}/{id}: return data");
                let s = m
                    .metric_stat()
                    .unwrap_or_else(|| panic!("{name}/{id}: a metric stat"));
                let got_metric = s.metric().expect("the metric of a metric stat");
                assert_eq!(got_metric.namespace(), Some(*namespace), "{name}/{id}");
                assert_eq!(got_metric.metric_name(), Some(*metric), "{name}/{id}");
                let dims: BTreeMap<&str, &str> = got_metric
                    .dimensions()
                    .iter()
                    .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
                    .collect();
                let want_dims: BTreeMap<&str, &str> =
                    dimensions.iter().map(|(k, v)| (*k, v.as_str())).collect();
                assert_eq!(dims, want_dims, "{name}/{id}: dimensions");
                assert_eq!(s.stat(), Some(*stat), "{name}/{id}: stat");
                assert_eq!(s.period(), Some(60), "{name}/{id}: period");
            }
        }
    }
}
