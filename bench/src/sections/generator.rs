//! The generator section: the generator's scaling to 3, 30 and 300 operations (generated and
//! `cargo check`ed in a scratch workspace), then its time on the workspace's spec.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use smartag_bench::generator_scaling::{self, ScalingRow};
use smartag_bench::report::Generator;

/// Measures the section in the workspace at `root`: the scaling rows, then the generator's time,
/// `runs` runs of each.
///
/// # Errors
/// When the spec cannot be loaded or generated, or a synthetic workspace does not check.
pub fn run(root: &Path, runs: usize) -> Result<(Generator, Vec<ScalingRow>)> {
    let scratch = root.join("target/bench-generator-scaling");
    let scaling = generator_scaling::measure(root, &scratch, runs)?;
    Ok((time(root, runs)?, scaling))
}

/// Times the generator on the workspace's spec, `runs` times.
fn time(root: &Path, runs: usize) -> Result<Generator> {
    let spec = root.join("spec/smartag.yaml");
    let name = "spec/smartag.yaml";
    let mut runs_ms = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let api = smartag_codegen::load_file(&spec, name).context("loading the spec")?;
        let tree = smartag_codegen::generate(&api, name).context("generating")?;
        runs_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        last = Some((api.operations.len(), tree));
    }
    let (operations, tree) = last.context("no generator run")?;
    eprintln!("generator: {runs_ms:.1?} ms");
    Ok(Generator {
        runs_ms,
        files: tree.len(),
        lines: tree.values().map(|text| text.lines().count()).sum(),
        operations,
    })
}
