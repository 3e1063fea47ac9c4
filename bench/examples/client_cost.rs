//! One client side of the bench's client rows, alone, against a server already running: a target
//! for `perf record` / `perf stat` when the client's per-call cost needs a profile.
//!
//! ```text
//! smartag-bench serve --side B --auth on          # prints `listening 127.0.0.1:PORT`
//! cargo run --release -p smartag-bench --example client_cost -- A|B 127.0.0.1:PORT [CONCURRENCY] [SECONDS|nCALLS] [v1|v3] [multi|current] [coldMB]
//! ```
//!
//! `A` is the generated client (signing every call), `B` raw reqwest with requests pre-signed
//! before the window. Prints the calls/s of a warm-up second and of the window, the CPU time
//! this process spent per call in the window (user + system, from `/proc/self/stat`), and the
//! allocations (and reallocations) per call in the window, a figure the noise of a shared
//! machine does not move.
//!
//! With `nCALLS` (`n2000`) instead of seconds, the window is a fixed number of calls (after a
//! fixed warm-up of 100 calls per caller): a deterministic target for
//! `valgrind --tool=callgrind`, whose instruction count per call is the difference of two runs
//! with different `nCALLS` divided by their difference (setup and warm-up cancel out).
//!
//! A last argument `coldMB` (`cold8`; with `nCALLS` and one caller, best on the `current`
//! runtime) evicts the caches before every call of the window: `evict_caches` writes one byte in
//! each 64-byte line of an `MB`-megabyte buffer. Run under cachegrind, the misses outside `evict_caches` are
//! the cache lines a call touches when it starts cold — what a lone caller pays on a host whose
//! other tenants evict the shared cache between its calls (`bench/notes/client.md`):
//!
//! ```text
//! valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 --cachegrind-out-file=cg.N \
//!     client_cost A|B ADDR 1 nN v3|v1 current cold8        # for N = 100 and 300
//! python3 bench/scripts/cold_lines.py cg.100 cg.300 200     # lines per call
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use smartag_bench::driver::{self, Caller, GeneratedCaller, RawCaller, Step};
use smartag_bench::wire::{self, Signing};

/// The system allocator, counting allocations (and reallocations).
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How long a window lasts: a time, or a number of calls.
#[derive(Clone, Copy)]
enum Length {
    Seconds(f64),
    Calls(usize),
}

/// Warm-up calls per caller of a fixed-count run.
const WARM_UP_CALLS: usize = 100;

/// Runs `callers` (one task each) until they have made `calls` calls between them; hands them
/// back with the calls made.
async fn fixed<C: Caller>(callers: Vec<C>, calls: usize) -> Result<(Vec<C>, usize)> {
    let count = callers.len();
    let tasks: Vec<_> = callers
        .into_iter()
        .enumerate()
        .map(|(i, mut caller)| {
            // The first callers make one call more when `calls` does not divide evenly.
            let mine = calls / count + usize::from(i < calls % count);
            tokio::spawn(async move {
                for _ in 0..mine {
                    if caller.call().await? == Step::Exhausted {
                        anyhow::bail!("ran out of pre-signed requests");
                    }
                }
                anyhow::Ok(caller)
            })
        })
        .collect();
    let mut callers = Vec::with_capacity(count);
    for task in tasks {
        callers.push(task.await.context("a caller task panicked")??);
    }
    Ok((callers, calls))
}

/// Warms up and measures `callers` for `length`; prints what the window cost per call.
async fn measure<C: Caller>(label: &str, callers: Vec<C>, length: Length) -> Result<()> {
    let concurrency = callers.len();
    let (warm, calls, seconds, cpu, allocations, p50) = match length {
        Length::Seconds(seconds) => {
            let (callers, warm) = driver::window(callers, Duration::from_secs(1)).await?;
            let (cpu, allocs) = (cpu_seconds(), ALLOCATIONS.load(Ordering::Relaxed));
            let (_, measured) = driver::window(callers, Duration::from_secs_f64(seconds)).await?;
            if measured.ended_early {
                eprintln!("(ran out of pre-signed requests)");
            }
            let cpu = cpu_seconds() - cpu;
            let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs;
            (
                warm.rate(),
                measured.calls(),
                measured.calls() as f64 / measured.rate(),
                cpu,
                allocs,
                measured.latency_ms(0.5),
            )
        }
        Length::Calls(calls) => {
            let (callers, _) = fixed(callers, WARM_UP_CALLS * concurrency).await?;
            let (cpu, allocs) = (cpu_seconds(), ALLOCATIONS.load(Ordering::Relaxed));
            let started = Instant::now();
            let (_, calls) = fixed(callers, calls).await?;
            let seconds = started.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu;
            let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs;
            (f64::NAN, calls, seconds, cpu, allocs, f64::NAN)
        }
    };
    let per_call = cpu * 1e6 / calls as f64;
    eprintln!("p50 {p50:.3} ms");
    println!(
        "{label}: warm-up {warm:.0} calls/s, window {:.0} calls/s, {per_call:.1} µs CPU per call, {:.1} allocations per call",
        calls as f64 / seconds,
        allocations as f64 / calls as f64,
    );
    Ok(())
}

