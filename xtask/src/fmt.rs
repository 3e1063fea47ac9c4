//! `cargo xtask fmt`: rustfmt over every hand-written Rust file. Generated files (recognised by
//! their `@generated` header, whatever spec or directory they come from) are printed by
//! prettyplease inside `gen` and proven by `check`; formatting them again with rustfmt would
//! make the two tools fight, so they are left out here (and only here).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use smartag_codegen::GENERATED_MARKER;

/// Directories never searched for sources.
const SKIP: &[&str] = &["target", ".git", ".venv", "node_modules"];

/// Runs rustfmt on every hand-written `.rs` file under `root`.
pub fn run(root: &Path, check: bool) -> Result<ExitCode> {
    let mut files = Vec::new();
    collect(root, root, &mut files)?;
    files.sort();
    let mut cmd = Command::new("rustfmt");
    cmd.arg("--edition").arg("2024");
    if check {
        cmd.arg("--check");
    }
    let status = cmd
        .args(&files)
        .current_dir(root)
        .status()
        .context("running rustfmt (install it with `rustup component add rustfmt`)")?;
    if status.success() {
        println!("{} hand-written files {}", files.len(), if check { "are formatted" } else { "formatted" });
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("some hand-written files are not formatted: run `cargo xtask fmt`");
        Ok(ExitCode::FAILURE)
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if path.is_dir() {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if SKIP.contains(&name.as_str()) {
                continue;
            }
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") && !is_generated(&path) {
            out.push(rel.to_path_buf());
        }
    }
    Ok(())
}

/// Whether a file starts with the generator's header.
fn is_generated(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.starts_with(GENERATED_MARKER))
}
