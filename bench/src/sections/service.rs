//! The service-scaling section: fixtures, one service child per size, the HTTP rows, then the
//! in-process baselines.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use smartag_bench::driver;
use smartag_bench::report::{ServiceReport, ServiceRow, Settings, WIDE_CALLERS};
use smartag_bench::service::{self, CALLERS, Op, OpCaller, SIZES};
use smartag_service::store::Store;

/// At most this many rounds per service row (the section must fit the whole run's budget).
const MAX_ROUNDS: usize = 3;
/// At most this long a window, seconds.
const MAX_WINDOW_SECS: f64 = 2.0;
/// At most this long a warm-up, seconds.
const MAX_WARMUP_SECS: f64 = 0.5;
/// At most this long a window of an in-process baseline, seconds (they run thousands of
/// operations a second, or tens of argon2 hashes on every core: one second is plenty).
const MAX_BASELINE_WINDOW_SECS: f64 = 1.0;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.context("a blocking task panicked")?
}

/// Measures the section; `spawn` starts this binary with the given arguments and returns the
/// address it listens on and a guard that stops it when dropped.
pub async fn run<G>(settings: &Settings, spawn: impl Fn(&[&str]) -> Result<(SocketAddr, G)>) -> Result<ServiceReport> {
    let rounds = settings.rounds.clamp(1, MAX_ROUNDS);
    let window = Duration::from_secs_f64(settings.window_secs.min(MAX_WINDOW_SECS));
    let warmup = Duration::from_secs_f64(settings.warmup_secs.min(MAX_WARMUP_SECS));
    let dir = tempfile::tempdir().context("a temporary folder for the fixtures")?;
    let config = dir.path().join("service.toml");
    std::fs::write(&config, service::config_toml()).context("writing the service configuration")?;

    let mut fill_secs = Vec::new();
    for size in SIZES {
        let path = service::fixture_path(dir.path(), size);
        std::fs::create_dir_all(path.parent().context("fixture folder")?).context("creating a fixture folder")?;
        let started = Instant::now();
        let fill_path = path.clone();
        blocking(move || service::fill(&fill_path, size)).await?;
        fill_secs.push(started.elapsed().as_secs_f64());
        eprintln!("service: {size} users filled in {:.1} s", started.elapsed().as_secs_f64());
    }

    let mut servers = Vec::new();
    for size in SIZES {
        let data = service::fixture_path(dir.path(), size);
        let (data, config) = (data.display().to_string(), config.display().to_string());
        servers.push(spawn(&["serve-service", "--data", &data, "--config", &config])?);
    }
    let mut rows = Vec::new();
    for op in Op::ALL {
        let mut per_size = vec![Vec::new(); SIZES.len()];
        for round in 0..rounds {
            for k in 0..SIZES.len() {
                let index = (k + round) % SIZES.len();
                let (addr, size) = (servers[index].0, SIZES[index]);
                let mut callers = Vec::with_capacity(CALLERS);
                for caller in 0..CALLERS {
                    callers.push(OpCaller::connect(addr, op, size, caller).await?);
                }
                let (callers, _) = driver::window(callers, warmup).await?;
                let (_, measured) = driver::window(callers, window).await?;
                let sample = measured.sample();
                eprintln!(
                    "  service {} round {}/{rounds} {size} users: {:>8.1} /s  p50 {:.3} ms  p99 {:.3} ms",
                    op.label(),
                    round + 1,
                    sample.rate,
                    sample.p50_ms,
                    sample.p99_ms
                );
                per_size[index].push(sample);
            }
        }
        rows.push(ServiceRow { label: op.label().to_owned(), per_size });
    }
    drop(servers);

    let mut report = ServiceReport {
        sizes: SIZES.to_vec(),
        callers: CALLERS,
        rounds,
        warmup_secs: warmup.as_secs_f64(),
        window_secs: window.as_secs_f64(),
        fill_secs,
        rows,
        store_create: vec![Vec::new(); SIZES.len()],
        store_single: vec![Vec::new(); SIZES.len()],
        store_create_wide: vec![Vec::new(); SIZES.len()],
        ..ServiceReport::default()
    };
    let stores = SIZES
        .iter()
        .map(|&size| Store::open(service::fixture_path(dir.path(), size)).context("reopening a fixture"))
        .collect::<Result<Vec<_>>>()?;
    let raw_path = dir.path().join("raw.db");
    let window = Duration::from_secs_f64(settings.window_secs.min(MAX_BASELINE_WINDOW_SECS));
    report.baseline_window_secs = window.as_secs_f64();
    for round in 0..rounds {
        let hashes = blocking(move || service::hash_rate(window)).await?;
        eprintln!("  baseline round {}/{rounds}: argon2id {hashes:.1} hashes/s", round + 1);
        report.hash_only.push(hashes);
        for (index, store) in stores.iter().enumerate() {
            for (threads, rates) in [
                (CALLERS, &mut report.store_create),
                (WIDE_CALLERS, &mut report.store_create_wide),
                (1, &mut report.store_single),
            ] {
                let store = store.clone();
                let prefix = format!("store-r{round}-t{threads}");
                let rate = blocking(move || service::store_create_rate(&store, threads, &prefix, window)).await?;
                eprintln!(
                    "  baseline round {}/{rounds}: store create {} users, {threads} threads: {rate:.1} /s",
                    round + 1,
                    SIZES[index]
                );
                rates[index].push(rate);
            }
        }
        let path = raw_path.clone();
        let (single, batched) = blocking(move || {
            let mut connection = service::raw_database(&path)?;
            let single = service::raw_insert_rate(&mut connection, 1, window)?;
            let batched = service::raw_insert_rate(&mut connection, 64, window)?;
            Ok((single, batched))
        })
        .await?;
        eprintln!("  baseline round {}/{rounds}: raw insert {single:.1} /s, 64 per commit {batched:.1} /s", round + 1);
        report.raw_single.push(single);
        report.raw_batched.push(batched);
    }
    Ok(report)
}
