//! `make bench`: measures the release build of the provider and writes BENCHMARKS.md (and
//! the comparison table of `docs/guides/how-it-scales.md`).
//!
//! Each benchmark is a function returning a [`report::Section`]; [`BENCHMARKS`] lists them
//! in the order they run and appear. To add one, write a module with a
//! `run(&Bench) -> Result<Section>` function and append it to the list: its summary rows
//! join the table at the top and its details get their own marked section.
//!
//! ```text
//! cargo run --release --example bench -- [--write BENCHMARKS.md] [--only ID,ID]
//!     [--starts N] [--calls N] [--binary PATH] [--scale N,N] [--before PATH]
//! ```
//!
//! With `--only` and `--write` together, only the sections run are replaced in the
//! existing file (each then says how and where it was measured) and their rows of the
//! summary table updated; the rest of the file is kept.

mod latency;
mod machine;
mod plan;
mod plugin;
mod report;
mod rss;
mod scale;
mod schema;
mod simulation;
mod size;
mod startup;
mod stats;

// The acceptance tests' Terraform runner, emulator and fixtures, shared as they are;
// not all of them is used here.
#[allow(dead_code)]
#[path = "../../tests/acceptance/support/aws.rs"]
mod aws;
#[allow(dead_code)]
#[path = "../../tests/acceptance/support/emulator.rs"]
mod emulator;
#[allow(dead_code)]
#[path = "../../tests/acceptance/support/terraform.rs"]
mod terraform;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use report::Section;

/// Errors carry their context in the message; the program prints it and fails.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// Result of a benchmark step.
pub type Result<T> = std::result::Result<T, Error>;

/// Measures start-up, the schema round trip, memory and size of the release build.
#[derive(Parser, Debug)]
#[command(about)]
struct Options {
    /// Write the Markdown report to this file (otherwise it goes to stdout).
    #[arg(long, value_name = "PATH")]
    write: Option<PathBuf>,
    /// Run only these benchmarks (comma-separated ids): printing to stdout, or replacing
    /// just their sections of the `--write` file.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    only: Vec<String>,
    /// How many plugin starts to time (at least 25).
    #[arg(long, default_value_t = 51, value_parser = clap::value_parser!(u32).range(25..))]
    starts: u32,
    /// How many GetProviderSchema calls to time (at least 200).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(200..))]
    calls: u32,
    /// Measure this provider binary instead of target/release/terraform-provider-queuescale
    /// (to compare builds; printing to stdout, or with `--only` into the sections run).
    #[arg(long, value_name = "PATH")]
    binary: Option<PathBuf>,
    /// Numbers of backlog policies the scale benchmark measures.
    #[arg(
        long,
        value_name = "N,N",
        value_delimiter = ',',
        default_value = "100,300"
    )]
    scale: Vec<usize>,
    /// A baseline provider build the scale benchmark also measures, for comparison.
    #[arg(long, value_name = "PATH")]
    before: Option<PathBuf>,
}

/// What every benchmark gets: the options and where things are.
pub struct Bench {
    /// The crate root.
    pub root: PathBuf,
    /// The release binary under test.
    pub binary: PathBuf,
    /// Number of timed starts.
    pub starts: u32,
    /// Number of timed schema calls.
    pub calls: u32,
    /// Numbers of policies for the scale benchmark.
    pub scale: Vec<usize>,
    /// Baseline build for the scale benchmark.
    pub before: Option<PathBuf>,
    /// Also write the comparison into `docs/guides/how-it-scales.md` (with `--write`).
    pub write_guide: bool,
    /// A directory that lasts the whole run: the Terraform harness keeps the first
    /// benchmark's scratch directory for every later one.
    pub scratch: PathBuf,
}

impl Bench {
    /// A fresh directory for one benchmark, inside [`Bench::scratch`].
    pub fn scratch_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.scratch.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        Ok(dir)
    }
}

