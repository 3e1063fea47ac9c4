//! One client side of the bench's client rows, alone, against a server already running: a target
//! for `perf record` / `perf stat` when the client's per-call cost needs a profile.
//!
//! ```text
//! smartag-bench serve --side B --auth on          # prints `listening 127.0.0.1:PORT`
//! cargo run --release -p smartag-bench --example client_cost -- A|B 127.0.0.1:PORT [CONCURRENCY] [SECONDS] [v1|v3] [multi|current]
//! ```
//!
//! `A` is the generated client (signing every call), `B` raw reqwest with requests pre-signed
//! before the window. Prints the calls/s of a warm-up second and of the window, and the CPU time
//! this process spent per call in the window (user + system, from `/proc/self/stat`).

use std::time::Duration;

use anyhow::{Context, Result};
use smartag_bench::driver::{self, GeneratedCaller, RawCaller};
use smartag_bench::wire::{self, Signing};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let side = args.next().context("side: A or B")?;
    let addr = args.next().context("the server's address")?;
    let concurrency: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let seconds: f64 = args.next().map_or(Ok(5.0), |a| a.parse())?;
    let signing = match args.next().as_deref() {
        Some("v1") => Signing::V1,
        _ => Signing::V3,
    };
    // tokio's multi-threaded runtime (the default), or one thread doing everything.
    let runtime = match args.next().as_deref() {
        Some("current") => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        _ => tokio::runtime::Runtime::new()?,
    };
    runtime.block_on(async {
        let endpoint = format!("http://{addr}");
        let window = |s: f64| Duration::from_secs_f64(s);
        if side == "A" {
            let client = driver::generated_client_signing(&endpoint, signing)?;
            let callers: Vec<_> = (0..concurrency).map(|_| GeneratedCaller::new(client.clone())).collect();
            let (callers, warm) = driver::window(callers, window(1.0)).await?;
            let cpu = cpu_seconds();
            let (_, measured) = driver::window(callers, window(seconds)).await?;
            let per_call = (cpu_seconds() - cpu) * 1e6 / measured.calls() as f64;
            eprintln!("p50 {:.3} ms", measured.latency_ms(0.5));
            println!(
                "generated client: warm-up {:.0} calls/s, window {:.0} calls/s, {per_call:.1} µs CPU per call",
                warm.rate(),
                measured.rate()
            );
        } else {
            let http = driver::raw_http_client();
            let per_caller = (40_000.0 * (seconds + 1.0) / concurrency as f64) as usize + 100;
            let callers = (0..concurrency)
                .map(|_| Ok(RawCaller::new(http.clone(), wire::presigned_batch(&addr, signing, per_caller)?)))
                .collect::<Result<Vec<_>>>()?;
            let (callers, warm) = driver::window(callers, window(1.0)).await?;
            let cpu = cpu_seconds();
            let (_, measured) = driver::window(callers, window(seconds)).await?;
            let per_call = (cpu_seconds() - cpu) * 1e6 / measured.calls() as f64;
            eprintln!("p50 {:.3} ms", measured.latency_ms(0.5));
            println!(
                "raw reqwest: warm-up {:.0} calls/s, window {:.0} calls/s, {per_call:.1} µs CPU per call{}",
                warm.rate(),
                measured.rate(),
                if measured.ended_early { " (ran out of pre-signed requests)" } else { "" }
            );
        }
        Ok(())
    })
}

/// User + system CPU time of this process so far, seconds (`/proc/self/stat`, clock ticks of
/// 10 ms; 0 where there is no `/proc`).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}
