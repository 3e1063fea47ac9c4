//! How the generator and the generated crates grow with the number of operations: synthetic specs
//! of 3, 30 and 300 operations (the project's three, repeated under new names), each generated
//! in-process (timed), counted, written as a workspace of its own and `cargo check`ed.
//!
//! The check uses one target directory for every size, warmed first (the dependencies, the
//! runtime included, are checked once before any timing), so each timing is the generated crates'
//! own check time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The sizes measured, in operations.
pub const SIZES: [usize; 3] = [3, 30, 300];

/// One size's figures.
#[derive(Debug, Clone)]
pub struct ScalingRow {
    /// Operations in the spec.
    pub operations: usize,
    /// Load + resolve + generate, milliseconds, per run.
    pub generate_ms: Vec<f64>,
    /// Lines generated.
    pub lines: usize,
    /// Files generated.
    pub files: usize,
    /// `cargo check` of the generated crates, seconds (dependencies already checked).
    pub check_secs: f64,
}

/// The project's spec with its operations repeated to `operations` in all (`Name`, `Name2`,
/// `Name3`, ...), as YAML text.
///
/// # Errors
/// When the spec cannot be read or has no operations.
pub fn synthetic_spec(root: &Path, operations: usize) -> Result<String> {
    let path = root.join("spec/smartag.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut spec: serde_yaml::Value = serde_yaml::from_str(&text).context("parsing the spec")?;
    let ops = spec
        .get("operations")
        .and_then(serde_yaml::Value::as_sequence)
        .filter(|ops| !ops.is_empty())
        .cloned()
        .context("the spec has no operations")?;
    let mut repeated = Vec::with_capacity(operations);
    for i in 0..operations {
        let mut op = ops[i % ops.len()].clone();
        let copy = i / ops.len();
        if copy > 0 {
            let name = op.get("name").and_then(serde_yaml::Value::as_str).context("an operation without a name")?;
            let renamed = format!("{name}{}", copy + 1);
            if let Some(map) = op.as_mapping_mut() {
                map.insert("name".into(), renamed.into());
            }
        }
        repeated.push(op);
    }
    if let Some(map) = spec.as_mapping_mut() {
        map.insert("operations".into(), serde_yaml::Value::Sequence(repeated));
    }
    serde_yaml::to_string(&spec).context("writing the synthetic spec")
}

/// Measures every size of [`SIZES`], generating each `runs` times; `scratch` holds the
/// workspaces and the shared target directory.
///
/// # Errors
/// When a spec does not generate, or a check fails.
pub fn measure(root: &Path, scratch: &Path, runs: usize) -> Result<Vec<ScalingRow>> {
    let target = scratch.join("target");
    let mut rows = Vec::new();
    for (index, &operations) in SIZES.iter().enumerate() {
        let spec = synthetic_spec(root, operations)?;
        let name = format!("synthetic-{operations}.yaml");
        let mut generate_ms = Vec::with_capacity(runs);
        let mut tree = None;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let api = smartag_codegen::load_str(&spec, &name).map_err(|d| anyhow::anyhow!("{d}"))?;
            let generated = smartag_codegen::generate(&api, &name).map_err(|e| anyhow::anyhow!("{e}"))?;
            generate_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            tree = Some(generated);
        }
        let tree = tree.context("no generator run")?;
        let ws = scratch.join(format!("ops-{operations}"));
        write_workspace(root, &ws, &tree)?;
        if index == 0 {
            // Warm the target directory: every dependency checked before anything is timed.
            cargo_check(&ws, &target)?;
            touch_sources(&ws, &tree)?;
        }
        let t = Instant::now();
        cargo_check(&ws, &target)?;
        let check_secs = t.elapsed().as_secs_f64();
        let lines = tree.values().map(|text| text.lines().count()).sum();
        eprintln!(
            "generator scaling: {operations} operations: generate {generate_ms:.1?} ms, {lines} lines, cargo check \
             {check_secs:.1} s"
        );
        rows.push(ScalingRow { operations, generate_ms, lines, files: tree.len(), check_secs });
    }
    Ok(rows)
}