/// Makes the window's calls one at a time, each after [`evict_caches`], and prints the median
/// time of a call (the eviction not counted).
async fn cold_calls<C: Caller>(label: &str, callers: Vec<C>, calls: usize, megabytes: usize) -> Result<()> {
    let (callers, _) = fixed(callers, WARM_UP_CALLS).await?;
    let mut caller = callers.into_iter().next().context("no caller")?;
    let mut buffer = vec![0u8; megabytes << 20];
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        evict_caches(&mut buffer);
        let started = Instant::now();
        if caller.call().await? == Step::Exhausted {
            anyhow::bail!("ran out of pre-signed requests");
        }
        times.push(started.elapsed());
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    println!(
        "{label}: caches evicted by {megabytes} MB before each call: median {:.1} µs per call",
        median.as_secs_f64() * 1e6
    );
    Ok(())
}

/// Writes one byte in every 64-byte line of `buffer`, evicting from the caches what was there
/// (a buffer larger than a cache level evicts all of it). Kept out of line, so that a
/// cachegrind profile can leave its own misses out by its name.
#[inline(never)]
fn evict_caches(buffer: &mut [u8]) {
    for byte in buffer.iter_mut().step_by(64) {
        *byte = byte.wrapping_add(1);
    }
    std::hint::black_box(buffer);
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let side = args.next().context("side: A or B")?;
    let addr = args.next().context("the server's address")?;
    let concurrency: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let length = match args.next() {
        Some(a) if a.starts_with('n') => Length::Calls(a[1..].parse().context("nCALLS")?),
        Some(a) => Length::Seconds(a.parse().context("SECONDS")?),
        None => Length::Seconds(5.0),
    };
    let signing = match args.next().as_deref() {
        Some("v1") => Signing::V1,
        _ => Signing::V3,
    };
    // tokio's multi-threaded runtime (the default), or one thread doing everything.
    let runtime = match args.next().as_deref() {
        Some("current") => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        _ => tokio::runtime::Runtime::new()?,
    };
    // `coldMB`: (the calls, the megabytes written before each).
    let cold = match args.next() {
        Some(a) => {
            let megabytes: usize = a.strip_prefix("cold").context("coldMB")?.parse().context("coldMB")?;
            let Length::Calls(calls) = length else { anyhow::bail!("coldMB needs a number of calls (nCALLS)") };
            anyhow::ensure!(concurrency == 1, "coldMB needs one caller");
            Some((calls, megabytes))
        }
        None => None,
    };
    runtime.block_on(async {
        if side == "A" {
            let client = driver::generated_client_signing(&format!("http://{addr}"), signing)?;
            let callers: Vec<_> = (0..concurrency).map(|_| GeneratedCaller::new(client.clone())).collect();
            match cold {
                Some((calls, megabytes)) => cold_calls("generated client", callers, calls, megabytes).await,
                None => measure("generated client", callers, length).await,
            }
        } else {
            let http = driver::raw_http_client();
            let calls = match length {
                Length::Seconds(seconds) => 40_000.0 * (seconds + 1.0),
                Length::Calls(calls) => (calls + WARM_UP_CALLS * concurrency) as f64,
            };
            let per_caller = (calls / concurrency as f64) as usize + 100;
            let callers = (0..concurrency)
                .map(|_| Ok(RawCaller::new(http.clone(), wire::presigned_batch(&addr, signing, per_caller)?)))
                .collect::<Result<Vec<_>>>()?;
            match cold {
                Some((calls, megabytes)) => cold_calls("raw reqwest", callers, calls, megabytes).await,
                None => measure("raw reqwest", callers, length).await,
            }
        }
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
