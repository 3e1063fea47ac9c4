//! The stores section: the service over SQLite and over PostgreSQL, one against three service
//! processes on one database, and the PostgreSQL store's group commit in-process.

use std::fmt::Write as _;

use super::cells::{p50, rate, ratio_cell, size_label, spread};
use crate::stats::{Sample, Spread};

/// One row of the stores section: an operation, its rounds per size on each store.
#[derive(Debug, Clone)]
pub struct StoreRow {
    /// The operation.
    pub label: String,
    /// Per size (in [`StoresReport::sizes`] order), the rounds on SQLite.
    pub sqlite: Vec<Vec<Sample>>,
    /// Per size, the rounds on PostgreSQL.
    pub postgres: Vec<Vec<Sample>>,
}

/// One replica row: an operation on one process and on several, one database.
#[derive(Debug, Clone)]
pub struct ReplicaRow {
    /// The operation.
    pub label: String,
    /// The rounds with every caller on one process.
    pub one: Vec<Sample>,
    /// The rounds with the callers spread over [`StoresReport::replicas`] processes.
    pub three: Vec<Sample>,
}

/// The stores section: the service over SQLite and PostgreSQL, and replicas on one database.
#[derive(Debug, Clone, Default)]
pub struct StoresReport {
    /// Users in the instance, smallest first.
    pub sizes: Vec<usize>,
    /// Concurrent callers of the store rows.
    pub callers: usize,
    /// Processes of the replica rows.
    pub replicas: usize,
    /// Concurrent callers of the replica rows (spread over the processes).
    pub replica_callers: usize,
    /// Rounds per row.
    pub rounds: usize,
    /// Warm-up, seconds.
    pub warmup_secs: f64,
    /// Timed window, seconds.
    pub window_secs: f64,
    /// Seconds to fill each PostgreSQL fixture through the store.
    pub postgres_fill_secs: Vec<f64>,
    /// The store rows.
    pub rows: Vec<StoreRow>,
    /// The replica rows.
    pub replica_rows: Vec<ReplicaRow>,
    /// The PostgreSQL store's Creates in-process (hash ready), per number of concurrent tasks.
    pub pg_creates: Vec<PgCreateRow>,
    /// Timed window of each of those rounds, seconds.
    pub pg_create_window_secs: f64,
}

/// PostgreSQL store Creates with the hash ready (no HTTP, no argon2) from some concurrent tasks.
#[derive(Debug, Clone)]
pub struct PgCreateRow {
    /// Concurrent tasks.
    pub tasks: usize,
    /// Creates per second, per round.
    pub rates: Vec<f64>,
    /// Creates per committed transaction, per round.
    pub per_commit: Vec<f64>,
}

/// The stores section's heading, how it is measured, the store table, the replica table and the
/// in-process Creates table.
pub(super) fn render_stores(out: &mut String, stores: &StoresReport) {
    let _ = writeln!(
        out,
        "## Stores: SQLite vs PostgreSQL, and replicas on one database
"
    );
    let _ = writeln!(
        out,
        "The real `smartag-service` router (authentication off) in child processes, over the SQLite store and over the PostgreSQL store (a throw-away cluster of the distribution's PostgreSQL on loopback, default settings: `fsync` and `synchronous_commit` on), each with one instance pre-filled to {} users (SQLite through the store; PostgreSQL: the first user through the store, the others as the same rows in one SQL statement: {}). {} concurrent callers on keep-alive connections, {} rounds of {:.1} s warm-up + {:.1} s window, the two stores alternating which goes first. Cells: median req/s (min–max) and median p50 ms; the ratio is PostgreSQL over SQLite. Everything (the database server, the service processes, the load driver) shares the machine's cores.\n",
        stores.sizes.iter().map(|&s| size_label(s)).collect::<Vec<_>>().join(" and "),
        stores
            .sizes
            .iter()
            .zip(&stores.postgres_fill_secs)
            .map(|(size, secs)| format!("{} in {secs:.1} s", size_label(*size)))
            .collect::<Vec<_>>()
            .join(", "),
        stores.callers,
        stores.rounds,
        stores.warmup_secs,
        stores.window_secs,
    );
    let _ = writeln!(
        out,
        "| operation | users | SQLite req/s | PostgreSQL req/s | PG/SQLite | SQLite p50 ms | PostgreSQL p50 ms |\n\
         |---|---:|---:|---:|---:|---:|---:|"
    );
    for row in &stores.rows {
        for (index, size) in stores.sizes.iter().enumerate() {
            let (sqlite, postgres) = (&row.sqlite[index], &row.postgres[index]);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                row.label,
                size_label(*size),
                spread(Spread::of(sqlite.iter().map(rate)), 0),
                spread(Spread::of(postgres.iter().map(rate)), 0),
                ratio_cell(sqlite, postgres, rate),
                spread(Spread::of(sqlite.iter().map(p50)), 2),
                spread(Spread::of(postgres.iter().map(p50)), 2),
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Replicas: {} concurrent callers against one service process, then spread evenly over {} processes, all on one PostgreSQL database of {} users, alternating which goes first.\n",
        stores.replica_callers,
        stores.replicas,
        stores.sizes.first().map_or_else(String::new, |&s| size_label(s)),
    );
    let _ = writeln!(
        out,
        "| operation | 1 process req/s | {n} processes req/s | {n}/1 | 1 process p50 ms | {n} processes p50 ms |\n\
         |---|---:|---:|---:|---:|---:|",
        n = stores.replicas
    );
    for row in &stores.replica_rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.label,
            spread(Spread::of(row.one.iter().map(rate)), 0),
            spread(Spread::of(row.three.iter().map(rate)), 0),
            ratio_cell(&row.one, &row.three, rate),
            spread(Spread::of(row.one.iter().map(p50)), 2),
            spread(Spread::of(row.three.iter().map(p50)), 2),
        );
    }
    let _ = writeln!(out);
    render_pg_creates(out, stores);
}

/// The PostgreSQL store's group commit: Creates straight into the store from 1 and more tasks.
fn render_pg_creates(out: &mut String, stores: &StoresReport) {
    let Some(single) = stores.pg_creates.iter().find(|row| row.tasks == 1) else { return };
    let single = Spread::of(single.rates.iter().copied());
    let _ = writeln!(
        out,
        "PostgreSQL store Creates in-process, into the {} database: the password hash ready (no HTTP, no argon2id), \
         from concurrent tasks for {:.1} s per round. One task commits each Create alone (one WAL flush each); with \
         more, the store's writer takes every Create waiting into one transaction (group commit). *Per commit* is \
         the Creates per committed transaction.\n",
        stores.sizes.first().map_or_else(String::new, |&s| size_label(s)),
        stores.pg_create_window_secs,
    );
    let _ = writeln!(out, "| tasks | Creates/s | per commit | vs 1 task |\n|---:|---:|---:|---:|");
    for row in &stores.pg_creates {
        let rate = Spread::of(row.rates.iter().copied());
        let versus = match (rate, single) {
            (Some(rate), Some(single)) if single.median > 0.0 => format!("**{:.1}×**", rate.median / single.median),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {versus} |",
            row.tasks,
            spread(rate, 0),
            spread(Spread::of(row.per_commit.iter().copied()), 1),
        );
    }
    let _ = writeln!(out);
}