/// `path` relative to the crate root when it is inside it, for the report.
pub fn display_path(bench: &Bench, path: &std::path::Path) -> String {
    path.strip_prefix(&bench.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One benchmark: an id (used in `--only` and in the section markers), what it does (for
/// the progress line) and its function.
struct Benchmark {
    id: &'static str,
    what: &'static str,
    run: fn(&Bench) -> Result<Section>,
}

/// Every benchmark, in report order.
const BENCHMARKS: &[Benchmark] = &[
    Benchmark {
        id: "startup",
        what: "start-up: spawn to handshake line",
        run: startup::run,
    },
    Benchmark {
        id: "schema",
        what: "GetProviderSchema round trips over AutoMTLS",
        run: schema::run,
    },
    Benchmark {
        id: "lifecycle",
        what: "peak RSS and AWS API calls across a real lifecycle on the emulator",
        run: rss::run,
    },
    Benchmark {
        id: "scale",
        what: "many backlog policies with 50 ms per request: wall time, calls, quota floor",
        run: scale::run,
    },
    Benchmark {
        id: "plan",
        what: "the backlog example's plan lines and state bytes; an update of 300 in one state",
        run: plan::run,
    },
    Benchmark {
        id: "size",
        what: "release binary size",
        run: size::run,
    },
    Benchmark {
        id: "simulation",
        what: "simulator speed: 30 days of one policy at one-second resolution",
        run: simulation::speed,
    },
    Benchmark {
        id: "comparison",
        what: "five ways to scale one service on every reference trace",
        run: simulation::comparison,
    },
];

fn main() -> ExitCode {
    let options = Options::parse();
    match run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: Options) -> Result<()> {
    let unknown: Vec<&String> = options
        .only
        .iter()
        .filter(|id| !BENCHMARKS.iter().any(|b| b.id == id.as_str()))
        .collect();
    if options.binary.is_some() && options.write.is_some() && options.only.is_empty() {
        return Err(
            "--binary with --write needs --only: a whole report is of the release build".into(),
        );
    }
    if !unknown.is_empty() {
        let ids: Vec<&str> = BENCHMARKS.iter().map(|b| b.id).collect();
        return Err(format!("unknown benchmark {unknown:?}; known: {}", ids.join(", ")).into());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let binary = match options.binary {
        Some(path) => {
            std::path::absolute(&path).map_err(|e| format!("resolve {}: {e}", path.display()))?
        }
        None => root.join("target/release/terraform-provider-queuescale"),
    };
    if !binary.is_file() {
        return Err(format!(
            "{} is missing: run cargo build --release first",
            binary.display()
        )
        .into());
    }
    let before = options.before.as_deref().map(scale::absolute).transpose()?;
    let scratch = tempfile::Builder::new()
        .prefix("queuescale-bench-")
        .tempdir()
        .map_err(|e| format!("create a scratch directory: {e}"))?;
    let bench = Bench {
        scratch: scratch.path().to_path_buf(),
        root,
        binary,
        starts: options.starts,
        calls: options.calls,
        scale: options.scale,
        before,
        write_guide: options.write.is_some(),
    };
    // Recorded before the benchmarks add their own load.
    let machine = machine::Machine::probe(&bench.root);
    let selected: Vec<&Benchmark> = BENCHMARKS
        .iter()
        .filter(|b| options.only.is_empty() || options.only.iter().any(|id| id == b.id))
        .collect();
    let mut sections = Vec::new();
    for (i, benchmark) in selected.iter().enumerate() {
        eprintln!(
            "bench: [{}/{}] {}: {}",
            i + 1,
            selected.len(),
            benchmark.id,
            benchmark.what
        );
        let section = (benchmark.run)(&bench).map_err(|e| format!("{}: {e}", benchmark.id))?;
        sections.push((benchmark.id, section));
    }
    let binary = display_path(&bench, &bench.binary);
    match &options.write {
        Some(path) if !options.only.is_empty() => {
            let old = std::fs::read_to_string(path)
                .map_err(|e| format!("read {} to update it: {e}", path.display()))?;
            let args: Vec<String> = std::env::args().skip(1).collect();
            let markdown = report::splice(&old, &sections, &machine, &args.join(" "));
            std::fs::write(path, &markdown)
                .map_err(|e| format!("write {}: {e}", path.display()))?;
            eprintln!(
                "bench: updated {} ({})",
                path.display(),
                options.only.join(", ")
            );
        }
        Some(path) => {
            let markdown = report::render(&sections, &machine, &binary);
            std::fs::write(path, &markdown)
                .map_err(|e| format!("write {}: {e}", path.display()))?;
            eprintln!("bench: wrote {}", path.display());
        }
        None => print!("{}", report::render(&sections, &machine, &binary)),
    }
    Ok(())
}
