//! The fuzz driver: replays a corpus, then runs seeded random and mutated inputs through
//! [`smartag_fuzz::Harness`]. Deterministic for a given seed, corpus and iteration count.
//!
//! ```text
//! cargo run --release -p smartag-fuzz -- [--seed N] [--iterations N] [--corpus DIR] [--artifacts DIR]
//! ```
//!
//! A failing input is written to the artifacts folder (default `fuzz/artifacts`) as
//! `crash-<seed>-<iteration>`, the failure printed, and the exit status is 1. Copy it into
//! `fuzz/corpus/` to make it a regression test (`cargo test -p smartag-fuzz` replays the corpus).

use std::path::PathBuf;
use std::process::ExitCode;

use smartag_fuzz::{Harness, generate, mutate, rng, run_caught};

fn main() -> ExitCode {
    let mut seed: u64 = 0;
    let mut iterations: u64 = 100_000;
    let mut corpus = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"));
    let mut artifacts = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts"));
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--seed", Some(v)) if v.parse::<u64>().is_ok() => seed = v.parse().unwrap_or_default(),
            ("--iterations", Some(v)) if v.parse::<u64>().is_ok() => iterations = v.parse().unwrap_or_default(),
            ("--corpus", Some(v)) => corpus = v.into(),
            ("--artifacts", Some(v)) => artifacts = v.into(),
            _ => {
                eprintln!("usage: smartag-fuzz [--seed N] [--iterations N] [--corpus DIR] [--artifacts DIR]");
                return ExitCode::from(2);
            }
        }
    }
    std::panic::set_hook(Box::new(|_| {})); // failures are reported below, with their input
    let harness = Harness::new();
    let seeds = smartag_fuzz::corpus(&corpus);
    for (path, input) in &seeds {
        if let Err(e) = run_caught(&harness, input) {
            eprintln!("corpus entry {} fails: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    let mut random = rng(seed);
    for i in 0..iterations {
        let input = match seeds.get(usize::try_from(i).unwrap_or(0) % (seeds.len() + 1)) {
            Some((_, base)) => {
                let mut input = base.clone();
                mutate(&mut random, &mut input);
                input
            }
            None => generate(&mut random),
        };
        if let Err(e) = run_caught(&harness, &input) {
            let _ = std::fs::create_dir_all(&artifacts);
            let path = artifacts.join(format!("crash-{seed}-{i}"));
            let saved = std::fs::write(&path, &input).is_ok();
            eprintln!("iteration {i} (seed {seed}) fails: {e}");
            if saved {
                eprintln!("input written to {}", path.display());
            }
            return ExitCode::FAILURE;
        }
        if (i + 1) % 10_000 == 0 {
            eprintln!("{} inputs, no failure", i + 1);
        }
    }
    println!("smartag-fuzz: {} corpus entries and {iterations} inputs (seed {seed}): no failure", seeds.len());
    ExitCode::SUCCESS
}
