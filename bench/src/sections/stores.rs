//! The stores section (issue 15): the real service over SQLite and over PostgreSQL at 1k and 100k
//! users, and one vs three service processes on one PostgreSQL database.
//!
//! PostgreSQL is a throw-away cluster of the distribution's server (`postgres-harness`, default
//! settings: `fsync` and `synchronous_commit` on) on loopback, sharing the machine's cores with
//! the service processes and the load driver.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use postgres_harness::PgCluster;
use smartag_bench::driver;
use smartag_bench::report::{PgCreateRow, ReplicaRow, Settings, StoreRow, StoresReport};
use smartag_bench::service::{self, CALLERS, Op, OpCaller};
use smartag_bench::stats::Sample;
use smartag_service::store::postgres::PgStore;

/// The instance sizes of the store rows.
pub const SIZES: [usize; 2] = [1_000, 100_000];
/// The operations of the store rows (Creates last: they add users).
const OPS: [Op; 3] = [Op::FirstPage, Op::ByName, Op::Create];
/// The operations of the replica rows.
const REPLICA_OPS: [Op; 2] = [Op::FirstPage, Op::Create];
/// Service processes in the replica rows.
pub const REPLICAS: usize = 3;
/// Concurrent tasks of the in-process PostgreSQL Create rows (1: each Create committed alone).
const PG_CREATE_TASKS: [usize; 3] = [1, 8, 64];
/// Concurrent callers in the replica rows (spread evenly over the processes).
pub const REPLICA_CALLERS: usize = 12;
const MAX_ROUNDS: usize = 3;
/// The window of an in-process PostgreSQL Create row: hundreds of Creates a second, so one second
/// is plenty, and the whole bench stays under its 15 minutes.
const PG_CREATE_WINDOW_SECS: f64 = 1.0;
const MAX_WINDOW_SECS: f64 = 2.0;
const MAX_WARMUP_SECS: f64 = 0.5;

struct Timing {
    rounds: usize,
    warmup: Duration,
    window: Duration,
}

/// One warm-up and one timed window of `callers` callers sending `op`, spread over `addrs`.
async fn measure(addrs: &[SocketAddr], op: Op, size: usize, callers: usize, timing: &Timing) -> Result<Sample> {
    let mut connected = Vec::with_capacity(callers);
    for caller in 0..callers {
        connected.push(OpCaller::connect(addrs[caller % addrs.len()], op, size, caller).await?);
    }
    let (connected, _) = driver::window(connected, timing.warmup).await?;
    let (_, measured) = driver::window(connected, timing.window).await?;
    Ok(measured.sample())
}

fn log(what: &str, round: usize, timing: &Timing, sample: &Sample) {
    eprintln!(
        "  stores {what} round {}/{}: {:>8.1} /s  p50 {:.3} ms  p99 {:.3} ms",
        round + 1,
        timing.rounds,
        sample.rate,
        sample.p50_ms,
        sample.p99_ms
    );
}

