//! The provider's documentation site in the registry layout (`docs/index.md`,
//! `docs/resources/`, `docs/data-sources/`, `docs/functions/`), rendered from the schemas
//! with the examples from `examples/`. `docs/guides/` is written by hand and left alone.

use std::io;
use std::path::{Path, PathBuf};

use crate::provider::{NAME, Queuescale};
use crate::tfplugin::Provider;
use crate::tfplugin::docs::{Extras, Kind, render_function, render_page};

/// The binary name shown in page titles.
const BINARY: &str = "terraform-provider-queuescale";

fn read(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    }
}

/// Every generated page as (path relative to the docs directory, content).
///
/// # Errors
/// When an example file exists but cannot be read.
pub fn generate(examples: &Path) -> io::Result<Vec<(PathBuf, String)>> {
    let provider = Queuescale;
    let mut pages = Vec::new();
    let example = read(&examples.join("provider/provider.tf"))?;
    pages.push((
        PathBuf::from("index.md"),
        render_page(
            Kind::Provider,
            NAME,
            &provider.schema(),
            &Extras {
                example: example.as_deref(),
                import: None,
                binary: BINARY,
            },
        ),
    ));
    let mut resources = provider.resources();
    resources.sort_by_key(|r| r.type_name());
    for r in resources {
        let dir = examples.join("resources").join(r.type_name());
        let example = read(&dir.join("resource.tf"))?;
        let import = read(&dir.join("import.sh"))?;
        let short = r.type_name().trim_start_matches("queuescale_");
        pages.push((
            PathBuf::from(format!("resources/{short}.md")),
            render_page(
                Kind::Resource,
                r.type_name(),
                &r.schema(),
                &Extras {
                    example: example.as_deref(),
                    import: import.as_deref(),
                    binary: BINARY,
                },
            ),
        ));
    }
    for d in provider.data_sources() {
        let example = read(
            &examples
                .join("data-sources")
                .join(d.type_name())
                .join("data-source.tf"),
        )?;
        let short = d.type_name().trim_start_matches("queuescale_");
        pages.push((
            PathBuf::from(format!("data-sources/{short}.md")),
            render_page(
                Kind::DataSource,
                d.type_name(),
                &d.schema(),
                &Extras {
                    example: example.as_deref(),
                    import: None,
                    binary: BINARY,
                },
            ),
        ));
    }
    for f in provider.functions() {
        let example = read(
            &examples
                .join("functions")
                .join(f.name())
                .join("function.tf"),
        )?;
        pages.push((
            PathBuf::from(format!("functions/{}.md", f.name())),
            render_function(
                f.name(),
                &f.signature(),
                &Extras {
                    example: example.as_deref(),
                    import: None,
                    binary: BINARY,
                },
            ),
        ));
    }
    for (_, content) in &mut pages {
        if !content.ends_with('\n') {
            content.push('\n');
        }
    }
    Ok(pages)
}

/// Writes the pages under `out`.
///
/// # Errors
/// File system errors.
pub fn write(out: &Path, pages: &[(PathBuf, String)]) -> io::Result<()> {
    for (rel, content) in pages {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, content)?;
    }
    Ok(())
}

/// The pages under `out` that differ from (or are missing against) the generated ones.
///
/// # Errors
/// File system errors other than a missing file.
pub fn stale(out: &Path, pages: &[(PathBuf, String)]) -> io::Result<Vec<PathBuf>> {
    let mut differing = Vec::new();
    for (rel, content) in pages {
        if read(&out.join(rel))?.as_deref() != Some(content.as_str()) {
            differing.push(rel.clone());
        }
    }
    Ok(differing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_gets_a_page_in_the_registry_layout() {
        let pages = generate(Path::new("/nonexistent")).unwrap();
        let paths: Vec<String> = pages.iter().map(|(p, _)| p.display().to_string()).collect();
        for want in [
            "index.md",
            "resources/scalable_target.md",
            "resources/sqs_backlog_scaling_policy.md",
            "data-sources/backlog_target.md",
            "functions/backlog_target.md",
        ] {
            assert!(paths.iter().any(|p| p == want), "{want} in {paths:?}");
        }
    }

    #[test]
    fn the_committed_docs_match_the_schemas() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pages = generate(&root.join("examples")).unwrap();
        let differing = stale(&root.join("docs"), &pages).unwrap();
        assert!(
            differing.is_empty(),
            "docs/ is out of date for {differing:?}: run `make docs` and commit the result"
        );
    }
}
