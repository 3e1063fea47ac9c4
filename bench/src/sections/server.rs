//! The server section: the generated router (A) against the hand-written axum handler (B), each
//! in a child process of its own, loaded by the hyper driver from this process.

use std::collections::HashMap;

use anyhow::Result;
use smartag_bench::driver::{self, HyperCaller, Pool};
use smartag_bench::report::{ServerRow, Settings};
use smartag_bench::stats::{Rounds, Sample};
use smartag_bench::{Auth, Side, wire};

use super::ab_rounds::{CONCURRENCY, FIRST_ESTIMATE, order, per_caller, progress, secs};
use super::server_process::Server;

/// The server rows: for authentication off and on and each concurrency, the generated router (A)
/// and the hand-written handler (B), each in a fresh server process, checked to answer alike, then
/// measured in alternating rounds.
///
/// # Errors
/// When a server cannot be started, the two answer differently, or a window fails.
pub async fn run(settings: &Settings) -> Result<Vec<ServerRow>> {
    let mut rows = Vec::new();
    let mut estimates: HashMap<(Side, usize), f64> = HashMap::new();
    for auth in [Auth::Off, Auth::On] {
        for concurrency in CONCURRENCY {
            // Fresh processes per row: the nonce memories start empty in every row.
            let a = Server::start(Side::A, auth)?;
            let b = Server::start(Side::B, auth)?;
            smartag_bench::check_same_answers(a.addr, b.addr, auth).await?;
            let what = format!("server auth {} c={concurrency}", auth.label());
            eprintln!("{what}: A on {}, B on {}", a.addr, b.addr);
            let mut rounds = Rounds::default();
            for round in 0..settings.rounds {
                for side in order(round) {
                    let server = if side == Side::A { &a } else { &b };
                    let estimate = estimates.entry((side, concurrency)).or_insert(FIRST_ESTIMATE);
                    let sample = server_window(server, auth, concurrency, settings, estimate).await?;
                    progress(&what, round, settings.rounds, side.label(), &sample);
                    match side {
                        Side::A => rounds.a.push(sample),
                        Side::B => rounds.b.push(sample),
                    }
                }
            }
            rows.push(ServerRow { auth, concurrency, rounds });
        }
    }
    Ok(rows)
}

/// The pools of `concurrency` callers for `duration` seconds at `rate`.
fn pools(host: &str, auth: Auth, rate: f64, duration: f64, concurrency: usize) -> Result<Vec<Pool>> {
    (0..concurrency)
        .map(|_| match auth {
            Auth::Off => wire::unsigned_headers(host).map(Pool::reuse),
            Auth::On => wire::signed_batch(host, per_caller(rate, duration, concurrency)).map(Pool::once_each),
        })
        .collect()
}

/// Warm-up then one timed window against `addr` with `concurrency` connections.
async fn server_window(
    server: &Server,
    auth: Auth,
    concurrency: usize,
    settings: &Settings,
    estimate: &mut f64,
) -> Result<Sample> {
    let (addr, server_pid) = (server.addr, server.pid());
    let host = addr.to_string();
    let path = wire::path_and_query();
    let mut callers = Vec::with_capacity(concurrency);
    for pool in pools(&host, auth, *estimate, settings.warmup_secs, concurrency)? {
        callers.push(HyperCaller::connect(addr, &path, pool).await?);
    }
    let refill = |callers: &mut [HyperCaller], rate: f64| {
        *estimate = estimate.max(rate);
        for (caller, pool) in callers.iter_mut().zip(pools(&host, auth, *estimate, settings.window_secs, concurrency)?)
        {
            caller.pool = pool;
        }
        Ok(())
    };
    let measured = driver::warm_and_measure(
        callers,
        secs(settings.warmup_secs),
        secs(settings.window_secs),
        Some(server_pid),
        refill,
    )
    .await?;
    *estimate = estimate.max(measured.rate());
    Ok(measured.sample())
}