/// Measures the section; `spawn` starts this binary with the given arguments and returns the
/// address it listens on and a guard that stops it when dropped.
pub async fn run<G>(settings: &Settings, spawn: impl Fn(&[&str]) -> Result<(SocketAddr, G)>) -> Result<StoresReport> {
    let timing = Timing {
        rounds: settings.rounds.clamp(1, MAX_ROUNDS),
        warmup: Duration::from_secs_f64(settings.warmup_secs.min(MAX_WARMUP_SECS)),
        window: Duration::from_secs_f64(settings.window_secs.min(MAX_WINDOW_SECS)),
    };
    let dir = tempfile::tempdir().context("a temporary folder for the fixtures")?;
    let config = dir.path().join("service.toml");
    std::fs::write(&config, service::config_toml()).context("writing the service configuration")?;
    let config = config.display().to_string();
    let cluster = tokio::task::spawn_blocking(PgCluster::start_durable)
        .await
        .context("starting PostgreSQL panicked")?
        .context("starting PostgreSQL (install the distribution's postgresql package)")?;

    // The fixtures: one SQLite file and one PostgreSQL database per size, plus the replicas' database.
    let mut fill_secs = Vec::new();
    let mut servers = Vec::new();
    let mut first_url = None;
    for size in SIZES {
        let path = service::fixture_path(dir.path(), size);
        std::fs::create_dir_all(path.parent().context("fixture folder")?).context("creating a fixture folder")?;
        let fill_path = path.clone();
        tokio::task::spawn_blocking(move || service::fill(&fill_path, size)).await.context("fill panicked")??;
        let url = cluster.create_database(&format!("users_{size}")).context("creating a fixture database")?;
        let started = Instant::now();
        service::fill_postgres(&url, size).await?;
        fill_secs.push(started.elapsed().as_secs_f64());
        first_url.get_or_insert_with(|| url.clone());
        eprintln!("stores: {size} users filled into PostgreSQL in {:.1} s", started.elapsed().as_secs_f64());
        let data = path.display().to_string();
        let sqlite = spawn(&["serve-service", "--data", &data, "--config", &config])?;
        let pg_data = dir.path().join(format!("pg-{size}")).join("outbox-home.db").display().to_string();
        std::fs::create_dir_all(dir.path().join(format!("pg-{size}"))).context("outbox folder")?;
        let postgres = spawn(&["serve-service", "--data", &pg_data, "--database-url", &url, "--config", &config])?;
        servers.push((sqlite, postgres));
    }

    let mut rows = Vec::new();
    for op in OPS {
        let mut row = StoreRow {
            label: op.label().to_owned(),
            sqlite: vec![Vec::new(); SIZES.len()],
            postgres: vec![Vec::new(); SIZES.len()],
        };
        for round in 0..timing.rounds {
            for (index, size) in SIZES.iter().enumerate() {
                let (sqlite, postgres) = (servers[index].0.0, servers[index].1.0);
                // Alternate which store goes first.
                let order = if round % 2 == 0 { [false, true] } else { [true, false] };
                for on_postgres in order {
                    let addr = if on_postgres { postgres } else { sqlite };
                    let sample = measure(&[addr], op, *size, CALLERS, &timing).await?;
                    let store = if on_postgres { "PostgreSQL" } else { "SQLite" };
                    log(&format!("{} {store} {size}", op.label()), round, &timing, &sample);
                    let side = if on_postgres { &mut row.postgres } else { &mut row.sqlite };
                    side[index].push(sample);
                }
            }
        }
        rows.push(row);
    }
    drop(servers);

    // Group commit: Creates straight into the store of the smallest database.
    let url = first_url.context("no fixture database")?;
    let store = PgStore::connect(&url).await.context("connecting to the PostgreSQL fixture")?;
    let pg_window = timing.window.min(Duration::from_secs_f64(PG_CREATE_WINDOW_SECS));
    let mut pg_creates: Vec<PgCreateRow> =
        PG_CREATE_TASKS.iter().map(|&tasks| PgCreateRow { tasks, rates: Vec::new(), per_commit: Vec::new() }).collect();
    for round in 0..timing.rounds {
        let count = pg_creates.len();
        for step in 0..count {
            // Rotate which number of tasks goes first.
            let row = &mut pg_creates[(step + round) % count];
            let prefix = format!("pg-r{round}-t{}", row.tasks);
            let (rate, per_commit) = service::pg_store_create_rate(&store, row.tasks, &prefix, pg_window).await?;
            eprintln!(
                "  stores PostgreSQL store create, {} task(s), round {}/{}: {rate:.1} /s, {per_commit:.1} per commit",
                row.tasks,
                round + 1,
                timing.rounds
            );
            row.rates.push(rate);
            row.per_commit.push(per_commit);
        }
    }
    drop(store);

    // One vs three processes on one database of 1k users.
    let url = cluster.create_database("replicas").context("creating the replicas' database")?;
    service::fill_postgres(&url, SIZES[0]).await?;
    let mut replicas = Vec::new();
    for i in 0..REPLICAS {
        let home = dir.path().join(format!("replica-{i}"));
        std::fs::create_dir_all(&home).context("replica folder")?;
        let data = home.join("outbox-home.db").display().to_string();
        replicas.push(spawn(&["serve-service", "--data", &data, "--database-url", &url, "--config", &config])?);
    }
    let addrs: Vec<SocketAddr> = replicas.iter().map(|(addr, _)| *addr).collect();
    let mut replica_rows = Vec::new();
    for op in REPLICA_OPS {
        let mut row = ReplicaRow { label: op.label().to_owned(), one: Vec::new(), three: Vec::new() };
        for round in 0..timing.rounds {
            let order = if round % 2 == 0 { [1, REPLICAS] } else { [REPLICAS, 1] };
            for processes in order {
                let sample = measure(&addrs[..processes], op, SIZES[0], REPLICA_CALLERS, &timing).await?;
                log(&format!("{} on {processes} process(es)", op.label()), round, &timing, &sample);
                let side = if processes == 1 { &mut row.one } else { &mut row.three };
                side.push(sample);
            }
        }
        replica_rows.push(row);
    }
    drop(replicas);
    drop(cluster);

    Ok(StoresReport {
        sizes: SIZES.to_vec(),
        callers: CALLERS,
        replicas: REPLICAS,
        replica_callers: REPLICA_CALLERS,
        rounds: timing.rounds,
        warmup_secs: timing.warmup.as_secs_f64(),
        window_secs: timing.window.as_secs_f64(),
        postgres_fill_secs: fill_secs,
        rows,
        replica_rows,
        pg_creates,
        pg_create_window_secs: pg_window.as_secs_f64(),
    })
}
