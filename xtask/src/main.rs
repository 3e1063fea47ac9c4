//! Project automation. `cargo xtask gen` writes the generated crates from the spec;
//! `cargo xtask check` regenerates them in memory and fails (exit 1) on any difference with
//! what is committed: a differing file (shown as a unified diff), a missing file, or a stale
//! extra file under the generated directories (the spec's `generation.output`).
//! Without `--spec`, every spec under `spec/` is processed (this workspace's API and the fixture
//! APIs under `spec/fixtures/`); `--spec FILE --out DIR` does the same for one other API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use smartag_codegen::{GenerateError, Tree};

mod drift;
mod fmt;

/// Where the specs are, relative to the workspace root: without `--spec`, every `*.yaml` file in
/// it (and its subdirectories) is generated and checked.
const SPEC_DIR: &str = "spec";

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Generate the crates of an API from its spec, or prove the committed ones are up to date",
    long_about = "Every spec under spec/ (or the one given with --spec) is processed; each spec's \
                  `generation.output` names its generated directories (for spec/smartag.yaml: \
                  generated-model/src, generated-client/src and generated-server/src).\n\n  \
                  gen    write the generated files (and delete stale ones)\n  \
                  check  regenerate in memory and compare the exact file set; exit 1 on any difference\n\n\
                  A spec with problems is reported all at once, each as file:line:column, and nothing is written.\n\
                  Another API: `cargo xtask gen --spec its.yaml --out DIR` writes its crates' sources under DIR."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The workspace root: the default output directory, and where the default spec is
    /// (default: the workspace this xtask belongs to).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    /// One spec file (default: every `*.yaml` under spec/ in the root).
    #[arg(long, global = true)]
    spec: Option<PathBuf>,
    /// The directory the spec's `generation.output` directories are relative to (default: the root).
    #[arg(long, global = true)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Write the generated crates' sources from the spec; stale generated files are removed.
    Gen,
    /// Regenerate in memory and fail (exit 1) if any generated file differs, is missing or is stale.
    Check,
    /// Format the hand-written Rust with rustfmt (generated files, recognised by their
    /// `@generated` header, are left to `gen`, which prints them with prettyplease); `--check`
    /// fails instead of writing.
    Fmt {
        /// Report unformatted files and fail, without changing them.
        #[arg(long)]
        check: bool,
    },
    /// Run the side-by-side benchmarks (release build of `smartag-bench`) and write
    /// BENCHMARKS.md; arguments after `--` go to it (`--quick`, `--rounds N`, `--out FILE`, `--only SECTION`).
    Bench {
        /// Arguments passed to smartag-bench.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// How the spec is named in headers and messages: relative to the output directory when it is
/// inside it (so that the headers do not depend on where the tree is checked out), else as given.
fn spec_name(spec: &Path, out: &Path) -> String {
    let inside = match (spec.canonicalize(), out.canonicalize()) {
        (Ok(s), Ok(o)) => s.strip_prefix(&o).map(Path::to_path_buf).ok(),
        _ => None,
    };
    let name = inside.unwrap_or_else(|| spec.to_path_buf());
    name.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// `cargo run --release -p smartag-bench -- ARGS` in the workspace at `root`.
fn bench(root: &Path, args: &[String]) -> Result<ExitCode> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(root)
        .args(["run", "--release", "--quiet", "-p", "smartag-bench", "--"])
        .args(args)
        .status()
        .context("running cargo for smartag-bench")?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let root = cli.root.clone().unwrap_or_else(workspace_root);
    let check = match cli.command {
        Command::Fmt { check } => return fmt::run(&root, check),
        Command::Bench { ref args } => return bench(&root, args),
        Command::Gen => false,
        Command::Check => true,
    };
    let out = cli.out.clone().unwrap_or_else(|| root.clone());
    let specs = match &cli.spec {
        Some(spec) => vec![spec.clone()],
        None => find_specs(&root.join(SPEC_DIR))?,
    };
    if specs.is_empty() {
        anyhow::bail!("no spec found under {}; give one with --spec FILE", root.join(SPEC_DIR).display());
    }
    let mut code = ExitCode::SUCCESS;
    for spec in &specs {
        if process(spec, &out, check)? != ExitCode::SUCCESS {
            code = ExitCode::FAILURE;
        }
    }
    Ok(code)
}

/// Every `*.yaml` file under `dir`, sorted.
fn find_specs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry.with_context(|| format!("reading {}", dir.display()))?.path();
        if path.is_dir() {
            out.extend(find_specs(&path)?);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// Generates (or checks) one spec's crates under `out`.
fn process(spec: &Path, out: &Path, check: bool) -> Result<ExitCode> {
    let out = out.to_path_buf();
    let name = spec_name(spec, &out);
    let generated = smartag_codegen::load_file(spec, &name)
        .and_then(|api| Ok((smartag_codegen::generate(&api, &name)?, api.generation)));
    let (tree, generation) = match generated {
        Ok(g) => g,
        Err(GenerateError::Spec(diags)) => {
            eprintln!("{diags}");
            eprintln!("nothing was written; fix the spec and run `cargo xtask gen` again");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    let dirs = generation.dirs();
    if !check {
        let report = write_tree(&out, &tree, &dirs)?;
        println!(
            "generated {} files from {name} into {} ({} written, {} unchanged, {} stale removed)",
            tree.len(),
            out.display(),
            report.written,
            tree.len() - report.written,
            report.removed
        );
        return Ok(ExitCode::SUCCESS);
    }
    let problems = drift::compare(&out, &tree, &dirs)?;
    if problems.is_empty() {
        println!("generated code is up to date with {name} ({} files)", tree.len());
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        eprintln!(
            "{} generated file{} out of date with {name}: run `cargo xtask gen` and commit the result",
            problems.len(),
            if problems.len() == 1 { " is" } else { "s are" },
        );
        Ok(ExitCode::FAILURE)
    }
}

struct WriteReport {
    written: usize,
    removed: usize,
}

/// Writes every file that differs (each through a temporary file and a rename, so a reader
/// never sees half a file) and removes generated files the spec no longer produces.
fn write_tree(root: &Path, tree: &Tree, dirs: &[&str]) -> Result<WriteReport> {
    let mut written = 0;
    for (rel, text) in tree {
        let path = root.join(rel);
        if std::fs::read_to_string(&path).is_ok_and(|old| old == *text) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = path.with_extension("rs.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        written += 1;
    }
    let mut removed = 0;
    for rel in drift::existing_files(root, dirs)? {
        if !tree.contains_key(&rel) {
            let path = root.join(&rel);
            std::fs::remove_file(&path).with_context(|| format!("removing stale {}", path.display()))?;
            removed += 1;
        }
    }
    for dir in dirs {
        remove_empty_dirs(&root.join(dir));
    }
    Ok(WriteReport { written, removed })
}

fn remove_empty_dirs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            remove_empty_dirs(&p);
            let _ = std::fs::remove_dir(&p); // fails (and is meant to) when not empty
        }
    }
}
