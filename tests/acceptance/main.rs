//! Acceptance tests: the real `terraform` binary drives the provider built by this crate.
//!
//! They run when `TF_ACC=1` (`make test` sets it); otherwise each trial is listed as
//! ignored. With `TF_ACC=1`, a missing Terraform or emulator fails the trial. Every
//! scenario runs under Terraform 1.0.3 and, when it is newer, the `terraform` on PATH.
//!
//! `QUEUESCALE_ACC_KEEP=1` keeps work dirs and Terraform trace logs of failing trials.
//! `QUEUESCALE_ACC_ENDPOINT=URL` (or `aws`) runs against an external endpoint instead of
//! the embedded emulator, sweeping leftovers named `qsacc-…` first;
//! `QUEUESCALE_ACC_LOCALSTACK=URL` sends SQS, CloudWatch and STS there and ECS and
//! Application Auto Scaling to the embedded emulator (`make test-localstack`);
//! `QUEUESCALE_SWEEP_ONLY=1` only sweeps. `QUEUESCALE_ACC_CASES=a,b` runs only the
//! scenarios with these exact names (a name that matches none fails the run).

mod backlog_policy;
mod cloudwatch_raw;
mod data_source;
mod examples;
mod install;
mod interrupt;
mod lifecycle;
mod numbers;
mod provider_config;
mod scalable_target;
mod scaling_simulation;
mod step_policy;
mod support;

use libtest_mimic::{Arguments, Trial};
use support::Case;
use support::terraform::{TerraformBin, terraform_1_0, terraform_latest};

fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(data_source::cases());
    all.extend(scaling_simulation::cases());
    all.extend(examples::cases());
    all.extend(install::cases());
    all.extend(scalable_target::cases());
    all.extend(backlog_policy::cases());
    all.extend(step_policy::cases());
    all.extend(provider_config::cases());
    all.extend(lifecycle::cases());
    all.extend(interrupt::cases());
    all.extend(cloudwatch_raw::cases());
    all.extend(numbers::cases());
    all
}

/// The scenarios `QUEUESCALE_ACC_CASES` names, or all of them.
fn chosen_cases() -> Result<Vec<Case>, String> {
    let all = cases();
    let Some(list) = std::env::var("QUEUESCALE_ACC_CASES")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(all);
    };
    let names: Vec<&str> = list.split(',').map(str::trim).collect();
    let unknown: Vec<&&str> = names
        .iter()
        .filter(|n| !all.iter().any(|c| c.name == **n))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "QUEUESCALE_ACC_CASES names scenarios that do not exist: {unknown:?}"
        ));
    }
    Ok(all
        .into_iter()
        .filter(|c| names.contains(&c.name))
        .collect())
}

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    support::terraform::init(support::terraform::Context {
        provider_binary: env!("CARGO_BIN_EXE_terraform-provider-queuescale").into(),
        scratch: env!("CARGO_TARGET_TMPDIR").into(),
    });
    let enabled = std::env::var("TF_ACC").is_ok_and(|v| !v.is_empty() && v != "0");
    let external = support::emulator::external_requested();
    let chosen = match chosen_cases() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if std::env::var_os("QUEUESCALE_SWEEP_ONLY").is_some() {
        eprintln!(
            "sweeper: deleted {} leftover objects",
            support::aws::sweep()
        );
        return std::process::ExitCode::SUCCESS;
    }
    if enabled && external {
        eprintln!(
            "sweeper: deleted {} leftover objects before the run",
            support::aws::sweep()
        );
    }
    let versions: Vec<Option<TerraformBin>> = if enabled {
        let mut v = vec![Some(terraform_1_0())];
        if let Some(latest) = terraform_latest() {
            v.push(Some(latest));
        } else {
            eprintln!("note: no terraform newer than 1.0.3 on PATH; running under 1.0.3 only");
        }
        v
    } else {
        vec![None]
    };
    let mut trials = Vec::new();
    for case in chosen {
        if case.one_trial && enabled && !(case.embedded_only && external) {
            let all: Vec<TerraformBin> = versions
                .iter()
                .flatten()
                .filter(|tf| tf.version >= case.min_version)
                .cloned()
                .collect();
            let label: Vec<String> = all.iter().map(TerraformBin::version_string).collect();
            let run = case.run;
            trials.push(Trial::test(
                format!("{} [terraform {}]", case.name, label.join(", then ")),
                move || {
                    for tf in &all {
                        run(tf);
                    }
                    Ok(())
                },
            ));
            continue;
        }
        for tf in &versions {
            match tf {
                Some(tf) if case.embedded_only && external => trials.push(
                    Trial::test(
                        format!(
                            "{} [terraform {}] [needs the embedded emulator]",
                            case.name,
                            tf.version_string()
                        ),
                        || Ok(()),
                    )
                    .with_ignored_flag(true),
                ),
                Some(tf) if tf.version >= case.min_version => {
                    let tf = tf.clone();
                    let run = case.run;
                    trials.push(Trial::test(
                        format!("{} [terraform {}]", case.name, tf.version_string()),
                        move || {
                            run(&tf);
                            Ok(())
                        },
                    ));
                }
                Some(_) => {}
                None => trials.push(
                    Trial::test(format!("{} [TF_ACC not set]", case.name), || Ok(()))
                        .with_ignored_flag(true),
                ),
            }
        }
    }
    let code = libtest_mimic::run(&args, trials).exit_code();
    support::terraform::remove_mirror();
    code
}
