//! Numbers at the edges of float64 through the real terraform binary: decimals beyond its
//! range (`1e400`, which Terraform sends as a decimal string) and inputs whose quotient
//! overflows it. Each is either used as documented or rejected at its own attribute;
//! none is a "protocol error", none reaches state as infinity.

use crate::support::terraform::{Run, TerraformBin, Workspace, required_providers};
use crate::support::{Case, aws_workspace, provider_header};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new(
            "numbers_backlog_target_with_an_infinite_ratio_fails_at_the_latency",
            data_source_infinite_ratio,
        ),
        Case::new(
            "numbers_backlog_target_beyond_float64_fails_at_the_latency",
            data_source_beyond_float64,
        ),
        Case::new(
            "numbers_backlog_function_with_an_infinite_ratio_names_the_latency",
            function_infinite_ratio,
        )
        .since((1, 8, 0)),
        Case::new(
            "numbers_backlog_policy_with_an_infinite_ratio_fails_at_the_latency",
            policy_infinite_ratio,
        ),
        Case::new(
            "numbers_backlog_policy_capacity_beyond_float64_fails_at_the_attribute",
            policy_capacity_beyond_float64,
        ),
        Case::new(
            "numbers_step_upper_bound_beyond_float64_is_valid_as_no_upper_bound",
            step_upper_beyond_float64,
        ),
        Case::new(
            "numbers_step_lower_bound_beyond_float64_fails_at_the_step",
            step_lower_beyond_float64,
        ),
    ]
}

/// A provider block that needs no AWS access.
fn offline(body: &str) -> String {
    format!(
        "{}provider \"queuescale\" {{\n  region = \"us-east-1\"\n  access_key = \"offline\"\n  \
         secret_key = \"offline\"\n  skip_credentials_validation = true\n}}\n{body}",
        required_providers()
    )
}

/// Terraform wraps diagnostic details at 78 columns: compare with single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A failed plan whose error names `summary` and quotes the configuration line `line`,
/// with no word of a protocol error.
fn assert_fails_at(r: &Run, summary: &str, line: &str) {
    assert_ne!(r.code, 0, "plan must fail:\n{}", r.text());
    assert!(r.stderr.contains(summary), "{}", r.text());
    assert!(r.stderr.contains(line), "points at {line:?}:\n{}", r.text());
    assert!(
        !r.stderr.contains("protocol error") && !r.stderr.contains("is not a number"),
        "{}",
        r.text()
    );
}

fn data_source_infinite_ratio(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "num-ds-ratio");
    ws.write_config(&offline(
        "data \"queuescale_backlog_target\" \"t\" {\n  acceptable_latency_seconds = 1e308\n  \
         average_processing_seconds = 1e-308\n}\n",
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_fails_at(
        &r,
        "Invalid acceptable_latency_seconds",
        "acceptable_latency_seconds = 1e308",
    );
    assert!(one_line(&r.stderr).contains("2^360"), "{}", r.text());
}

fn data_source_beyond_float64(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "num-ds-huge");
    ws.write_config(&offline(
        "data \"queuescale_backlog_target\" \"t\" {\n  acceptable_latency_seconds = 1e400\n  \
         average_processing_seconds = 1\n}\n",
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_fails_at(
        &r,
        "Invalid acceptable_latency_seconds",
        "acceptable_latency_seconds = 1e400",
    );
}

fn function_infinite_ratio(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "num-fn-ratio");
    ws.write_config(&offline(
        "output \"t\" {\n  value = provider::queuescale::backlog_target(1e308, 1e-308)\n}\n",
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    let text = one_line(&r.stderr);
    assert!(
        text.contains("\"acceptable_latency_seconds\" parameter: acceptable_latency_seconds"),
        "{}",
        r.text()
    );
    assert!(!text.contains(".."), "one final period:\n{}", r.text());
}

fn backlog_policy(body: &str) -> String {
    format!(
        "{}resource \"queuescale_sqs_backlog_scaling_policy\" \"p\" {{\n  name = \"qsacc-numbers\"\n  \
         queue_name = \"q\"\n  cluster_name = \"c\"\n  service_name = \"s\"\n{body}}}\n",
        provider_header()
    )
}

fn policy_infinite_ratio(tf: &TerraformBin) {
    let ws = aws_workspace(tf, "num-bp-ratio");
    ws.write_config(&backlog_policy(
        "  min_capacity = 0\n  max_capacity = 5\n  acceptable_latency_seconds = 1e308\n  \
         average_processing_seconds = 1e-308\n",
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_fails_at(
        &r,
        "Invalid acceptable_latency_seconds",
        "acceptable_latency_seconds = 1e308",
    );
}

fn policy_capacity_beyond_float64(tf: &TerraformBin) {
    let ws = aws_workspace(tf, "num-bp-huge");
    ws.write_config(&backlog_policy(
        "  min_capacity = 0\n  max_capacity = 1e400\n  target_backlog_per_task = 1e400\n",
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_fails_at(
        &r,
        "Invalid target_backlog_per_task",
        "target_backlog_per_task = 1e400",
    );
    assert!(r.stderr.contains("max_capacity = 1e400"), "{}", r.text());
}

/// A step policy with `step_body` as its second step, attached to a target by id.
fn step_resource(step_body: &str) -> String {
    format!(
        "resource \"queuescale_step_scaling_policy\" \"p\" {{\n  name = \"qsacc-numbers\"\n  \
         scalable_target_id = \"service/c/s\"\n  metric {{\n    namespace = \"AWS/SQS\"\n    \
         metric_name = \"ApproximateNumberOfMessagesVisible\"\n    \
         dimensions = {{ QueueName = \"q\" }}\n    statistic = \"Maximum\"\n    \
         period_seconds = 300\n  }}\n  step {{\n    upper = 0\n    change = -1\n  }}\n  \
         step {{\n{step_body}    change = 2\n  }}\n}}\n"
    )
}

/// [`step_resource`] with the offline provider block (no AWS access needed for
/// `terraform validate`).
fn step_policy(step_body: &str) -> String {
    offline(&step_resource(step_body))
}

/// The docs: an upper bound of +∞ means the same as leaving it out; `1e400` is decoded
/// and validated as such (it was refused as "not a number … a protocol error").
fn step_upper_beyond_float64(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "num-step-upper");
    ws.write_config(&step_policy("    lower = 10\n    upper = 1e400\n"));
    ws.init();
    let r = ws.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    // Planned as configured: the bound stays 1e400 in the plan (no "invalid plan").
    let planned = aws_workspace(tf, "num-step-upper-plan");
    planned.write_config(&format!(
        "{}{}",
        provider_header(),
        step_resource("    lower = 10\n    upper = 1e400\n")
    ));
    planned.init();
    let r = planned.run(&["plan", "-input=false", "-no-color"]);
    assert_eq!(r.code, 0, "{}", r.text());
    assert!(!r.stderr.contains("invalid plan"), "{}", r.text());
}

/// A lower bound cannot be infinite: refused at the step, not as a protocol error.
fn step_lower_beyond_float64(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "num-step-lower");
    ws.write_config(&step_policy("    lower = 1e400\n"));
    ws.init();
    let r = ws.run(&["validate", "-no-color"]);
    assert_fails_at(&r, "step", "lower = 1e400");
}
