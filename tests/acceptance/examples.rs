//! The examples users copy: every file is `terraform fmt` clean, and every registry
//! example that needs no other provider applies, plans empty and destroys against the
//! emulator.

use std::path::{Path, PathBuf};

use crate::support::aws::{self, ServiceFixture};
use crate::support::terraform::{TerraformBin, Workspace};
use crate::support::{Case, aws_workspace};

pub fn cases() -> Vec<Case> {
    vec![
        Case::new("examples_are_terraform_fmt_clean", formatted),
        Case::new("registry_examples_apply_against_the_emulator", apply_all)
            .embedded_only()
            .one_trial(),
    ]
}

fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Every example directory; before Terraform 1.8, `functions/` is left out (older
/// versions cannot parse provider-function calls).
fn formatted(tf: &TerraformBin) {
    let ws = Workspace::new(tf, "fmt");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .expect("read examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| tf.has_functions() || !p.ends_with("functions"))
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "examples found: {dirs:?}");
    for dir in dirs {
        let r = ws.run(&[
            "fmt",
            "-check",
            "-recursive",
            "-diff",
            &dir.display().to_string(),
        ]);
        assert_eq!(
            r.code,
            0,
            "terraform fmt -check: {} is not formatted:\n{}",
            dir.display(),
            r.text()
        );
    }
}

/// The registry example directories that use only this provider, in a stable order.
fn registry_examples(tf: &TerraformBin) -> Vec<PathBuf> {
    let root = examples_dir();
    let mut dirs = vec![root.join("provider")];
    for group in ["resources", "data-sources", "functions"] {
        if group == "functions" && !tf.has_functions() {
            continue;
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join(group))
            .expect("read examples")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        entries.sort();
        // Before Terraform 1.5, an example with a `check` block does not parse.
        entries.retain(|dir| tf.has_check_blocks() || !has_check_block(dir));
        dirs.extend(entries);
    }
    dirs
}

/// Whether a `.tf` file in `dir` holds a top-level `check` block.
fn has_check_block(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .expect("read example")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .any(|p| {
            std::fs::read_to_string(&p)
                .expect("read .tf")
                .lines()
                .any(|l| l.starts_with("check "))
        })
}

fn apply_all(tf: &TerraformBin) {
    // The examples name cluster "main", service "worker" and queue "jobs".
    let _fixture = ServiceFixture::create_named("main", "worker", "jobs");
    for dir in registry_examples(tf) {
        let label = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("example")
            .to_owned();
        let ws = aws_workspace(tf, &format!("example-{label}"));
        let mut has_terraform_block = false;
        for entry in std::fs::read_dir(&dir).expect("read example") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "tf") {
                let text = std::fs::read_to_string(&path).expect("read .tf");
                has_terraform_block |= text.contains("required_providers");
                std::fs::write(ws.dir.join(path.file_name().expect("name")), text).expect("copy");
            }
        }
        // Each example validates on its own: it names the provider's source itself.
        assert!(
            has_terraform_block,
            "{label}: the example has no required_providers block"
        );
        ws.init();
        ws.apply();
        ws.assert_plan_empty();
        ws.destroy();
        assert!(
            aws::scalable_target("service/main/worker").is_none(),
            "{label}: destroy left the scalable target"
        );
        assert!(
            aws::alarms_with_prefix("worker").is_empty(),
            "{label}: destroy left alarms"
        );
    }
}
