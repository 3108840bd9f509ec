//! `queuescale_scalable_target` against the AWS backend.

use serde_json::json;

use crate::support::aws::{self, ServiceFixture, unique_prefix};
use crate::support::emulator::Fault;
use crate::support::terraform::{TerraformBin, Workspace};
use crate::support::{Case, aws_workspace, provider_header};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new("scalable_target_basic", basic),
        Case::new("scalable_target_update", update),
        Case::new("scalable_target_disappears", disappears),
        Case::new("scalable_target_capacity_drift_is_repaired", drift),
        Case::new("scalable_target_import", import),
        Case::new(
            "scalable_target_min_above_max_fails_before_any_api_call",
            min_above_max,
        ),
        Case::new(
            "scalable_target_missing_service_names_the_service",
            missing_service,
        ),
        Case::new("scalable_target_unknown_values_at_plan", unknown_values),
        Case::new("scalable_target_survives_throttling", throttling).embedded_only(),
    ]
}

const ADDR: &str = "queuescale_scalable_target.svc";

fn config(f: &ServiceFixture, body: &str) -> String {
    format!(
        "{}\nresource \"queuescale_scalable_target\" \"svc\" {{\n  cluster_name = \"{}\"\n  \
         service_name = \"{}\"\n{body}\n}}\n",
        provider_header(),
        f.cluster,
        f.service
    )
}

/// Imports every `(address, id)` into a fresh directory with the same configuration and
/// checks that each imported state equals `ws`'s and that a plan after import is empty.
pub fn assert_import_matches(
    ws: &Workspace,
    tf: &TerraformBin,
    hcl: &str,
    imports: &[(&str, String)],
) {
    let fresh = aws_workspace(tf, "import-check");
    fresh.write_config(hcl);
    fresh.init();
    for (addr, id) in imports {
        fresh.ok(&["import", "-input=false", "-no-color", addr, id]);
    }
    for (addr, _) in imports {
        assert_eq!(
            fresh.resource_values(addr),
            ws.resource_values(addr),
            "imported state of {addr} differs"
        );
    }
    fresh.assert_plan_empty();
}

/// Asserts nothing of the target is left in AWS.
fn assert_gone(f: &ServiceFixture) {
    assert!(
        aws::scalable_target(&f.resource_id()).is_none(),
        "scalable target still registered"
    );
}

fn basic(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-basic"), false);
    let ws = aws_workspace(tf, "st-basic");
    let hcl = config(
        &f,
        "  min_capacity = 0\n  max_capacity = 5\n  tags = { team = \"jobs\" }",
    );
    ws.write_config(&hcl);
    ws.init();
    ws.apply();
    let t = aws::scalable_target(&f.resource_id()).expect("target registered");
    assert_eq!((t.target.min_capacity, t.target.max_capacity), (0, 5));
    assert_eq!(
        aws::target_tags(&t.arn).get("team").map(String::as_str),
        Some("jobs")
    );
    let state = ws.resource_values(ADDR);
    assert_eq!(state["id"], f.resource_id());
    assert_eq!(state["arn"], t.arn);
    assert_eq!(state["tags_all"], json!({"team": "jobs"}));
    ws.assert_plan_empty();
    assert_import_matches(
        &ws,
        tf,
        &hcl,
        &[(ADDR, format!("{}/{}", f.cluster, f.service))],
    );
    ws.destroy();
    assert_gone(&f);
}

fn update(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-update"), false);
    let ws = aws_workspace(tf, "st-update");
    ws.write_config(&config(
        &f,
        "  min_capacity = 0\n  max_capacity = 5\n  tags = { a = \"1\", b = \"2\" }",
    ));
    ws.init();
    ws.apply();
    let arn = aws::scalable_target(&f.resource_id())
        .expect("registered")
        .arn;
    ws.write_config(&config(
        &f,
        "  min_capacity = 2\n  max_capacity = 10\n  tags = { a = \"1\", c = \"3\" }\n  \
         suspended_state {\n    dynamic_scaling_in_suspended = true\n  }",
    ));
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.text());
    ws.apply();
    let t = aws::scalable_target(&f.resource_id()).expect("registered");
    assert_eq!(t.arn, arn, "updated in place, not replaced");
    assert_eq!((t.target.min_capacity, t.target.max_capacity), (2, 10));
    assert!(t.target.suspension.dynamic_in && !t.target.suspension.dynamic_out);
    let mut tags = aws::target_tags(&arn);
    // The owner tag records which resource registered the target (read raw, as AWS has it).
    let owner = format!("queuescale_scalable_target {}", f.resource_id());
    assert_eq!(tags.remove("queuescale:owner"), Some(owner.clone()));
    assert_eq!(tags.len(), 2);
    assert_eq!((tags["a"].as_str(), tags["c"].as_str()), ("1", "3"));
    ws.assert_plan_empty();
    ws.write_config(&config(&f, "  min_capacity = 2\n  max_capacity = 10"));
    ws.apply();
    let t = aws::scalable_target(&f.resource_id()).expect("registered");
    assert!(
        !t.target.suspension.dynamic_in,
        "removing the block resumes scaling"
    );
    assert_eq!(
        aws::target_tags(&arn),
        std::collections::BTreeMap::from([("queuescale:owner".to_string(), owner)]),
        "user tags removed, the owner tag kept"
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_gone(&f);
}

