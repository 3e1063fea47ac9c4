//! The code generator: loads a spec, checks it (every problem at once, each at
//! `file:line:column`), resolves it into the IR, and emits the generated crates' sources.
//!
//! Three stages, each reading only the one before:
//!
//! ```text
//! spec.yaml → raw (serde_yaml, unknown keys rejected)
//!           → ir (checked, resolved, every Rust name decided once)
//!           → emit (quote, reads the IR only) → render (prettyplease)
//! ```
//!
//! [`generate`] does it all in memory; `cargo xtask gen` writes the result and `cargo xtask
//! check` compares it with the committed tree. Output is deterministic: the same spec gives the
//! same bytes (every collection the emitters walk is in spec order).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod diagnostics;
pub mod emit;
pub mod ir;
mod load;
mod raw;
pub mod render;
mod source_map;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use diagnostics::{Diagnostic, Diagnostics};

/// A generated tree: path relative to the output directory → file contents. Sorted, so
/// iteration order is deterministic. The directories it fills are the spec's
/// `generation.output` ([`ir::Generation::dirs`]), each owned entirely by the generator.
pub type Tree = BTreeMap<String, String>;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The spec file could not be read.
    #[error("cannot read the spec {path}: {source}")]
    Read {
        /// The spec path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The spec has problems; all of them are listed.
    #[error("{0}")]
    Spec(Diagnostics),
    /// An emitter produced code that does not parse (a generator bug, not a spec problem).
    #[error("{0}")]
    Emit(String),
}

/// Reads and resolves a spec file into the IR.
///
/// # Errors
/// [`GenerateError::Read`] or every problem of the spec as [`GenerateError::Spec`].
pub fn load_file(path: &Path, display_name: &str) -> Result<ir::Api, GenerateError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| GenerateError::Read { path: display_name.to_string(), source })?;
    load_str(&text, display_name).map_err(GenerateError::Spec)
}

/// Resolves spec text (named `file` in diagnostics) into the IR.
///
/// # Errors
/// Every problem of the spec, in file order.
pub fn load_str(text: &str, file: &str) -> Result<ir::Api, Diagnostics> {
    let (raw, map) = load::parse(text, file)?;
    ir::resolve(raw, file, &map)
}

/// Generates every file from the IR. `spec_name` is the spec path named in headers.
///
/// # Errors
/// [`GenerateError::Emit`] if an emitter produced invalid Rust (a generator bug).
pub fn generate(api: &ir::Api, spec_name: &str) -> Result<Tree, GenerateError> {
    // Files are independent: each thread takes the next file not yet taken, emits, tidies and
    // prints it (token streams are not `Send`, so each stays on the thread that made it). The
    // largest files come first, so the threads finish together.
    let jobs = jobs(api);
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).clamp(1, 8);
    let threads = threads.min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || -> Result<Tree, GenerateError> {
        let mut tree = Tree::new();
        while let Some(&(krate, file)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            generate_file(api, spec_name, krate, file, &mut tree)?;
        }
        Ok(tree)
    };
    let parts: Vec<Result<Tree, GenerateError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut parts = vec![work()];
        parts.extend(workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))));
        parts
    });
    let mut tree = Tree::new();
    for part in parts {
        tree.extend(part?);
    }
    Ok(tree)
}

/// A generated crate.
#[derive(Debug, Clone, Copy)]
enum Crate {
    Model,
    Client,
    Server,
    Cli,
}

/// Every file to generate, as (crate, file number in its emitter's order): each crate's one
/// file (the largest: a table or a trait of every operation) first, then the model's.
fn jobs(api: &ir::Api) -> Vec<(Crate, usize)> {
    let mut jobs = Vec::with_capacity(emit::model::FIXED_FILES + api.operations.len() + 3);
    if api.generation.cli_dir.is_some() {
        jobs.push((Crate::Cli, 0));
    }
    jobs.extend([(Crate::Client, 0), (Crate::Server, 0)]);
    jobs.extend((0..emit::model::FIXED_FILES + api.operations.len()).map(|i| (Crate::Model, i)));
    jobs
}

/// Emits file `file` of `krate` (if the emitter makes one) into `tree`.
fn generate_file(
    api: &ir::Api,
    spec_name: &str,
    krate: Crate,
    file: usize,
    tree: &mut Tree,
) -> Result<(), GenerateError> {
    let g = &api.generation;
    let roots = [
        emit::imports::RUNTIME,
        emit::imports::MODEL,
        emit::imports::CLI,
        "core",
        "std",
        "serde",
        "futures",
        "axum",
        "thiserror",
    ];
    let rename = [
        (emit::imports::RUNTIME, g.runtime_crate.as_str()),
        (emit::imports::MODEL, g.model_crate.as_str()),
        (emit::imports::CLI, g.cli_runtime_crate.as_str()),
    ];
    let part = emit::Part::one(file);
    let (dir, files) = match (krate, &g.cli_dir) {
        (Crate::Model, _) => (&g.model_dir, emit::model::files(api, part)),
        (Crate::Client, _) => (&g.client_dir, emit::client::files(api, part)),
        (Crate::Server, _) => (&g.server_dir, emit::server::files(api, part)),
        (Crate::Cli, Some(dir)) => (dir, emit::cli::files(api, part)),
        (Crate::Cli, None) => return Ok(()),
    };
    let prov = render::Provenance { spec: spec_name };
    for (name, tokens) in files {
        let path = format!("{dir}/{name}");
        let tokens = emit::imports::tidy(tokens, &roots, &rename);
        let text = render::render(tokens, &path, &prov).map_err(GenerateError::Emit)?;
        tree.insert(path, text);
    }
    Ok(())
}

/// Loads `spec_path` and generates every file.
///
/// # Errors
/// See [`load_file`] and [`generate`].
pub fn generate_from_file(spec_path: &Path, spec_name: &str) -> Result<Tree, GenerateError> {
    let api = load_file(spec_path, spec_name)?;
    generate(&api, spec_name)
}

/// The header every generated file starts with; tools recognise generated files by it.
pub const GENERATED_MARKER: &str = "// @generated";
