//! The generator section: the generator's time on the project's spec, and how it and the generated
//! crates grow to 30 and 300 operations.

use std::fmt::Write as _;

use super::cells::spread;
use crate::generator_scaling::ScalingRow;
use crate::stats::Spread;

/// The generator's timing.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Each run (load + resolve + generate), milliseconds.
    pub runs_ms: Vec<f64>,
    /// Files generated.
    pub files: usize,
    /// Lines generated.
    pub lines: usize,
    /// Operations in the spec.
    pub operations: usize,
}

/// The generator section's heading and its one paragraph: runs, time, files and lines.
pub(super) fn render_generator(out: &mut String, g: &Generator) {
    let _ = writeln!(out, "## Generator\n");
    let _ = writeln!(
        out,
        "`smartag_codegen::load_file` + `generate` for `spec/smartag.yaml` in-process (what `cargo xtask gen` \
         does before writing), release build, {} runs: **{} ms** (median, min–max) for {} operations → {} \
         files, {} lines.\n",
        g.runs_ms.len(),
        spread(Spread::of(g.runs_ms.iter().copied()), 1),
        g.operations,
        g.files,
        g.lines
    );
}

/// The generator-scaling table: per size, generation and `cargo check` time, files and lines.
pub(super) fn render_scaling(out: &mut String, rows: &[ScalingRow]) {
    let _ = writeln!(out, "### Generator scaling\n");
    let _ = writeln!(
        out,
        "Synthetic specs: the project's three operations repeated under new names to 3, 30 and 300 operations. \
         *generate* is load + resolve + generate in-process (release build; median, min–max); *cargo check* \
         is `cargo check --workspace` of the generated crates (model, client, server, command line) in a workspace of \
         their own, with every dependency already checked in the same target directory, so it is the \
         generated code's own check time. *per operation* divides by the operations.\n"
    );
    let _ = writeln!(
        out,
        "| operations | generate ms | per operation ms | files | lines | lines per operation | cargo check s | \
         check per operation s |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let generate = Spread::of(row.generate_ms.iter().copied());
        let ops = row.operations.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {} | {} | {:.0} | {:.1} | {:.3} |",
            row.operations,
            spread(generate, 1),
            generate.map_or(0.0, |g| g.median / ops),
            row.files,
            row.lines,
            row.lines as f64 / ops,
            row.check_secs,
            row.check_secs / ops,
        );
    }
    let _ = writeln!(out);
}
