//! Running the real `terraform` binary against the provider built by this crate.
//!
//! Terraform 1.0.3 (installed by `make tools` into `.tools/venv`) is required; the newest
//! `terraform` on PATH is used as well when it is newer. The provider is installed into a
//! filesystem mirror so plain `terraform init` works for both versions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value as Json;

/// The provider's source address.
pub const SOURCE: &str = "queuescale/queuescale";

/// One Terraform CLI binary and its version.
#[derive(Debug, Clone)]
pub struct TerraformBin {
    /// Path to the binary.
    pub path: PathBuf,
    /// Its version, e.g. (1, 0, 3).
    pub version: (u32, u32, u32),
}

impl TerraformBin {
    /// Whether provider functions can be called (Terraform ≥ 1.8).
    pub fn has_functions(&self) -> bool {
        self.version >= (1, 8, 0)
    }

    /// Whether `check` blocks parse (Terraform ≥ 1.5).
    pub fn has_check_blocks(&self) -> bool {
        self.version >= (1, 5, 0)
    }

    /// `1.0.3` style.
    pub fn version_string(&self) -> String {
        format!("{}.{}.{}", self.version.0, self.version.1, self.version.2)
    }
}

fn version_of(path: &Path) -> Option<(u32, u32, u32)> {
    let out = Command::new(path)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()?;
    let j: Json = serde_json::from_slice(&out.stdout).ok()?;
    let v = j["terraform_version"].as_str()?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Terraform 1.0.3, the oldest supported version. Missing is a test failure: run
/// `make tools` (or set `QUEUESCALE_TF_1_0`).
pub fn terraform_1_0() -> TerraformBin {
    static BIN: OnceLock<TerraformBin> = OnceLock::new();
    BIN.get_or_init(|| {
        let path = std::env::var_os("QUEUESCALE_TF_1_0")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".tools/venv/bin/terraform"));
        // Commands run inside work dirs: a relative path must not depend on that.
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let version = version_of(&path).unwrap_or_else(|| {
            panic!(
                "Terraform 1.0.3 is required for acceptance tests but {} does not run. \
                 Install it with `make tools`.",
                path.display()
            )
        });
        assert_eq!(
            version,
            (1, 0, 3),
            "{} is not Terraform 1.0.3",
            path.display()
        );
        TerraformBin { path, version }
    })
    .clone()
}

/// The newest `terraform` anywhere on PATH, when it is newer than 1.0.3. Every PATH
/// entry is looked at, so a 1.0.3 placed first on PATH does not hide a newer one.
pub fn terraform_latest() -> Option<TerraformBin> {
    static BIN: OnceLock<Option<TerraformBin>> = OnceLock::new();
    BIN.get_or_init(|| {
        let path_var = std::env::var_os("PATH")?;
        std::env::split_paths(&path_var)
            .map(|d| d.join("terraform"))
            .filter(|p| p.is_file())
            .filter_map(|p| {
                let path = std::fs::canonicalize(&p).unwrap_or(p);
                version_of(&path).map(|version| TerraformBin { path, version })
            })
            .max_by_key(|t| t.version)
            .filter(|t| t.version > (1, 0, 3))
    })
    .clone()
}

/// Where the harness finds the provider binary and puts its files; set once by the
/// binary using the harness (tests, the demo, the benchmarks).
#[derive(Debug, Clone)]
pub struct Context {
    /// The provider binary to install into the mirror.
    pub provider_binary: PathBuf,
    /// A directory for mirrors and work dirs.
    pub scratch: PathBuf,
}

static CONTEXT: OnceLock<Context> = OnceLock::new();

/// Sets the harness context (first call wins).
pub fn init(ctx: Context) {
    let _ = CONTEXT.set(ctx);
}

fn context() -> &'static Context {
    CONTEXT
        .get()
        .expect("support::terraform::init must be called first")
}

/// A filesystem mirror holding the provider binary under test, and the CLI config that
/// installs `queuescale/queuescale` from it (and nothing from the network).
pub struct Mirror {
    /// The CLI configuration file to point `TF_CLI_CONFIG_FILE` at.
    pub cli_config: PathBuf,
}

