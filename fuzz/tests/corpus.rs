//! The fuzz target in `cargo test`: every corpus entry (each failure ever found is committed there
//! as a regression input), then a bounded campaign with a fixed seed.

use smartag_fuzz::{Harness, corpus, generate, mutate, rng, run_caught};

#[test]
fn corpus_entries_pass() {
    let harness = Harness::new();
    let entries = corpus(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus")));
    assert!(!entries.is_empty(), "the corpus is empty");
    for (path, input) in entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        match run_caught(&harness, &input) {
            // Entries named `ok-…` are requests that must succeed: they keep the mutations deep.
            Ok(status) => assert!(!name.starts_with("ok-") || status == 200, "{name}: status {status}"),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}

/// A bounded, deterministic campaign (`SMARTAG_FUZZ_ITERATIONS` overrides the count): random
/// inputs and mutations of the corpus.
#[test]
fn bounded_campaign() {
    let iterations: usize = std::env::var("SMARTAG_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let harness = Harness::new();
    let entries = corpus(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus")));
    let mut random = rng(0x5eed);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for i in 0..iterations {
        let input = match entries.get(i % (entries.len() + 1)) {
            Some((_, base)) => {
                let mut input = base.clone();
                mutate(&mut random, &mut input);
                input
            }
            None => generate(&mut random),
        };
        match run_caught(&harness, &input) {
            Ok(status) => *statuses.entry(status).or_default() += 1,
            Err(e) => panic!("iteration {i}: {e}\ninput: {input:?}"),
        }
    }
    // The campaign reaches the operations (some answers succeed) as well as the refusals.
    assert!(statuses.get(&200).is_some_and(|&n| n > iterations / 100), "too few successes: {statuses:?}");
    assert!(statuses.keys().filter(|s| (400..500).contains(*s)).count() >= 2, "{statuses:?}");
}
