//! `make install` puts the provider where plain `terraform init` finds it: the implicit
//! local mirror under `~/.terraform.d/plugins`, with no CLI configuration at all.

use std::path::Path;
use std::process::Command;

use crate::support::Case;
use crate::support::terraform::{TerraformBin, Workspace, required_providers};

pub fn cases() -> Vec<Case> {
    vec![Case::new(
        "make_install_then_plain_terraform_init_finds_the_provider",
        install,
    )]
}

fn install(tf: &TerraformBin) {
    let mut ws = Workspace::new(tf, "install");
    let home = ws.dir.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("make")
        .arg("-C")
        .arg(root)
        .arg("--no-print-directory")
        .arg("install-binary")
        .arg(format!(
            "BINARY={}",
            env!("CARGO_BIN_EXE_terraform-provider-queuescale")
        ))
        .env("HOME", &home)
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make install-binary failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = home.join(format!(
        ".terraform.d/plugins/registry.terraform.io/queuescale/queuescale/{v}/linux_amd64/terraform-provider-queuescale_v{v}",
        v = env!("CARGO_PKG_VERSION")
    ));
    assert!(
        installed.is_file(),
        "{} was not installed",
        installed.display()
    );

    // No CLI configuration: only the implicit local mirror can provide the provider.
    ws.env("HOME", &home.display().to_string())
        .unset_env("TF_CLI_CONFIG_FILE");
    let work = ws.dir.join("config");
    std::fs::create_dir_all(&work).expect("config dir");
    std::fs::write(
        work.join("main.tf"),
        format!(
            "{}provider \"queuescale\" {{\n  region = \"us-east-1\"\n  access_key = \"x\"\n  \
             secret_key = \"x\"\n  skip_credentials_validation = true\n}}\n\
             data \"queuescale_backlog_target\" \"t\" {{\n  acceptable_latency_seconds = 10\n  \
             average_processing_seconds = 0.1\n}}\n\
             output \"t\" {{\n  value = data.queuescale_backlog_target.t.target_backlog_per_task\n}}\n",
            required_providers()
        ),
    )
    .expect("main.tf");
    let init = ws.run_in(&work, &["init", "-input=false", "-no-color"]);
    assert_eq!(init.code, 0, "{}", init.text());
    assert!(
        init.stdout.contains("queuescale/queuescale"),
        "init installed the provider:\n{}",
        init.text()
    );
    let apply = ws.run_in(
        &work,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    assert_eq!(apply.code, 0, "{}", apply.text());
    assert!(apply.stdout.contains("t = 100"), "{}", apply.text());
}
