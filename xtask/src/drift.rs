//! Comparing the generated tree with the files on disk: the exact file set of every generated
//! directory, not just the files the generator knows about.

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use similar::TextDiff;
use smartag_codegen::Tree;

/// One way the committed tree differs from the spec's.
pub enum Drift {
    /// The file exists but its contents differ; the unified diff (committed → expected).
    Differs { path: String, diff: String },
    /// The spec produces the file, but it is not on disk.
    Missing { path: String },
    /// The file is under a generated directory, but the spec does not produce it.
    Stale { path: String },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Differs { path, diff } => write!(f, "differs: {path}\n{diff}"),
            Drift::Missing { path } => write!(f, "missing: {path} (the spec generates it)"),
            Drift::Stale { path } => {
                write!(f, "stale: {path} (the spec does not generate it; `cargo xtask gen` removes it)")
            }
        }
    }
}

/// Every file under the generated directories `dirs`, as sorted root-relative paths with `/`.
pub fn existing_files(root: &Path, dirs: &[&str]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for dir in dirs {
        walk(root, &root.join(dir), &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    for entry in entries {
        let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
        }
    }
    Ok(())
}

/// Every difference between `tree` and the disk under `root`, whose generated directories are `dirs`.
pub fn compare(root: &Path, tree: &Tree, dirs: &[&str]) -> Result<Vec<Drift>> {
    let mut problems = Vec::new();
    for (rel, expected) in tree {
        match std::fs::read(root.join(rel)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => problems.push(Drift::Missing { path: rel.clone() }),
            Err(e) => return Err(e).with_context(|| format!("reading {rel}")),
            Ok(bytes) => {
                let actual = String::from_utf8_lossy(&bytes);
                if actual != expected.as_str() {
                    let diff = TextDiff::from_lines(actual.as_ref(), expected.as_str())
                        .unified_diff()
                        .context_radius(3)
                        .header(&format!("a/{rel} (committed)"), &format!("b/{rel} (from the spec)"))
                        .to_string();
                    problems.push(Drift::Differs { path: rel.clone(), diff });
                }
            }
        }
    }
    for rel in existing_files(root, dirs)? {
        if !tree.contains_key(&rel) {
            problems.push(Drift::Stale { path: rel });
        }
    }
    Ok(problems)
}
