//! The `terraform-provider-queuescale` binary: started by Terraform as a plugin, or by a
//! person with `--debug` to serve a provider Terraform can attach to.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use terraform_provider_queuescale::plugin::{self, PluginEnv};
use terraform_provider_queuescale::provider::Queuescale;

/// Terraform provider for queue-driven ECS scaling.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Serve without Terraform starting the process: print a TF_REATTACH_PROVIDERS value
    /// and serve until interrupted.
    #[arg(long)]
    debug: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Render the documentation from the schemas and examples.
    Docs {
        /// Directory with the registry-layout examples.
        #[arg(long, default_value = "examples")]
        examples: PathBuf,
        /// Directory to write to.
        #[arg(long, default_value = "docs")]
        out: PathBuf,
        /// Only check that the committed pages are up to date (exit 1 if not).
        #[arg(long)]
        check: bool,
    },
    /// Simulate a policy on a trace of messages: the objects `terraform plan` shows for the
    /// policy's arguments, run against a model of SQS, ECS, CloudWatch and Application
    /// Auto Scaling.
    Simulate(Box<terraform_provider_queuescale::simulate::SimulateArgs>),
}

fn simulate(args: &terraform_provider_queuescale::simulate::SimulateArgs) -> ExitCode {
    match terraform_provider_queuescale::simulate::run(args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("terraform-provider-queuescale simulate: {e}");
            ExitCode::FAILURE
        }
    }
}

fn docs(examples: &std::path::Path, out: &std::path::Path, check: bool) -> ExitCode {
    let result = terraform_provider_queuescale::docs::generate(examples).and_then(|pages| {
        if check {
            terraform_provider_queuescale::docs::stale(out, &pages)
        } else {
            terraform_provider_queuescale::docs::write(out, &pages).map(|()| Vec::new())
        }
    });
    match result {
        Ok(stale) if stale.is_empty() => ExitCode::SUCCESS,
        Ok(stale) => {
            for p in stale {
                eprintln!("out of date: {}", out.join(p).display());
            }
            eprintln!("run `make docs` and commit the result");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("terraform-provider-queuescale docs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Docs {
            examples,
            out,
            check,
        }) => return docs(examples, out, *check),
        Some(Command::Simulate(args)) => return simulate(args),
        None => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-queuescale: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if cli.debug {
        plugin::log::init(
            plugin::log::level_from_env(
                std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
                std::env::var("TF_LOG").ok().as_deref().or(Some("INFO")),
            ),
            false,
        );
        return match runtime.block_on(plugin::serve_debug(Queuescale)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("terraform-provider-queuescale: {e}");
                ExitCode::FAILURE
            }
        };
    }
    plugin::serve::init_plugin_logging();
    let code = runtime.block_on(plugin::serve(Queuescale, PluginEnv::from_process()));
    // Background tasks (idle streams, signal watchers) must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    code
}
