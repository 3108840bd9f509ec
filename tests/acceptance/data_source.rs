//! End to end with no AWS calls: the `queuescale_backlog_target` data source and the
//! `backlog_target` function through init, plan, apply, output and destroy.

use crate::support::Case;
use crate::support::terraform::{TerraformBin, Workspace, required_providers};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new("backlog_target_data_source_lifecycle", lifecycle),
        Case::new(
            "backlog_target_bad_value_fails_plan_at_the_attribute",
            bad_value,
        ),
        Case::new("provider_log_lines_reach_terraform_debug_log", debug_log),
        Case::new(
            "plugin_tls_variable_empty_or_set_both_let_terraform_talk_to_the_provider",
            tls_variable,
        ),
        Case::new("backlog_target_function_returns_the_same_number", function).since((1, 8, 0)),
        Case::new(
            "backlog_target_function_error_names_the_argument",
            function_error,
        )
        .since((1, 8, 0)),
    ]
}

/// A provider block that needs no AWS access.
fn offline_provider() -> &'static str {
    r#"
provider "queuescale" {
  region                      = "us-east-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
}
"#
}

/// A configuration of `body` with the provider source and an offline provider block.
pub fn config(body: &str) -> String {
    format!("{}{}{body}", required_providers(), offline_provider())
}

const DATA: &str = r#"
data "queuescale_backlog_target" "jobs" {
  acceptable_latency_seconds    = 10
  average_processing_seconds    = 0.1
}

data "queuescale_backlog_target" "parallel" {
  acceptable_latency_seconds    = 10
  average_processing_seconds    = 0.1
  messages_in_parallel_per_task = 4
}

output "target" {
  value = data.queuescale_backlog_target.jobs.target_backlog_per_task
}

output "parallel_target" {
  value = data.queuescale_backlog_target.parallel.target_backlog_per_task
}
"#;

fn lifecycle(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "data-source");
    ws.write_config(&config(DATA));
    ws.init();
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(
        plan.stdout.contains("target") && plan.stdout.contains("100"),
        "{}",
        plan.text()
    );
    ws.apply();
    let out = ws.outputs();
    assert_eq!(out["target"]["value"], 100, "{out}");
    assert_eq!(out["parallel_target"]["value"], 400, "{out}");
    ws.assert_plan_empty();
    ws.destroy();
    assert!(
        ws.state().get("values").is_none_or(|v| v.is_null()),
        "state is empty after destroy"
    );
}

fn bad_value(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "data-source-bad");
    ws.write_config(&config(
        r#"
data "queuescale_backlog_target" "jobs" {
  acceptable_latency_seconds = 10
  average_processing_seconds = 0
}
"#,
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "plan must fail:\n{}", r.text());
    assert!(
        r.stderr.contains("Invalid average_processing_seconds"),
        "{}",
        r.text()
    );
    // Terraform shows the attribute's line of configuration under the error.
    assert!(
        r.stderr.contains("average_processing_seconds = 0"),
        "{}",
        r.text()
    );
}

fn debug_log(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "debug-log");
    ws.write_config(&config(DATA));
    ws.init();
    let r = ws.run_with(
        &["plan", "-input=false", "-no-color"],
        &[("TF_LOG", "debug")],
    );
    assert_eq!(r.code, 0, "{}", r.text());
    let ours: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-queuescale"))
        .collect();
    assert!(
        ours.iter().any(|l| l.contains("rpc=ReadDataSource")),
        "the provider's own request log lines appear in Terraform's log:\n{}",
        ours.join("\n")
    );
    assert!(
        ours.iter()
            .all(|l| l.contains("[DEBUG]") || l.contains("[INFO]")),
        "levels are parsed"
    );
}

/// `TF_DISABLE_PLUGIN_TLS` empty (Terraform keeps AutoMTLS) and set (Terraform turns it
/// off): the provider serves what Terraform expects either way.
fn tls_variable(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "tls-variable");
    ws.write_config(&config(DATA));
    ws.init();
    for value in ["", "1", "true"] {
        let r = ws.run_with(
            &["plan", "-input=false", "-no-color"],
            &[("TF_DISABLE_PLUGIN_TLS", value)],
        );
        assert_eq!(r.code, 0, "TF_DISABLE_PLUGIN_TLS={value:?}:\n{}", r.text());
        assert!(
            r.stdout.contains("target") && r.stdout.contains("100"),
            "TF_DISABLE_PLUGIN_TLS={value:?}:\n{}",
            r.text()
        );
    }
}

fn function(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "function");
    ws.write_config(&config(
        r#"
data "queuescale_backlog_target" "jobs" {
  acceptable_latency_seconds = 10
  average_processing_seconds = 0.1
}

output "from_function" {
  value = provider::queuescale::backlog_target(10, 0.1)
}

output "same_as_data_source" {
  value = provider::queuescale::backlog_target(10, 0.1) == data.queuescale_backlog_target.jobs.target_backlog_per_task
}
"#,
    ));
    ws.init();
    ws.apply();
    let out = ws.outputs();
    assert_eq!(out["from_function"]["value"], 100, "{out}");
    assert_eq!(out["same_as_data_source"]["value"], true, "{out}");
    ws.destroy();
}

fn function_error(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "function-error");
    ws.write_config(&config(
        r#"
output "bad" {
  value = provider::queuescale::backlog_target(0.01, 0.1)
}
"#,
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr.contains("acceptable_latency_seconds"),
        "{}",
        r.text()
    );
}
