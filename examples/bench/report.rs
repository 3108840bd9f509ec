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
         `terraform apply`, how long hundreds of policies in one state take to create and \
         refresh over a slow network, how large the binary is, and how fast the simulator \
         runs a month of one policy; then the simulated comparison of five ways to scale one \
         service. Produced by `make bench` \
         (`examples/bench/main.rs`); the file is rewritten whole by every run, so compare \
         runs in version control.\n\n",
    );
    md.push_str("## Summary\n\n| Figure | Measured | Goal | Result |\n|---|---|---|---|\n");
    for (_, section) in sections {
        for f in &section.figures {
            let _ = writeln!(md, "{}", summary_row(f));
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

/// `old` with the sections of this run put in place of their marked copies (or, when
/// new, before the machine section) and their figures' summary rows replaced (or added).
/// Each section says it was measured on its own, with `args` and the machine.
pub fn splice(old: &str, sections: &[(&str, Section)], machine: &Machine, args: &str) -> String {
    let mut md = old.to_owned();
    for (id, section) in sections {
        let (open, close) = (
            format!("<!-- bench:{id} -->"),
            format!("<!-- /bench:{id} -->"),
        );
        let block = format!(
            "{open}\n## {}\n\n{}\n\nThis section was measured on its own, apart from the rest \
             of the file:\n\n{}\n{close}",
            section.title,
            section.details.trim_end(),
            machine.table(&format!("`cargo run --example bench -- {args}`")),
        );
        match (md.find(&open), md.find(&close)) {
            (Some(start), Some(end)) if end > start => {
                md.replace_range(start..end + close.len(), &block);
            }
            _ => {
                let at = md.find("## Machine and command").unwrap_or(md.len());
                md.insert_str(at, &format!("{block}\n\n"));
            }
        }
        for f in &section.figures {
            let row = summary_row(f);
            let prefix = format!("| {} |", f.name);
            let mut lines: Vec<String> = md.lines().map(str::to_owned).collect();
            if let Some(line) = lines.iter_mut().find(|l| l.starts_with(&prefix)) {
                *line = row;
            } else if let Some(last) =
                lines
                    .iter()
                    .position(|l| l.starts_with("| Figure |"))
                    .map(|header| {
                        lines[header..]
                            .iter()
                            .take_while(|l| l.starts_with('|'))
                            .count()
                            + header
                    })
            {
                lines.insert(last, row);
            }
            md = lines.join("\n") + "\n";
        }
    }
    md
}

fn summary_row(f: &Figure) -> String {
    let result = match f.pass {
        Some(true) => "pass",
        Some(false) => "**FAIL**",
        None => "—",
    };
    format!(
        "| {} | {} | {} | {result} |",
        f.name,
        f.measured,
        f.goal.as_deref().unwrap_or("—")
    )
}