/// The mirror, built once per process.
pub fn mirror() -> &'static Mirror {
    static MIRROR: OnceLock<Mirror> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let ctx = context();
        remove_stale_mirrors(&ctx.scratch);
        let base = mirror_dir(&ctx.scratch, std::process::id());
        let version = env!("CARGO_PKG_VERSION");
        let dir = base.join(format!(
            "registry.terraform.io/{SOURCE}/{version}/linux_amd64"
        ));
        std::fs::create_dir_all(&dir).expect("create mirror directory");
        std::fs::copy(
            &ctx.provider_binary,
            dir.join(format!("terraform-provider-queuescale_v{version}")),
        )
        .unwrap_or_else(|e| {
            panic!(
                "copy provider binary {} into the mirror: {e}",
                ctx.provider_binary.display()
            )
        });
        let cli_config = base.join("terraform.rc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    \
                 include = [\"registry.terraform.io/{SOURCE}\"]\n  }}\n}}\n",
                base.display()
            ),
        )
        .expect("write CLI config");
        Mirror { cli_config }
    })
}

fn mirror_dir(scratch: &Path, pid: u32) -> PathBuf {
    scratch.join(format!("acc-mirror-{pid}"))
}

/// Deletes the mirrors of test processes that no longer run (each holds a copy of the
/// provider binary, hundreds of MiB in a debug build).
fn remove_stale_mirrors(scratch: &Path) {
    let Ok(entries) = std::fs::read_dir(scratch) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("acc-mirror-"))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Deletes this process's mirror once every trial has run.
pub fn remove_mirror() {
    let _ = std::fs::remove_dir_all(mirror_dir(&context().scratch, std::process::id()));
}

