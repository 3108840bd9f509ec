//! What CloudWatch itself holds after an apply, read with plain SDK calls (DescribeAlarms,
//! ListTagsForResource) rather than the provider's own finders: every alarm the state lists
//! exists with the state's thresholds, periods, metric math, actions and tags, and none is
//! left after destroy. Runs against every backend; in the LocalStack lane
//! (`make test-localstack`) the reads go to LocalStack's CloudWatch.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::types::MetricAlarm;
use serde_json::Value as Json;

use crate::support::aws::{self, ServiceFixture, unique_prefix};
use crate::support::terraform::{TerraformBin, required_providers};
use crate::support::{Case, aws_workspace};

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
    for address in [BACKLOG, STEPS] {
        assert_cloudwatch_holds(&ws.resource_values(address));
    }
    ws.assert_plan_empty();

    ws.write_config(&config(&backlog, &stepped, "b", 3));
    ws.apply();
    for address in [BACKLOG, STEPS] {
        let values = ws.resource_values(address);
        assert_eq!(values["tags_all"]["team"], "b", "{address} was updated");
        assert_cloudwatch_holds(&values);
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

/// Asserts every alarm in the resource's state is in CloudWatch as the state says, carrying
/// exactly the state's `tags_all` plus the owner tag.
fn assert_cloudwatch_holds(values: &Json) {
    let alarms = values["alarms"].as_array().expect("alarms in the state");
    assert!(!alarms.is_empty(), "the state lists alarms: {values}");
    let cw = &aws::clients().cloudwatch;
    let want_tags: BTreeMap<String, String> =
        serde_json::from_value(values["tags_all"].clone()).expect("tags_all is a map");
    for want in alarms {
        let name = want["name"].as_str().expect("alarm name");
        let out = aws::block_on(cw.describe_alarms().alarm_names(name).send())
            .unwrap_or_else(|e| panic!("DescribeAlarms {name}: {e:?}"));
        let [got] = out.metric_alarms() else {
            panic!(
                "CloudWatch holds {} alarms named {name}",
                out.metric_alarms().len()
            );
        };
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
        // Beyond tags_all, only the owner tag, naming this resource's name.
        let owner = got_tags
            .get("queuescale:owner")
            .copied()
            .unwrap_or_default();
        let resource_name = values["name"].as_str().unwrap_or_default();
        assert!(
            owner.ends_with(&format!(" name={resource_name}")),
            "alarm {name} carries its owner: {got_tags:?}"
        );
        assert_eq!(got_tags.len(), want_tags.len() + 1, "{got_tags:?}");
    }
}

fn int(v: &Json) -> Option<i32> {
    v.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// Asserts one alarm as CloudWatch returns it equals its state object.
fn assert_alarm(got: &MetricAlarm, want: &Json) {
    let name = got.alarm_name().unwrap_or_default();
    assert_eq!(got.alarm_arn(), want["arn"].as_str(), "{name}: arn");
    assert_eq!(
        got.alarm_description(),
        want["description"].as_str(),
        "{name}: description"
    );
    assert_eq!(
        got.comparison_operator().map(|c| c.as_str()),
        want["comparison_operator"].as_str(),
        "{name}: comparison operator"
    );
    assert_eq!(
        got.threshold(),
        want["threshold"].as_f64(),
        "{name}: threshold"
    );
    assert_eq!(
        got.evaluation_periods(),
        int(&want["evaluation_periods"]),
        "{name}: evaluation periods"
    );
    assert_eq!(
        got.datapoints_to_alarm(),
        int(&want["datapoints_to_alarm"]),
        "{name}: datapoints to alarm"
    );
    assert_eq!(
        got.treat_missing_data(),
        want["treat_missing_data"].as_str(),
        "{name}: missing data"
    );
    let actions: Vec<&str> = want["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(Json::as_str)
        .collect();
    assert!(!actions.is_empty(), "{name}: the state lists its actions");
    assert_eq!(got.alarm_actions(), actions, "{name}: actions");
    let queries = want["metric_queries"].as_array().expect("metric_queries");
    if got.metrics().is_empty() {
        // A single-metric alarm: the state shows it as one query.
        let [q] = queries.as_slice() else {
            panic!("{name}: CloudWatch holds a single metric, the state {queries:?}");
        };
        assert_eq!(
            got.namespace(),
            q["namespace"].as_str(),
            "{name}: namespace"
        );
        assert_eq!(
            got.metric_name(),
            q["metric_name"].as_str(),
            "{name}: metric"
        );
        let dims: BTreeMap<&str, &str> = got
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
            .collect();
        assert_eq!(dims, str_map(&q["dimensions"]), "{name}: dimensions");
        let stat = got
            .statistic()
            .map(|s| s.as_str())
            .or(got.extended_statistic());
        assert_eq!(stat, q["stat"].as_str(), "{name}: statistic");
        assert_eq!(got.period(), int(&q["period"]), "{name}: period");
        return;
    }
    assert_eq!(
        got.metrics().len(),
        queries.len(),
        "{name}: number of metric queries"
    );
    for q in queries {
        let id = q["id"].as_str().expect("query id");
        let m = got
            .metrics()
            .iter()
            .find(|m| m.id() == Some(id))
            .unwrap_or_else(|| panic!("{name}: CloudWatch has no query {id}"));
        assert_eq!(
            m.expression(),
            q["expression"].as_str(),
            "{name}/{id}: expression"
        );
        assert_eq!(m.label(), q["label"].as_str(), "{name}/{id}: label");
        assert_eq!(
            m.return_data().unwrap_or(true),
            q["return_data"].as_bool().expect("return_data"),
            "{name}/{id}: return data"
        );
        let stat = m.metric_stat();
        assert_eq!(
            stat.is_some(),
            q["namespace"].is_string(),
            "{name}/{id}: a metric or an expression, as the state says"
        );
        if let Some(s) = stat {
            let metric = s.metric().expect("the metric of a metric stat");
            assert_eq!(metric.namespace(), q["namespace"].as_str(), "{name}/{id}");
            assert_eq!(
                metric.metric_name(),
                q["metric_name"].as_str(),
                "{name}/{id}"
            );
            let dims: BTreeMap<&str, &str> = metric
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()))
                .collect();
            assert_eq!(dims, str_map(&q["dimensions"]), "{name}/{id}: dimensions");
            assert_eq!(s.stat(), q["stat"].as_str(), "{name}/{id}: stat");
            assert_eq!(s.period(), int(&q["period"]), "{name}/{id}: period");
        }
    }
}

fn str_map(v: &Json) -> BTreeMap<&str, &str> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                .collect()
        })
        .unwrap_or_default()
}