fn disappears(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-gone"), false);
    let ws = aws_workspace(tf, "st-gone");
    ws.write_config(&config(&f, "  min_capacity = 1\n  max_capacity = 3"));
    ws.init();
    ws.apply();
    aws::deregister(&f.resource_id());
    let plan = ws.plan();
    assert_eq!(
        plan.code,
        2,
        "the next plan shows the target must be created:\n{}",
        plan.text()
    );
    assert!(plan.stdout.contains("will be created"), "{}", plan.text());
    ws.apply();
    assert!(
        aws::scalable_target(&f.resource_id()).is_some(),
        "re-created"
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_gone(&f);
}

fn drift(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-drift"), false);
    let ws = aws_workspace(tf, "st-drift");
    ws.write_config(&config(&f, "  min_capacity = 1\n  max_capacity = 3"));
    ws.init();
    ws.apply();
    aws::set_capacities(&f.resource_id(), 0, 9);
    let plan = ws.plan();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(
        plan.stdout.contains("max_capacity") && plan.stdout.contains("9"),
        "{}",
        plan.text()
    );
    ws.apply();
    let t = aws::scalable_target(&f.resource_id()).expect("registered");
    assert_eq!(
        (t.target.min_capacity, t.target.max_capacity),
        (1, 3),
        "repaired"
    );
    ws.assert_plan_empty();
    ws.destroy();
}

fn import(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-import"), false);
    aws::set_capacities(&f.resource_id(), 0, 4);
    let ws = aws_workspace(tf, "st-import");
    ws.write_config(&config(&f, "  min_capacity = 0\n  max_capacity = 4"));
    ws.init();
    let bad = ws.run(&["import", "-input=false", "-no-color", ADDR, "just-a-name"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("Invalid import id"), "{}", bad.text());
    ws.ok(&[
        "import",
        "-input=false",
        "-no-color",
        ADDR,
        &format!("{}/{}", f.cluster, f.service),
    ]);
    let state = ws.resource_values(ADDR);
    assert_eq!(state["min_capacity"], 0);
    assert_eq!(state["max_capacity"], 4);
    assert!(
        state["arn"].as_str().is_some_and(|a| a.starts_with("arn:")),
        "{state}"
    );
    ws.assert_plan_empty();
    ws.destroy();
    assert_gone(&f);
}

fn min_above_max(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-minmax"), false);
    let ws = aws_workspace(tf, "st-minmax");
    ws.write_config(&config(&f, "  min_capacity = 5\n  max_capacity = 2"));
    ws.init();
    let r = ws.run(&["plan", "-input=false", "-no-color"]);
    assert_ne!(r.code, 0, "{}", r.text());
    assert!(
        r.stderr
            .contains("min_capacity is greater than max_capacity"),
        "{}",
        r.text()
    );
    assert!(
        r.stderr.contains("min_capacity = 5"),
        "the error points at the attribute:\n{}",
        r.text()
    );
    assert!(aws::scalable_target(&f.resource_id()).is_none());
}

fn missing_service(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-nosvc"), false);
    let ws = aws_workspace(tf, "st-nosvc");
    ws.write_config(&format!(
        "{}\nresource \"queuescale_scalable_target\" \"svc\" {{\n  cluster_name = \"{}\"\n  \
         service_name = \"no-such-service\"\n  min_capacity = 0\n  max_capacity = 1\n}}\n",
        provider_header(),
        f.cluster
    ));
    ws.init();
    let r = ws.apply_fails();
    assert!(r.stderr.contains("ECS service not found"), "{}", r.text());
    assert!(
        r.stderr.contains("\"no-such-service\""),
        "the error names the service:\n{}",
        r.text()
    );
    let state = ws.ok(&["state", "list"]);
    assert!(
        state.stdout.trim().is_empty(),
        "nothing recorded: {}",
        state.stdout
    );
}

fn unknown_values(tf: &TerraformBin) {
    let a = ServiceFixture::create(&unique_prefix("st-unk-a"), false);
    let b = ServiceFixture::create(&unique_prefix("st-unk-b"), false);
    let ws = aws_workspace(tf, "st-unknown");
    ws.write_config(&format!(
        "{}
resource \"queuescale_scalable_target\" \"a\" {{
  cluster_name = \"{}\"
  service_name = \"{}\"
  min_capacity = 0
  max_capacity = 2
}}

resource \"queuescale_scalable_target\" \"b\" {{
  cluster_name = \"{}\"
  service_name = \"{}\"
  # Unknown until the first target exists.
  min_capacity = length(queuescale_scalable_target.a.arn) > 0 ? 1 : 0
  max_capacity = 4
  tags         = {{ follows = queuescale_scalable_target.a.arn }}
}}
",
        provider_header(),
        a.cluster,
        a.service,
        b.cluster,
        b.service
    ));
    ws.init();
    let plan = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(plan.stdout.contains("known after apply"), "{}", plan.text());
    ws.apply();
    let t = aws::scalable_target(&b.resource_id()).expect("registered");
    assert_eq!(t.target.min_capacity, 1);
    ws.assert_plan_empty();
    ws.destroy();
}

fn throttling(tf: &TerraformBin) {
    let f = ServiceFixture::create(&unique_prefix("st-throttle"), false);
    let fault = Fault::inject(json!({
        "operation": "RegisterScalableTarget",
        "error": "ThrottlingException",
        "message": "Rate exceeded",
        "status": 400,
        "count": 2,
        "match": f.resource_id(),
    }));
    let ws = aws_workspace(tf, "st-throttle");
    ws.write_config(&config(&f, "  min_capacity = 0\n  max_capacity = 2"));
    ws.init();
    ws.apply();
    assert_eq!(
        fault.fired(),
        2,
        "both throttling errors were met and retried"
    );
    assert!(aws::scalable_target(&f.resource_id()).is_some());
    ws.destroy();
}
