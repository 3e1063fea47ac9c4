//! Generates the synthetic spec of `N` operations (default 300) in-process, `RUNS` times (default
//! 3), printing each run's time: a target for `perf record` when the generator's scaling needs a
//! profile.
//!
//! ```text
//! cargo run --release -p smartag-bench --example generate_synthetic -- 300 3
//! ```

use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let operations: usize = args.next().map_or(Ok(300), |a| a.parse())?;
    let runs: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = smartag_bench::generator_scaling::synthetic_spec(&root, operations)?;
    for _ in 0..runs {
        let t = Instant::now();
        let api = smartag_codegen::load_str(&spec, "synthetic.yaml").map_err(|d| anyhow::anyhow!("{d}"))?;
        let loaded = t.elapsed();
        let tree = smartag_codegen::generate(&api, "synthetic.yaml").map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("{operations} operations: load {loaded:.1?}, total {:.1?}, {} files", t.elapsed(), tree.len());
    }
    Ok(())
}
