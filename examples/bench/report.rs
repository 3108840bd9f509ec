//! The Markdown report: a summary table of every figure, then one marked section per
//! benchmark, then the machine and command.

use std::fmt::Write as _;

use crate::machine::Machine;

/// One benchmark's part of the report.
pub struct Section {
    /// Heading of the section.
    pub title: String,
    /// Rows for the summary table.
    pub figures: Vec<Figure>,
    /// Markdown body (what was measured, how, and the distribution).
    pub details: String,
}

/// One row of the summary table.
pub struct Figure {
    /// What is measured, e.g. "Start → handshake line (median)".
    pub name: String,
    /// The value, formatted.
    pub measured: String,
    /// The goal, formatted, if there is one.
    pub goal: Option<String>,
    /// Whether the goal is met (`None` without a goal).
    pub pass: Option<bool>,
}

impl Figure {
    /// A figure checked against a goal.
    pub fn with_goal(name: &str, measured: String, goal: &str, pass: bool) -> Figure {
        Figure {
            name: name.to_owned(),
            measured,
            goal: Some(goal.to_owned()),
            pass: Some(pass),
        }
    }

    /// A figure reported for information only.
    pub fn info(name: &str, measured: String) -> Figure {
        Figure {
            name: name.to_owned(),
            measured,
            goal: None,
            pass: None,
        }
    }
}

/// The whole file. Each section sits between `<!-- bench:ID -->` and `<!-- /bench:ID -->`
/// so it can be found, compared or replaced by id.
pub fn render(sections: &[(&str, Section)], machine: &Machine, binary: &str) -> String {
    let mut md = String::new();
    let _ = write!(
        md,
        "# Benchmarks\n\n\
         Figures for the release build of the provider (`{binary}`), measured the way \
         Terraform uses it: \
         how fast a started plugin announces itself, how fast it answers the schema request \
         Terraform makes of every provider process, how much memory it takes during a real \
         `terraform apply`, how large the binary is, and how fast the simulator runs a \
         month of one policy; then the simulated comparison of four ways to scale one \
         service. Produced by `make bench` \
         (`examples/bench/main.rs`); the file is rewritten whole by every run, so compare \
         runs in version control.\n\n",
    );
    md.push_str("## Summary\n\n| Figure | Measured | Goal | Result |\n|---|---|---|---|\n");
    for (_, section) in sections {
        for f in &section.figures {
            let result = match f.pass {
                Some(true) => "pass",
                Some(false) => "**FAIL**",
                None => "—",
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {result} |",
                f.name,
                f.measured,
                f.goal.as_deref().unwrap_or("—")
            );
        }
    }
    md.push('\n');
    for (id, section) in sections {
        let _ = write!(
            md,
            "<!-- bench:{id} -->\n## {}\n\n{}\n\n<!-- /bench:{id} -->\n\n",
            section.title,
            section.details.trim_end()
        );
    }
    md.push_str(&machine.markdown());
    md
}
