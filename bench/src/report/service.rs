//! The service-scaling section: the real service over its SQLite store at several instance sizes,
//! and the in-process baselines (hashing, store creates, raw SQLite inserts).

use std::fmt::Write as _;

use super::cells::{median_ratio, p50, rate, rates, size_label, spread};
use crate::stats::{Sample, Spread};

/// One service row: an operation, its rounds at each instance size.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    /// The operation.
    pub label: String,
    /// Per size (in [`ServiceReport::sizes`] order), the rounds.
    pub per_size: Vec<Vec<Sample>>,
}

/// The service-scaling section: the real service at several instance sizes, and the baselines.
#[derive(Debug, Clone, Default)]
pub struct ServiceReport {
    /// Users in the instance, smallest first (the reference of the ratios).
    pub sizes: Vec<usize>,
    /// Concurrent callers.
    pub callers: usize,
    /// Rounds per row.
    pub rounds: usize,
    /// Warm-up before each row's rounds, seconds.
    pub warmup_secs: f64,
    /// Timed window, seconds.
    pub window_secs: f64,
    /// Timed window of each in-process baseline, seconds.
    pub baseline_window_secs: f64,
    /// Seconds to fill each fixture through the store.
    pub fill_secs: Vec<f64>,
    /// The HTTP rows.
    pub rows: Vec<ServiceRow>,
    /// argon2id hashes/s on `callers` threads, per round.
    pub hash_only: Vec<f64>,
    /// Store creates/s (hash ready) from `callers` threads, per size, per round.
    pub store_create: Vec<Vec<f64>>,
    /// Store creates/s (hash ready) from [`WIDE_CALLERS`] threads, per size, per round.
    pub store_create_wide: Vec<Vec<f64>>,
    /// Store creates/s (hash ready) from one thread (each create its own commit), per size, per
    /// round.
    pub store_single: Vec<Vec<f64>>,
    /// Raw SQLite inserts/s, one transaction (one `fsync`) per insert, one thread, per round.
    pub raw_single: Vec<f64>,
    /// Raw SQLite inserts/s, 64 per transaction, one thread, per round.
    pub raw_batched: Vec<f64>,
}

/// The callers of the wide group-commit baseline (hundreds of concurrent Creates are what group
/// commit is for; eight keep batches small).
pub const WIDE_CALLERS: usize = 64;

/// The service section's heading, how it is measured, the HTTP table and the baselines' table.
pub(super) fn render_service(out: &mut String, service: &ServiceReport) {
    let sizes: Vec<String> = service.sizes.iter().map(|&s| size_label(s)).collect();
    let _ = writeln!(out, "## Service: the SQLite store as an instance grows\n");
    let _ = writeln!(
        out,
        "The real `smartag-service` router (generated server, authentication off) over its SQLite store, in a \
         child process, with one instance pre-filled (through `Store::create_users`, not over HTTP) to {} users; \
         {} concurrent callers on keep-alive connections, {} rounds of {:.1} s warm-up + {:.1} s window, the sizes \
         measured back to back in each round (rotating which goes first). Creates run last (they add users). \
         Page size {}; the last page is page ⌈users / {}⌉; the filters ask for a different existing user each \
         call. Each cell is the median over rounds (min–max); the ratios are against the smallest instance \
         (1.00× = flat). Fixture fill: {}.\n",
        sizes.join(" / "),
        service.callers,
        service.rounds,
        service.warmup_secs,
        service.window_secs,
        crate::service::PAGE_SIZE,
        crate::service::PAGE_SIZE,
        service
            .sizes
            .iter()
            .zip(&service.fill_secs)
            .map(|(size, secs)| format!("{} in {secs:.1} s", size_label(*size)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut header = String::from("| operation |");
    let mut rule = String::from("|---|");
    for size in &sizes {
        let _ = write!(header, " {size} req/s |");
        rule.push_str("---:|");
    }
    for size in sizes.iter().skip(1) {
        let _ = write!(header, " {size}/{} |", sizes[0]);
        rule.push_str("---:|");
    }
    for size in &sizes {
        let _ = write!(header, " {size} p50 ms |");
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    for row in &service.rows {
        let medians: Vec<Option<Spread>> = row.per_size.iter().map(|r| Spread::of(r.iter().map(rate))).collect();
        let mut line = format!("| {} |", row.label);
        for m in &medians {
            let _ = write!(line, " {} |", spread(*m, 0));
        }
        for r in row.per_size.iter().skip(1) {
            let cell = row.per_size.first().and_then(|base| median_ratio(r.iter().map(rate), base.iter().map(rate)));
            let cell = cell.map_or_else(|| "–".to_owned(), |ratio| format!("**{ratio:.2}×**"));
            let _ = write!(line, " {cell} |");
        }
        for r in &row.per_size {
            let _ = write!(line, " {} |", spread(Spread::of(r.iter().map(p50)), 2));
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Baselines, in-process, same run, one {:.1} s window each per round. Creates with the hash ready go straight to `Store::create_user` from {} \
         and from {WIDE_CALLERS} threads (group commit: the writes waiting are committed together), and from one thread (each create \
         committed alone: what the store did for every Create before group commit). Raw SQLite inserts use the store's \
         settings (WAL, `synchronous=FULL`) on a fresh file from one thread: one transaction per insert (one \
         `fsync` each: the most a store that commits each Create alone can do) and 64 per transaction. The \
         argon2id row is `password::hash_password` alone on {} threads: the ceiling of an HTTP Create, which \
         hashes a password whether the caller gave one or not.\n",
        service.baseline_window_secs, service.callers, service.callers
    );
    let _ = writeln!(
        out,
        "| baseline | ops/s | vs raw one-fsync-per-insert | vs the store's one commit per Create |\n|---|---:|---:|---:|"
    );
    let versus_alone = |values: &[f64], alone: &[f64]| match median_ratio(values.iter().copied(), alone.iter().copied())
    {
        Some(ratio) => format!("**{ratio:.1}×**"),
        None => "–".to_owned(),
    };
    let versus = |values: &[f64]| versus_alone(values, &service.raw_single);
    let _ =
        writeln!(out, "| argon2id hash only ({} threads) | {} | – | – |", service.callers, rates(&service.hash_only));
    let empty = Vec::new();
    for (index, size) in sizes.iter().enumerate() {
        let (values, alone) = (&service.store_create[index], &service.store_single[index]);
        let wide = service.store_create_wide.get(index).unwrap_or(&empty);
        let _ = writeln!(
            out,
            "| store Create, hash ready, {size} users ({} threads, grouped) | {} | {} | {} |",
            service.callers,
            rates(values),
            versus(values),
            versus_alone(values, alone)
        );
        if !wide.is_empty() {
            let _ = writeln!(
                out,
                "| store Create, hash ready, {size} users ({WIDE_CALLERS} threads, grouped) | {} | {} | {} |",
                rates(wide),
                versus(wide),
                versus_alone(wide, alone)
            );
        }
        let _ = writeln!(
            out,
            "| store Create, hash ready, {size} users (1 thread: one commit each) | {} | {} | 1.0× |",
            rates(alone),
            versus(alone)
        );
    }
    let _ = writeln!(out, "| raw SQLite insert, one `fsync` per insert | {} | 1.0× | – |", rates(&service.raw_single));
    let _ = writeln!(
        out,
        "| raw SQLite insert, 64 per transaction | {} | {} | – |\n",
        rates(&service.raw_batched),
        versus(&service.raw_batched)
    );
}
