//! The machine, toolchain and build the figures were measured on.

use std::path::Path;
use std::process::Command;

/// Facts recorded next to the figures. Anything that cannot be read is "unknown".
pub struct Machine {
    cpu: String,
    cores: String,
    ram: String,
    kernel: String,
    os: String,
    load: String,
    arguments: String,
    rustc: String,
    date: String,
    commit: String,
    release_profile: String,
}

impl Machine {
    /// Reads /proc, runs `rustc --version` and `git`, and reads Cargo.toml in `root`.
    pub fn probe(root: &Path) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map_or_else(unknown, |(_, v)| v.trim().to_owned());
        let logical = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let usable = std::thread::available_parallelism().map_or(0, usize::from);
        let cores = if usable == logical || usable == 0 {
            format!("{logical}")
        } else {
            format!("{logical} ({usable} usable by this process)")
        };
        let ram = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map_or_else(unknown, |kib| {
                // Reporting precision only.
                #[allow(clippy::cast_precision_loss)]
                let gib = kib as f64 / (1024.0 * 1024.0);
                format!("{gib:.1} GiB")
            });
        let kernel = read_trimmed("/proc/sys/kernel/osrelease");
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                    .map(|v| v.trim_matches('"').to_owned())
            })
            .unwrap_or_else(unknown);
        let load = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|s| {
                let f: Vec<&str> = s.split_whitespace().take(3).collect();
                (f.len() == 3).then(|| format!("{} / {} / {} (1, 5, 15 min)", f[0], f[1], f[2]))
            })
            .unwrap_or_else(unknown);
        let rustc = output("rustc", &["--version"], root);
        let date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap_or_else(|_| unknown());
        let head = output("git", &["rev-parse", "--short", "HEAD"], root);
        let dirty = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .current_dir(root)
            .output()
            .is_ok_and(|o| !o.stdout.is_empty());
        let commit = if dirty {
            format!("{head} with uncommitted changes")
        } else {
            head
        };
        let release_profile = std::fs::read_to_string(root.join("Cargo.toml"))
            .map(|toml| release_profile(&toml))
            .unwrap_or_else(|_| unknown());
        Machine {
            cpu,
            cores,
            ram,
            kernel,
            os,
            load,
            arguments: std::env::args().skip(1).collect::<Vec<_>>().join(" "),
            rustc,
            date,
            commit,
            release_profile,
        }
    }

    /// The closing section of the report.
    pub fn markdown(&self) -> String {
        format!(
            "## Machine and command\n\n{}\n\
             Release profile (`[profile.release]` in Cargo.toml):\n\n```toml\n{}\n```\n",
            self.table(&format!(
                "`make bench` (arguments of this run: `{}`)",
                self.arguments
            )),
            self.release_profile,
        )
    }

    /// The machine as a Markdown table, with `command` in its first row.
    pub fn table(&self, command: &str) -> String {
        format!(
            "| | |\n|---|---|\n\
             | Command | {command} |\n\
             | Date | {} |\n\
             | CPU | {} |\n\
             | Cores | {} |\n\
             | RAM | {} |\n\
             | Kernel | {} |\n\
             | OS | {} |\n\
             | Load average at start | {} |\n\
             | rustc | {} |\n\
             | Source | {} |\n",
            self.date,
            self.cpu,
            self.cores,
            self.ram,
            self.kernel,
            self.os,
            self.load,
            self.rustc,
            self.commit,
        )
    }
}

fn unknown() -> String {
    "unknown".to_owned()
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path).map_or_else(|_| unknown(), |s| s.trim().to_owned())
}

/// The first line a command prints, or "unknown".
fn output(program: &str, args: &[&str], dir: &Path) -> String {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(unknown)
}

/// The `[profile.release]` table of a Cargo.toml, verbatim (Cargo's defaults when absent).
fn release_profile(toml: &str) -> String {
    let mut lines = toml.lines().skip_while(|l| l.trim() != "[profile.release]");
    let Some(header) = lines.next() else {
        return "# no [profile.release]: Cargo's defaults".to_owned();
    };
    let body: Vec<&str> = lines
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter(|l| !l.trim().is_empty())
        .collect();
    std::iter::once(header)
        .chain(body)
        .collect::<Vec<_>>()
        .join("\n")
}
