//! Inputs for a campaign: random ones, mutations of others, and the corpus on disk.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// A random input.
pub fn generate(rng: &mut StdRng) -> Vec<u8> {
    let len = match rng.random_range(0..10) {
        0 => rng.random_range(0..4000),
        _ => rng.random_range(0..120),
    };
    let mut bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
    // Favour the structured, signed modes: they reach validation.
    if let Some(first) = bytes.first_mut() {
        *first = rng.random_range(0..8) % 4;
    }
    bytes
}

/// `input` mutated: bytes flipped, replaced, inserted, removed, or a slice duplicated.
pub fn mutate(rng: &mut StdRng, input: &mut Vec<u8>) {
    for _ in 0..rng.random_range(1..5) {
        if input.is_empty() {
            input.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..input.len());
        match rng.random_range(0..5) {
            0 => input[at] ^= 1 << rng.random_range(0..8),
            1 => input[at] = rng.random(),
            2 => input.insert(at, rng.random()),
            3 => {
                input.remove(at);
            }
            _ => {
                let end = (at + rng.random_range(1..16)).min(input.len());
                let slice = input[at..end].to_vec();
                input.splice(at..at, slice);
            }
        }
    }
}

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Every file of `dir` (sorted by name) with its bytes; an absent folder is an empty corpus.
pub fn corpus(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect();
    out.sort();
    out
}