/// Writes `tree` under `ws` with the workspace's own manifests of the generated crates (path
/// dependencies on the runtime made absolute, dev-dependencies dropped) and its lock file.
fn write_workspace(root: &Path, ws: &Path, tree: &smartag_codegen::Tree) -> Result<()> {
    let _ = std::fs::remove_dir_all(ws);
    let crates: std::collections::BTreeSet<PathBuf> =
        tree.keys().filter_map(|rel| Path::new(rel).parent()).filter_map(crate_dir).collect();
    let real = std::fs::read_to_string(root.join("Cargo.toml")).context("the workspace manifest")?;
    let deps = real.split("[workspace.dependencies]").nth(1).context("no [workspace.dependencies]")?;
    let deps = deps.split("\n[profile").next().unwrap_or(deps);
    // The workspace's own package settings, which the crates' manifests inherit.
    let package = real
        .split("[workspace.package]")
        .nth(1)
        .and_then(|rest| rest.split("[workspace.dependencies]").next())
        .context("no [workspace.package]")?;
    let members: Vec<String> = crates.iter().map(|c| format!("{:?}", c.display().to_string())).collect();
    std::fs::create_dir_all(ws).with_context(|| format!("creating {}", ws.display()))?;
    std::fs::write(
        ws.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n[workspace.package]{package}[workspace.dependencies]{deps}",
            members.join(", ")
        ),
    )
    .context("writing the manifest")?;
    std::fs::copy(root.join("Cargo.lock"), ws.join("Cargo.lock")).context("copying Cargo.lock")?;
    for krate in &crates {
        let manifest = root.join(krate).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
        let text = text.split("[dev-dependencies]").next().unwrap_or(&text);
        let text = absolute_paths(text, root, krate, &crates);
        let mut text = text.split("\n[lib]").next().unwrap_or(&text).to_owned();
        if tree.contains_key(&format!("{}/src/lib.rs", krate.display())) {
            text.push_str("\n[lib]\npath = \"src/lib.rs\"\n");
        }
        let dir = ws.join(krate);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("Cargo.toml"), text).context("writing a crate manifest")?;
    }
    for (rel, text) in tree {
        let path = ws.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `text` (a manifest of crate `krate`) with every `path = "…"` dependency that is not one of the
/// generated `crates` made absolute (into the workspace at `root`: the runtime, the CLI runtime).
fn absolute_paths(text: &str, root: &Path, krate: &Path, crates: &std::collections::BTreeSet<PathBuf>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("path = \"") {
        let (before, after) = rest.split_at(at + "path = \"".len());
        out.push_str(before);
        let Some(end) = after.find('"') else { break };
        let relative = &after[..end];
        let target = normalize(&krate.join(relative));
        if crates.contains(&target) || relative.starts_with("src") {
            out.push_str(relative);
        } else {
            out.push_str(&root.join(&target).display().to_string());
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// `path` with its `..` components applied (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The crate directory of a generated file's folder: the part before its `src`.
fn crate_dir(folder: &Path) -> Option<PathBuf> {
    let mut dir = folder;
    while dir.file_name()? != "src" {
        dir = dir.parent()?;
    }
    dir.parent().map(Path::to_path_buf)
}

/// Rewrites the generated files so the next check checks them again.
fn touch_sources(ws: &Path, tree: &smartag_codegen::Tree) -> Result<()> {
    std::thread::sleep(std::time::Duration::from_millis(1100));
    for (rel, text) in tree {
        std::fs::write(ws.join(rel), text).context("rewriting a generated file")?;
    }
    Ok(())
}

fn cargo_check(ws: &Path, target: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--workspace"])
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .context("running cargo check")?;
    if !out.status.success() {
        bail!("cargo check of {} failed:\n{}", ws.display(), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}
