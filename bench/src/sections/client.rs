//! The client section: the generated client (A) against raw reqwest with pre-signed requests (B),
//! taking turns in short windows against one server child per row.

use anyhow::Result;
use smartag_bench::driver::{self, GeneratedCaller, RawCaller};
use smartag_bench::report::{ClientRow, Settings};
use smartag_bench::stats::Rounds;
use smartag_bench::wire::{self, Signing};
use smartag_bench::{Auth, Side};

use super::ab_rounds::{CONCURRENCY, FIRST_ESTIMATE, order, per_caller, progress, secs};
use super::server_process::Server;

/// The client rows: for each signature version and concurrency, the generated client (A) and raw
/// reqwest with pre-signed requests (B) against one fresh server process. Version 3 goes to side
/// B's server (the hand-written handler, which verifies version 3 only), version 1.0 to side A's
/// (the generated router, which verifies both).
///
/// # Errors
/// When a server cannot be started or a window fails.
pub async fn run(settings: &Settings) -> Result<Vec<ClientRow>> {
    let mut rows = Vec::new();
    for signing in [Signing::V3, Signing::V1] {
        for concurrency in CONCURRENCY {
            let server_side = match signing {
                Signing::V3 => Side::B,
                Signing::V1 => Side::A,
            };
            let server = Server::start(server_side, Auth::On)?;
            let what = format!("client {} c={concurrency}", signing.label());
            eprintln!("{what}: server {} (auth on) on {}", server_side.label(), server.addr);
            let rounds = client_row(&server, signing, concurrency, settings, &what).await?;
            rows.push(ClientRow { signing: signing.label(), server: server_side.label(), concurrency, rounds });
        }
    }
    Ok(rows)
}

/// One client row against `server`. Each side keeps its client (and its connections) for the
/// whole row and warms up once; then the two sides take turns in short windows (A B, B A, …), so
/// that each round's pair is measured under the same outside load and a load that changes during
/// the row shows in every pair alike.
async fn client_row(
    server: &Server,
    signing: Signing,
    concurrency: usize,
    settings: &Settings,
    what: &str,
) -> Result<Rounds> {
    let host = server.addr.to_string();
    let window = secs(settings.client_window_secs());
    let client = driver::generated_client_signing(&format!("http://{host}"), signing)?;
    let mut generated: Vec<GeneratedCaller> = (0..concurrency).map(|_| GeneratedCaller::new(client.clone())).collect();
    let http = driver::raw_http_client();
    let batch = |rate: f64, secs: f64| wire::presigned_batch(&host, signing, per_caller(rate, secs, concurrency));
    let mut estimate = FIRST_ESTIMATE;
    let mut raw = (0..concurrency)
        .map(|_| Ok(RawCaller::new(http.clone(), batch(estimate, settings.warmup_secs)?)))
        .collect::<Result<Vec<_>>>()?;
    (generated, _) = driver::window(generated, secs(settings.warmup_secs)).await?;
    let warm;
    (raw, warm) = driver::window(raw, secs(settings.warmup_secs)).await?;
    estimate = estimate.max(warm.rate());
    let mut rounds = Rounds::default();
    for round in 0..settings.client_rounds() {
        for side in order(round) {
            let sample = match side {
                Side::A => {
                    let measured;
                    (generated, measured) = driver::measure(generated, window, Some(server.pid())).await?;
                    measured.sample()
                }
                Side::B => {
                    for caller in &mut raw {
                        caller.presigned = batch(estimate, settings.client_window_secs())?;
                    }
                    let measured;
                    (raw, measured) = driver::measure(raw, window, Some(server.pid())).await?;
                    estimate = estimate.max(measured.rate());
                    measured.sample()
                }
            };
            progress(what, round, settings.client_rounds(), side.label(), &sample);
            match side {
                Side::A => rounds.a.push(sample),
                Side::B => rounds.b.push(sample),
            }
        }
    }
    Ok(rounds)
}
