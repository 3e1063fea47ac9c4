//! `BENCHMARKS.md`: the machine, the command, the date, and for each row both sides, their ratio
//! and the spread over rounds.
//!
//! [`render`] writes the head (`header`) and issue 12's targets with their verdicts (`targets`),
//! then each section that was measured, in the order of a run, each followed by its hand-written
//! notes (`bench/notes/*.md`): `server`, `client`, `sdk`, `generator`, `service` and `stores`.
//! Their cells (`cells`) and the CPU table of the first two (`cpu_table`) are shared.

use std::fmt::Write as _;

mod cells;
mod client;
mod cpu_table;
mod generator;
mod header;
mod sdk;
mod server;
mod service;
mod stores;
mod targets;

pub use client::ClientRow;
pub use generator::Generator;
pub use header::{Machine, Settings};
pub use sdk::SdkRow;
pub use server::ServerRow;
pub use service::{ServiceReport, ServiceRow, WIDE_CALLERS};
pub use stores::{PgCreateRow, ReplicaRow, StoreRow, StoresReport};

/// Everything `BENCHMARKS.md` says.
#[derive(Debug, Clone)]
pub struct Report {
    /// The machine.
    pub machine: Machine,
    /// The command that produced it.
    pub command: String,
    /// When, UTC.
    pub date: String,
    /// Wall time of the whole run, seconds.
    pub total_secs: f64,
    /// Wall time of each section that ran, seconds, in the order they ran.
    pub section_secs: Vec<(&'static str, f64)>,
    /// Durations and counts.
    pub settings: Settings,
    /// Server rows.
    pub server: Vec<ServerRow>,
    /// Client rows.
    pub client: Vec<ClientRow>,
    /// The official-SDK rows.
    pub sdk: Vec<SdkRow>,
    /// Generator timing, if measured.
    pub generator: Option<Generator>,
    /// Generator scaling rows (3, 30, 300 operations), if measured.
    pub scaling: Vec<crate::generator_scaling::ScalingRow>,
    /// The service-scaling section, if measured.
    pub service: Option<ServiceReport>,
    /// The stores section (SQLite vs PostgreSQL, replicas), if measured.
    pub stores: Option<StoresReport>,
}

/// The Markdown text of `report`.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    header::render_header(&mut out, report);
    targets::render_targets(&mut out, report);
    if !report.server.is_empty() {
        server::render_server(&mut out, report);
        note(&mut out, notes::SERVER);
    }
    if !report.client.is_empty() {
        client::render_client(&mut out, report);
        note(&mut out, notes::CLIENT);
    }
    if !report.sdk.is_empty() {
        sdk::render_sdk(&mut out, &report.sdk);
        note(&mut out, notes::SDK);
    }
    if let Some(g) = &report.generator {
        generator::render_generator(&mut out, g);
    }
    if !report.scaling.is_empty() {
        generator::render_scaling(&mut out, &report.scaling);
        note(&mut out, notes::GENERATOR);
    }
    if let Some(service) = &report.service {
        service::render_service(&mut out, service);
    }
    if let Some(stores) = &report.stores {
        stores::render_stores(&mut out, stores);
        note(&mut out, notes::STORES);
    }
    out
}

/// The hand-written analysis under each section (`bench/notes/*.md`): what a gap is made of and the
/// profile that shows it. Kept in files of their own so that every run of the bench renders them
/// again under its fresh numbers.
mod notes {
    pub const SERVER: &str = include_str!("../../notes/server.md");
    pub const CLIENT: &str = include_str!("../../notes/client.md");
    pub const SDK: &str = include_str!("../../notes/sdk.md");
    pub const GENERATOR: &str = include_str!("../../notes/generator.md");
    pub const STORES: &str = include_str!("../../notes/stores.md");
}