/// What a Terraform command did.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Everything printed, for assertion messages.
    pub fn text(&self) -> String {
        format!(
            "exit code {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A Terraform working directory bound to one Terraform binary.
pub struct Workspace {
    /// The binary.
    pub tf: TerraformBin,
    /// The directory (kept on failure when `QUEUESCALE_ACC_KEEP` is set).
    pub dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    env: Vec<(String, Option<String>)>,
    label: String,
    step: std::cell::Cell<u32>,
}

impl Workspace {
    /// A fresh directory for `label` (used in names and messages).
    pub fn new(tf: &TerraformBin, label: &str) -> Workspace {
        let temp = tempfile::Builder::new()
            .prefix(&format!("acc-{label}-{}-", tf.version_string()))
            .tempdir_in(&context().scratch)
            .expect("create work dir");
        Workspace {
            tf: tf.clone(),
            dir: temp.path().to_path_buf(),
            _temp: Some(temp),
            env: Vec::new(),
            label: label.to_owned(),
            step: std::cell::Cell::new(0),
        }
    }

    /// Adds an environment variable for every command.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Workspace {
        self.env.push((key.to_owned(), Some(value.to_owned())));
        self
    }

    /// Removes an environment variable (inherited or added) for every command.
    pub fn unset_env(&mut self, key: &str) -> &mut Workspace {
        self.env.push((key.to_owned(), None));
        self
    }

    /// Writes `main.tf`.
    pub fn write_config(&self, hcl: &str) {
        std::fs::write(self.dir.join("main.tf"), hcl).expect("write main.tf");
    }

    /// Runs `terraform ARGS` in `dir` instead of the work dir (same environment).
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Run {
        self.command(args, &[])
            .current_dir(dir)
            .output()
            .map(Run::from)
            .expect("run terraform")
    }

    /// Runs `terraform ARGS` with extra environment `extra`.
    pub fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        Run::from(self.command(args, extra).output().expect("run terraform"))
    }

    fn command(&self, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let step = self.step.get() + 1;
        self.step.set(step);
        let mut cmd = Command::new(&self.tf.path);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", &mirror().cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("TF_LOG_PATH");
        if keep_requested() {
            cmd.env("TF_LOG", "TRACE").env(
                "TF_LOG_PATH",
                self.dir
                    .join(format!("terraform-{step:02}-{}.log", args[0])),
            );
        }
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `terraform ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    /// Starts `terraform ARGS` without waiting for it, in a process group of its own (as
    /// a shell runs a foreground job), with its output going to files in the work dir.
    pub fn spawn(&self, args: &[&str]) -> Running {
        use std::os::unix::process::CommandExt;
        let step = self.step.get() + 1;
        let out = self.dir.join(format!("spawned-{step:02}.stdout"));
        let err = self.dir.join(format!("spawned-{step:02}.stderr"));
        let mut cmd = self.command(args, &[]);
        cmd.process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(&out).expect("create stdout file"))
            .stderr(std::fs::File::create(&err).expect("create stderr file"));
        let child = cmd.spawn().expect("start terraform");
        Running {
            child,
            stdout: out,
            stderr: err,
            label: self.label.clone(),
        }
    }

    /// Runs a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code,
            0,
            "[{}] terraform {} failed:\n{}",
            self.label,
            args.join(" "),
            r.text()
        );
        r
    }

    /// `terraform init`.
    pub fn init(&self) {
        self.ok(&["init", "-input=false", "-no-color"]);
    }

    /// `terraform apply -auto-approve`.
    pub fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `terraform apply` that must fail; returns what it printed.
    pub fn apply_fails(&self) -> Run {
        let r = self.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
        assert_ne!(
            r.code,
            0,
            "[{}] apply was expected to fail:\n{}",
            self.label,
            r.text()
        );
        r
    }

    /// `terraform destroy -auto-approve`.
    pub fn destroy(&self) -> Run {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Asserts that `terraform plan` proposes no change, with and without refresh.
    pub fn assert_plan_empty(&self) {
        for refresh in ["-refresh=false", "-refresh=true"] {
            let r = self.run(&[
                "plan",
                "-detailed-exitcode",
                "-input=false",
                "-no-color",
                refresh,
            ]);
            assert_eq!(
                r.code,
                0,
                "[{}] plan ({refresh}) was expected to be empty:\n{}",
                self.label,
                r.text()
            );
        }
    }

    /// `terraform plan -detailed-exitcode`: returns the run; exit 2 means changes.
    pub fn plan(&self) -> Run {
        self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"])
    }

    /// The outputs as JSON (`terraform output -json`).
    pub fn outputs(&self) -> Json {
        let r = self.ok(&["output", "-json"]);
        serde_json::from_str(&r.stdout).expect("output -json is JSON")
    }

    /// The state as JSON (`terraform show -json`).
    pub fn state(&self) -> Json {
        let r = self.ok(&["show", "-json"]);
        serde_json::from_str(&r.stdout).expect("show -json is JSON")
    }

    /// The attribute values of the resource at `address` in the current state.
    pub fn resource_values(&self, address: &str) -> Json {
        let state = self.state();
        state["values"]["root_module"]["resources"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["address"] == address))
            .map(|r| r["values"].clone())
            .unwrap_or_else(|| panic!("[{}] {address} is not in the state: {state}", self.label))
    }

    /// Keeps the directory (and logs) when the test is failing and `QUEUESCALE_ACC_KEEP`
    /// is set.
    fn keep_on_failure(&mut self) {
        if std::thread::panicking()
            && keep_requested()
            && let Some(t) = self._temp.take()
        {
            let kept = t.keep();
            eprintln!("[{}] work dir kept: {}", self.label, kept.display());
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        self.keep_on_failure();
    }
}

/// A Terraform command started with [`Workspace::spawn`]; killed (with its process
/// group, the provider included) if dropped while it still runs.
pub struct Running {
    child: std::process::Child,
    stdout: PathBuf,
    stderr: PathBuf,
    label: String,
}

impl Running {
    /// Sends SIGINT to the command's process group: what Ctrl-C in a terminal does, so
    /// Terraform and the provider it started both receive it.
    pub fn interrupt(&self) {
        self.signal_group("INT");
    }

    fn signal_group(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, "--", &format!("-{}", self.child.id())])
            .status()
            .expect("run kill");
        assert!(
            status.success(),
            "[{}] kill -s {signal} failed: {status}",
            self.label
        );
    }

    /// Whether the command has ended.
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits for the command to end; after `limit`, kills it and panics with what it
    /// printed so far.
    pub fn wait(mut self, limit: std::time::Duration) -> Run {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for terraform") {
                return Run {
                    code: status.code().unwrap_or(-1),
                    stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
                    stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
                };
            }
            if std::time::Instant::now() > deadline {
                self.signal_group("KILL");
                let _ = self.child.wait();
                panic!(
                    "[{}] terraform still ran after {limit:?}; killed it.\n--- stdout\n{}\n--- stderr\n{}",
                    self.label,
                    std::fs::read_to_string(&self.stdout).unwrap_or_default(),
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// What the command has printed so far, for assertion messages.
    pub fn text_so_far(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
                .status();
            let _ = self.child.wait();
        }
    }
}

/// Whether work dirs and Terraform logs should be kept on failure.
pub fn keep_requested() -> bool {
    std::env::var_os("QUEUESCALE_ACC_KEEP").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The `terraform { required_providers … }` block every configuration starts with.
pub fn required_providers() -> String {
    format!(
        "terraform {{\n  required_providers {{\n    queuescale = {{ source = \"{SOURCE}\" }}\n  }}\n}}\n"
    )
}
