//! One server of the bench's server rows, loaded with a fixed number of requests: what the server
//! process spent on them (CPU time, context switches of all its threads), next to the wall-clock
//! rate and median the driver saw. A target for `perf` or callgrind on the server process, where
//! the in-process `pipeline_cost` cannot see the multi-threaded runtime (wakeups, timers, parking).
//!
//! ```text
//! smartag-bench serve --side A --auth on          # prints `listening 127.0.0.1:PORT`
//! cargo run --release -p smartag-bench --example server_cost -- 127.0.0.1:PORT PID on [REQUESTS] [CONCURRENCY]
//! ```
//!
//! `PID` is the server's process id (its `/proc` is read before and after); the requests are
//! signed (auth `on`, a nonce each) or not (`off`) before the window.

use std::time::Duration;

use anyhow::{Context, Result};
use smartag_bench::driver::{self, HyperCaller, Pool};
use smartag_bench::wire;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let addr: std::net::SocketAddr = args.next().context("the server's address")?.parse()?;
    let pid: u32 = args.next().context("the server's pid")?.parse()?;
    let auth_on = args.next().as_deref() == Some("on");
    let requests: usize = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let host = addr.to_string();
        let path = wire::path_and_query();
        let pool = |n: usize| -> Result<Pool> {
            Ok(if auth_on { Pool::once_each(wire::signed_batch(&host, n)?) } else { Pool::reuse(wire::unsigned_headers(&host)?) })
        };
        // Warm-up: 500 requests per caller.
        let mut callers = Vec::new();
        for _ in 0..concurrency {
            callers.push(HyperCaller::connect(addr, &path, pool(500)?).await?);
        }
        let (mut callers, _) = driver::window(callers, Duration::from_secs(if auth_on { 600 } else { 1 })).await?;
        for caller in &mut callers {
            caller.pool = pool(requests / concurrency)?;
        }
        let before = server_counters(pid);
        let window = if auth_on { 600.0 } else { requests as f64 / 10_000.0 };
        let (_, measured) = driver::window(callers, Duration::from_secs_f64(window)).await?;
        let after = server_counters(pid);
        let n = measured.calls() as f64;
        println!(
            "{} calls, {:.0} calls/s, p50 {:.3} ms; server: {:.1} µs CPU/call, {:.2} voluntary + {:.2} involuntary context switches/call, {:.2} minor page faults/call",
            measured.calls(),
            measured.rate(),
            measured.latency_ms(0.5),
            (after.cpu_seconds - before.cpu_seconds) * 1e6 / n,
            (after.voluntary - before.voluntary) / n,
            (after.involuntary - before.involuntary) / n,
            (after.minor_faults - before.minor_faults) / n,
        );
        Ok(())
    })
}

struct Counters {
    cpu_seconds: f64,
    minor_faults: f64,
    voluntary: f64,
    involuntary: f64,
}

/// CPU time of process `pid` and the context switches of all its threads.
fn server_counters(pid: u32) -> Counters {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    let cpu_seconds = (ticks(11) + ticks(12)) / 100.0;
    let minor_faults = ticks(7);
    let (mut voluntary, mut involuntary) = (0.0, 0.0);
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
            for line in status.lines() {
                let value = |l: &str| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
                if line.starts_with("voluntary_ctxt_switches") {
                    voluntary += value(line);
                } else if line.starts_with("nonvoluntary_ctxt_switches") {
                    involuntary += value(line);
                }
            }
        }
    }
    Counters { cpu_seconds, minor_faults, voluntary, involuntary }
}