/// `text` (a note, trimmed) and a blank line, or nothing when the note is empty.
fn note(out: &mut String, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        let _ = writeln!(out, "{text}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Auth;
    use crate::stats::{Rounds, Sample};

    fn sample(rate: f64, p50_ms: f64) -> Sample {
        Sample {
            rate,
            p50_ms,
            p99_ms: p50_ms * 2.0,
            ended_early: false,
            client_cpu_us: 90.0,
            server_cpu_us: 60.0,
            stolen_pct: 1.5,
        }
    }

    #[test]
    fn renders_every_row_with_ratios() {
        let rounds = Rounds { a: vec![sample(50.0, 2.0), sample(60.0, 2.0)], b: vec![sample(100.0, 1.0); 2] };
        let report = Report {
            machine: Machine { nproc: 2, cpu: "Test CPU".into(), stolen_pct: Some(3.25), ..Machine::default() },
            command: "cargo run --release -p smartag-bench --".into(),
            date: "2026-01-01 00:00:00 UTC".into(),
            total_secs: 1.0,
            section_secs: vec![("server", 1.0)],
            settings: Settings { rounds: 2, warmup_secs: 0.1, window_secs: 0.5, generator_runs: 1 },
            server: vec![ServerRow { auth: Auth::On, concurrency: 32, rounds: rounds.clone() }],
            client: vec![ClientRow { signing: "v3", server: "B", concurrency: 1, rounds: rounds.clone() }],
            sdk: vec![SdkRow { sdk: "Test SDK", reference: false, rounds }],
            generator: Some(Generator { runs_ms: vec![40.0], files: 9, lines: 1000, operations: 3 }),
            scaling: vec![crate::generator_scaling::ScalingRow {
                operations: 30,
                generate_ms: vec![10.0, 12.0],
                lines: 6000,
                files: 40,
                check_secs: 6.0,
            }],
            service: Some(ServiceReport {
                sizes: vec![1000, 10000],
                callers: 8,
                rounds: 2,
                warmup_secs: 0.3,
                window_secs: 1.0,
                baseline_window_secs: 1.0,
                fill_secs: vec![0.1, 1.0],
                rows: vec![ServiceRow {
                    label: "Describe page 1".into(),
                    per_size: vec![vec![sample(100.0, 1.0); 2], vec![sample(90.0, 1.0), sample(80.0, 1.0)]],
                }],
                hash_only: vec![50.0],
                store_create: vec![vec![600.0], vec![500.0]],
                store_single: vec![vec![90.0], vec![80.0]],
                store_create_wide: vec![vec![700.0], vec![650.0]],
                raw_single: vec![100.0],
                raw_batched: vec![5000.0],
            }),
            stores: Some(StoresReport {
                sizes: vec![1000, 100_000],
                callers: 8,
                replicas: 3,
                replica_callers: 12,
                rounds: 2,
                warmup_secs: 0.3,
                window_secs: 1.0,
                postgres_fill_secs: vec![0.5, 20.0],
                rows: vec![StoreRow {
                    label: "Create (no UserName/Password)".into(),
                    sqlite: vec![vec![sample(200.0, 4.0); 2], vec![sample(180.0, 5.0); 2]],
                    postgres: vec![vec![sample(100.0, 8.0), sample(120.0, 8.0)], vec![sample(90.0, 9.0); 2]],
                }],
                replica_rows: vec![ReplicaRow {
                    label: "Describe page 1".into(),
                    one: vec![sample(1000.0, 2.0); 2],
                    three: vec![sample(900.0, 2.5), sample(1100.0, 2.5)],
                }],
                pg_creates: vec![
                    PgCreateRow { tasks: 1, rates: vec![50.0, 60.0], per_commit: vec![1.0, 1.0] },
                    PgCreateRow { tasks: 8, rates: vec![300.0, 250.0], per_commit: vec![6.0, 7.0] },
                ],
                pg_create_window_secs: 1.0,
            }),
        };
        let text = render(&report);
        assert!(text.contains("| on | 32 | 55 (50–60) | 100 (100–100) | **0.55×** (0.50–0.60) |"), "{text}");
        assert!(text.contains("| v3 | B | 1 | 55 (50–60) |"), "{text}");
        assert!(text.contains("Test CPU"));
        assert!(text.contains("during the run | 3.2 % of the machine's |"), "{text}");
        assert!(text.contains("| **1.00×** (1.00–1.00) | 1.5 (1.5–1.5) | 1.5 (1.5–1.5) |"), "{text}");
        assert!(text.contains("3 operations → 9 files, 1000 lines"), "{text}");
        assert!(text.contains("| Test SDK | 55 (50–60) | 100 (100–100) | **0.55×** (0.50–0.60) |"), "{text}");
        assert!(text.contains("| 30 | 11.0 (10.0–12.0) | 0.37 | 40 | 6000 | 200 | 6.0 | 0.200 |"), "{text}");
        assert!(text.contains("| Describe page 1 | 100 (100–100) | 85 (80–90) | **0.85×** |"), "{text}");
        assert!(
            text.contains(
                "| store Create, hash ready, 10k users (8 threads, grouped) | 500 (500–500) | **5.0×** | **6.2×** |"
            ),
            "{text}"
        );
        assert!(text.contains("one SQL statement: 1k in 0.5 s, 100k in 20.0 s"), "{text}");
        assert!(
            text.contains(
                "| Create (no UserName/Password) | 1k | 200 (200–200) | 110 (100–120) | **0.55×** | 4.00 (4.00–4.00) | \
                 8.00 (8.00–8.00) |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| Describe page 1 | 1000 (1000–1000) | 1000 (900–1100) | **1.00×** | 2.00 (2.00–2.00) |"),
            "{text}"
        );
        assert!(text.contains("| 8 | 275 (250–300) | 6.5 (6.0–7.0) | **5.0×** |"), "{text}");
        for verdict in [
            "| Server: throughput A/B, auth on, 32 concurrent | ≥ 0.9× | 0.55× | **missed**: *What the server's gap is \
             made of* |",
            "| Server: p50 A/B, auth on, 32 concurrent | ≤ 1.11× | 2.00× | **missed**: *What the server's gap is made of* |",
            "| Client: calls/s A/B, v3, 1 concurrent | ≥ 0.95× | 0.55× | **missed**: *What the client's gap is made of* |",
            "| Client vs Test SDK: sequential calls/s | ≥ 10× | 0.55× | **missed**: *What bounds this ratio* |",
            "| Service: Describe page 1, 10k vs 1k users | ≥ 0.67× | 0.85× | met |",
            "| Store: grouped Creates (64 threads) vs raw SQLite, one `fsync` per insert, 10k users | ≥ 1× | 6.50× | met |",
        ] {
            assert!(text.contains(verdict), "{verdict}\n{text}");
        }
        let (targets, server) = (text.find("## Targets at a glance"), text.find("## Server:"));
        assert!(targets.is_some() && targets < server, "the verdicts come first");
    }
}
