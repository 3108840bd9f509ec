//! End to end with no AWS calls: the `queuescale_scaling_simulation` data source through
//! plan, apply, output and destroy; its errors at their attributes; and holding a policy
//! to an objective with a `check` block (a warning) and a postcondition (a failed plan).

use crate::data_source::config;
use crate::support::Case;
use crate::support::terraform::{TerraformBin, Workspace};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new("scaling_simulation_data_source_lifecycle", lifecycle),
        Case::new(
            "scaling_simulation_bad_input_fails_plan_at_the_attribute",
            bad_input,
        ),
        Case::new(
            "scaling_simulation_objective_in_a_check_block_and_a_postcondition",
            objective,
        )
        .since((1, 5, 0)),
    ]
}

const POLICY: &str = r#"
  min_capacity               = 0
  max_capacity               = 50
  acceptable_latency_seconds = 10
  average_processing_seconds = 0.1
"#;

fn lifecycle(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "simulation");
    ws.write_config(&config(&format!(
        r#"
data "queuescale_scaling_simulation" "burst" {{
{POLICY}
  trace = "burst"
}}

data "queuescale_scaling_simulation" "csv" {{
{POLICY}
  trace              = <<-CSV
    seconds,messages
    0,30
    900,30
  CSV
  duration_seconds   = 3600
  protect_busy_tasks = true
}}

output "burst" {{
  value = data.queuescale_scaling_simulation.burst
}}

output "csv" {{
  value = data.queuescale_scaling_simulation.csv
}}
"#
    )));
    ws.init();
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(plan.stdout.contains("wait_p95_seconds"), "{}", plan.text());
    ws.apply();
    let out = ws.outputs();
    let burst = &out["burst"]["value"];
    assert_eq!(burst["messages_arrived"], 1500, "{burst}");
    assert_eq!(
        burst["messages_processed"].as_f64().unwrap_or(-1.0)
            + burst["messages_still_queued"].as_f64().unwrap_or(-1.0),
        1500.0,
        "{burst}"
    );
    assert_eq!(burst["target_value"], 100, "{burst}");
    assert_eq!(burst["wakes"], 1, "{burst}");
    assert_eq!(
        burst["idle_minutes"], 15,
        "the resource's defaults: {burst}"
    );
    let wake = burst["wake_latency_max_seconds"].as_f64().expect("woke");
    assert!((30.0..=600.0).contains(&wake), "{burst}");
    assert!(
        burst["wait_p95_seconds"].as_f64().unwrap_or(0.0) > 0.0,
        "{burst}"
    );
    assert!(
        burst["peak_tasks"].as_f64().unwrap_or(0.0) >= 1.0,
        "{burst}"
    );
    let csv = &out["csv"]["value"];
    assert_eq!(csv["messages_arrived"], 60, "{csv}");
    assert_eq!(csv["busy_tasks_stopped"], 0, "protected: {csv}");
    assert_eq!(csv["duration_seconds"], 3600, "{csv}");
    ws.assert_plan_empty();
    ws.destroy();
}

fn bad_input(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "simulation-bad");
    ws.write_config(&config(
        r#"
data "queuescale_scaling_simulation" "worker" {
  min_capacity               = 0
  max_capacity               = 50
  acceptable_latency_seconds = 10
  average_processing_seconds = 0.1
  trace                      = "hourly"
  task_start_min_seconds     = 90
  task_start_max_seconds     = 30
}
"#,
    ));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "plan must fail:\n{}", r.text());
    assert!(r.stderr.contains("Invalid trace"), "{}", r.text());
    assert!(
        r.stderr.contains("burst, diurnal"),
        "names the reference traces: {}",
        r.text()
    );
    // Terraform shows each attribute's line of configuration under its error.
    assert!(
        r.stderr
            .contains(r#"trace                      = "hourly""#),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("task_start_max_seconds     = 30"),
        "{}",
        r.text()
    );
    // The resource's own checks, at the same attributes as in the resource.
    ws.write_config(&config(
        r#"
data "queuescale_scaling_simulation" "worker" {
  min_capacity               = 5
  max_capacity               = 2
  acceptable_latency_seconds = 10
  trace                      = "burst"
}
"#,
    ));
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "plan must fail:\n{}", r.text());
    assert!(
        r.stderr.contains("min_capacity               = 5"),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("average_processing_seconds"),
        "{}",
        r.text()
    );
}

fn with_objective(p95: &str, busy: &str) -> String {
    config(&format!(
        r#"
data "queuescale_scaling_simulation" "worker" {{
{POLICY}
  trace = "burst"

  lifecycle {{
    postcondition {{
      condition     = self.wait_p95_seconds <= {p95}
      error_message = "p95 wait ${{self.wait_p95_seconds}} s is above the objective."
    }}
  }}
}}

check "busy_tasks" {{
  assert {{
    condition     = data.queuescale_scaling_simulation.worker.busy_tasks_stopped <= {busy}
    error_message = "The simulation stopped busy tasks."
  }}
}}
"#
    ))
}

fn objective(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "simulation-objective");
    ws.write_config(&with_objective("100000", "100000"));
    ws.init();
    let r = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(!r.text().contains("assertion failed"), "{}", r.text());
    // A missed check is a warning: the plan goes on.
    ws.write_config(&with_objective("100000", "-1"));
    let r = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(
        r.text().contains("Check block assertion failed"),
        "{}",
        r.text()
    );
    assert!(
        r.text().contains("The simulation stopped busy tasks."),
        "{}",
        r.text()
    );
    // A missed postcondition fails the plan.
    ws.write_config(&with_objective("1", "100000"));
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "plan must fail:\n{}", r.text());
    assert!(r.stderr.contains("postcondition failed"), "{}", r.text());
    assert!(r.stderr.contains("is above the objective"), "{}", r.text());
}
