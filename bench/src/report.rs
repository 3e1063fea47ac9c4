//! `BENCHMARKS.md`: the machine, the command, the date, and for each row both sides, their ratio
//! and the spread over rounds.

use std::fmt::Write as _;

use crate::Auth;
use crate::stats::{Rounds, Sample, Spread};

/// Where the numbers were taken.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub nproc: usize,
    /// `model name` of /proc/cpuinfo.
    pub cpu: String,
    /// `rustc --version`.
    pub rustc: String,
    /// The kernel release.
    pub kernel: String,
    /// /proc/loadavg when the run started.
    pub load_before: String,
    /// /proc/loadavg when it ended.
    pub load_after: String,
    /// The share of the machine's CPU time the hypervisor gave to other guests during the run,
    /// per cent (`None` where `/proc/stat` has no steal column).
    pub stolen_pct: Option<f64>,
}

/// The durations and counts of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Rounds per row (each round measures A and B back to back, alternating which goes first).
    pub rounds: usize,
    /// Warm-up before every window, seconds (not counted).
    pub warmup_secs: f64,
    /// Each timed window, seconds.
    pub window_secs: f64,
    /// Generator runs.
    pub generator_runs: usize,
}

impl Settings {
    /// Rounds per client row: twice `rounds`, of half-length windows, the same time in all (each
    /// side warms up once per row and keeps its connections; the sides then take turns).
    pub fn client_rounds(&self) -> usize {
        2 * self.rounds
    }

    /// Each timed window of a client row, seconds.
    pub fn client_window_secs(&self) -> f64 {
        self.window_secs / 2.0
    }
}

/// One server row: authentication and concurrency; A = generated router, B = hand-written axum.
#[derive(Debug, Clone)]
pub struct ServerRow {
    /// Authentication in both servers.
    pub auth: Auth,
    /// Concurrent connections.
    pub concurrency: usize,
    /// The rounds.
    pub rounds: Rounds,
}

/// One client row: concurrency; A = generated client, B = raw reqwest with pre-signed requests.
#[derive(Debug, Clone)]
pub struct ClientRow {
    /// The signature version, `v1` or `v3`.
    pub signing: &'static str,
    /// The server side called (`A`: the generated router, `B`: the hand-written handler).
    pub server: &'static str,
    /// Concurrent calls.
    pub concurrency: usize,
    /// The rounds.
    pub rounds: Rounds,
}

/// The generator's timing.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Each run (load + resolve + generate), milliseconds.
    pub runs_ms: Vec<f64>,
    /// Files generated.
    pub files: usize,
    /// Lines generated.
    pub lines: usize,
    /// Operations in the spec.
    pub operations: usize,
}

/// One official-SDK row: the generated client (A) against one of Alibaba's Python SDKs (B),
/// sequential calls.
#[derive(Debug, Clone)]
pub struct SdkRow {
    /// Which SDK, as the report names it.
    pub sdk: &'static str,
    /// A: the generated client; B: the SDK.
    pub rounds: Rounds,
}

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
    /// Warm-up and window, seconds.
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

fn rate(s: &Sample) -> f64 {
    s.rate
}

fn p50(s: &Sample) -> f64 {
    s.p50_ms
}

fn p99(s: &Sample) -> f64 {
    s.p99_ms
}

fn client_cpu(s: &Sample) -> f64 {
    s.client_cpu_us
}

fn server_cpu(s: &Sample) -> f64 {
    s.server_cpu_us
}

fn stolen(s: &Sample) -> f64 {
    s.stolen_pct
}

/// The CPU table of a section: per row (`label`), both processes' CPU microseconds per call on
/// each side, and A/B. `whose` says which process the section is about.
fn render_cpu<'a>(out: &mut String, key: &str, rows: impl Iterator<Item = (String, &'a Rounds)>, whose: &str) {
    let _ = writeln!(
        out,
        "CPU time per call (user + system, from `/proc/<pid>/stat` over each timed window; median (min–max) \
         of the rounds; lower is better, so an A/B above 1 is what A costs more). {whose} On a shared machine \
         this is steadier than calls per second: another tenant's load lowers a side's throughput but hardly \
         what one call costs. *Stolen* is the share of the machine's CPU time the hypervisor gave to other \
         guests during each side's windows (`steal` in `/proc/stat`): the part of a window's noise that came \
         from outside this machine.\n"
    );
    let _ = writeln!(
        out,
        "| {key} | client µs A | client µs B | client A/B | server µs A | server µs B | server A/B | stolen % A | \
         stolen % B |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (label, r) in rows {
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} |",
            sides(r, client_cpu, 1),
            sides(r, server_cpu, 1),
            spread(r.a_spread(stolen), 1),
            spread(r.b_spread(stolen), 1),
        );
    }
    let _ = writeln!(out);
}

/// Three cells of `field`: A's spread, B's spread and their ratio.
fn sides(r: &Rounds, field: fn(&Sample) -> f64, digits: usize) -> String {
    format!("{} | {} | {}", spread(r.a_spread(field), digits), spread(r.b_spread(field), digits), ratio(r, field))
}

/// `median (min–max)` with `digits` decimals.
fn spread(s: Option<Spread>, digits: usize) -> String {
    match s {
        Some(s) => format!("{:.d$} ({:.d$}–{:.d$})", s.median, s.min, s.max, d = digits),
        None => "–".to_owned(),
    }
}

/// The median of the per-round ratios A/B, `×`, with their range. A round's two windows are
/// measured back to back, so each ratio is taken under one outside load; the median of those
/// follows a load that changes during a row better than the ratio of the two sides' medians.
fn ratio(rounds: &Rounds, field: fn(&Sample) -> f64) -> String {
    match rounds.ratio_spread(field) {
        Some(r) => format!("**{:.2}×** ({:.2}–{:.2})", r.median, r.min, r.max),
        None => "–".to_owned(),
    }
}

fn early(rounds: &Rounds) -> &'static str {
    if rounds.any_ended_early() { " †" } else { "" }
}

/// The Markdown text of `report`.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let s = &report.settings;
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Written by `smartag-bench` (the measuring harness of issue 12). **The machine is shared and noisy: \
         absolute numbers vary from run to run and from machine to machine; the ratios between the two sides \
         of a row, measured in the same run, alternating, are what matter.** Regenerate with the command \
         below.\n"
    );
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| command | `{}` |", report.command);
    let _ = writeln!(out, "| date (UTC) | {} |", report.date);
    let _ = writeln!(out, "| CPUs (nproc) | {} |", m.nproc);
    let _ = writeln!(out, "| CPU model | {} |", m.cpu);
    let _ = writeln!(out, "| rustc | {} |", m.rustc);
    let _ = writeln!(out, "| kernel | {} |", m.kernel);
    let _ = writeln!(out, "| load average before / after | {} / {} |", m.load_before, m.load_after);
    if let Some(stolen) = m.stolen_pct {
        let _ = writeln!(
            out,
            "| CPU time stolen by the hypervisor (other guests) during the run | {stolen:.1} % of the machine's |"
        );
    }
    let _ = writeln!(
        out,
        "| rounds per row | {} (each: {:.1} s warm-up, then a {:.1} s window; A and B back to back, alternating \
         which goes first); client rows: one {:.1} s warm-up per side, then {} rounds of {:.1} s windows |",
        s.rounds,
        s.warmup_secs,
        s.window_secs,
        s.warmup_secs,
        s.client_rounds(),
        s.client_window_secs()
    );
    let sections: Vec<String> = report.section_secs.iter().map(|(name, secs)| format!("{name} {secs:.0} s")).collect();
    let _ = writeln!(out, "| whole run | {:.0} s ({}) |\n", report.total_secs, sections.join(", "));
    let _ = writeln!(
        out,
        "Each cell is the **median over rounds (min–max)**. Ratios are the **median of the per-round ratios \
         A/B** (a round's A and B are measured back to back, under the same outside load), with their range in \
         brackets. For throughput a ratio below 1 means A is slower; for latency a ratio above 1 means A is \
         slower.\n"
    );

    if !report.server.is_empty() {
        render_server(&mut out, report);
        note(&mut out, notes::SERVER);
    }
    if !report.client.is_empty() {
        render_client(&mut out, report);
        note(&mut out, notes::CLIENT);
    }
    if !report.sdk.is_empty() {
        render_sdk(&mut out, &report.sdk);
        note(&mut out, notes::SDK);
    }
    if let Some(g) = &report.generator {
        let _ = writeln!(out, "## Generator\n");
        let _ = writeln!(
            out,
            "`smartag_codegen::load_file` + `generate` for `spec/smartag.yaml` in-process (what `cargo xtask gen` \
             does before writing), release build, {} runs: **{} ms** (median, min–max) for {} operations → {} \
             files, {} lines.\n",
            g.runs_ms.len(),
            spread(Spread::of(g.runs_ms.iter().copied()), 1),
            g.operations,
            g.files,
            g.lines
        );
    }
    if !report.scaling.is_empty() {
        render_scaling(&mut out, &report.scaling);
        note(&mut out, notes::GENERATOR);
    }
    if let Some(service) = &report.service {
        render_service(&mut out, service);
    }
    if let Some(stores) = &report.stores {
        render_stores(&mut out, stores);
        note(&mut out, notes::STORES);
    }
    out
}

/// The hand-written analysis under each section (`bench/notes/*.md`): what a gap is made of and the
/// profile that shows it. Kept in files of their own so that every run of the bench renders them
/// again under its fresh numbers.
mod notes {
    pub const SERVER: &str = include_str!("../notes/server.md");
    pub const CLIENT: &str = include_str!("../notes/client.md");
    pub const SDK: &str = include_str!("../notes/sdk.md");
    pub const GENERATOR: &str = include_str!("../notes/generator.md");
    pub const STORES: &str = include_str!("../notes/stores.md");
}

fn note(out: &mut String, text: &str) {
    let text = text.trim();
    if !text.is_empty() {
        let _ = writeln!(out, "{text}\n");
    }
}

/// The median of `b` over the median of `a` of `field`, bold, or `–`.
fn ratio_cell(a: &[Sample], b: &[Sample], field: fn(&Sample) -> f64) -> String {
    match (Spread::of(a.iter().map(field)), Spread::of(b.iter().map(field))) {
        (Some(a), Some(b)) if a.median > 0.0 => format!("**{:.2}×**", b.median / a.median),
        _ => "–".to_owned(),
    }
}

fn render_stores(out: &mut String, stores: &StoresReport) {
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

fn render_sdk(out: &mut String, rows: &[SdkRow]) {
    let _ = writeln!(out, "## Client: generated client (A) vs Alibaba's official Python SDKs (B)\n");
    let _ = writeln!(
        out,
        "Sequential Describe calls (one at a time, one client each) to the same server process: side A of the \
         server section (the generated router) with authentication on, which verifies signature version 3 and \
         1.0 alike. A is `smartag_client::Client` with its defaults (signature v3); each SDK runs in a Python \
         process of its own (`bench/python/sdk_calls.py`, from the interop tests' `.venv`), configured as the \
         interop tests configure it, and times its own window after its own warm-up, so interpreter start-up is \
         not counted. In each round the client and the SDKs run back to back in a rotating order; A's window of \
         a round is compared with every SDK of that round. The target is A ≥ 10× each SDK. The last two rows \
         are not SDKs: raw reqwest sending version 3 requests signed before its window, one at a time, to the \
         same server in the same rounds (the floor of any reqwest-based client; A/B there is the client's own \
         share of a sequential call), and the server section's bare hyper driver doing the same (one \
         keep-alive connection, the answer read but not decoded: the floor of any client).\n"
    );
    let _ = writeln!(out, "| B | A calls/s | B calls/s | calls/s A/B | A p50 ms | B p50 ms | p50 A/B |");
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let r = &row.rounds;
        let _ = writeln!(out, "| {} | {} | {} |", row.sdk, sides(r, rate, 0), sides(r, p50, 3),);
    }
    let _ = writeln!(out);
    // The floor (last row) against the first SDK (the Tea SDK's default), round by round: the
    // most any client reaches against this server here, in multiples of that SDK.
    if let (Some(sdk), Some(floor)) = (rows.first(), rows.last())
        && rows.len() > 1
        && let Some(times) = Spread::of(floor.rounds.b.iter().zip(&sdk.rounds.b).map(|(f, s)| f.rate / s.rate))
    {
        let _ = writeln!(
            out,
            "With no client work at all, the bare driver of the last row made **{:.2}×** ({:.2}–{:.2}) the calls \
             of the first SDK in the same rounds: the most any client reaches against this server on this \
             machine, sequentially.\n",
            times.median, times.min, times.max
        );
    }
}

fn render_scaling(out: &mut String, rows: &[crate::generator_scaling::ScalingRow]) {
    let _ = writeln!(out, "### Generator scaling\n");
    let _ = writeln!(
        out,
        "Synthetic specs: the project's three operations repeated under new names to 3, 30 and 300 operations. \
         *generate* is load + resolve + generate in-process (release build; median, min–max); *cargo check* \
         is `cargo check --workspace` of the generated crates (model, client, server, command line) in a workspace of \
         their own, with every dependency already checked in the same target directory, so it is the \
         generated code's own check time. *per operation* divides by the operations.\n"
    );
    let _ = writeln!(
        out,
        "| operations | generate ms | per operation ms | files | lines | lines per operation | cargo check s | \
         check per operation s |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let generate = Spread::of(row.generate_ms.iter().copied());
        let ops = row.operations.max(1) as f64;
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {} | {} | {:.0} | {:.1} | {:.3} |",
            row.operations,
            spread(generate, 1),
            generate.map_or(0.0, |g| g.median / ops),
            row.files,
            row.lines,
            row.lines as f64 / ops,
            row.check_secs,
            row.check_secs / ops,
        );
    }
    let _ = writeln!(out);
}

fn render_server(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Server: generated router (A) vs hand-written axum handler (B)\n");
    let _ = writeln!(
        out,
        "`DescribeSmartAccessGatewayClientUsers`, a fixed page of 10 users, release build. Each side runs in a \
         process of its own (this binary re-executed as `serve --side A|B --auth off|on`, tokio's default \
         multi-threaded runtime, TCP_NODELAY); the load driver runs in the parent: hyper HTTP/1.1, one \
         keep-alive connection per concurrent caller, each sending `POST /?PageNumber=1&PageSize=10&RegionId=…\
         &SmartAGId=…` (empty body, `x-acs-action`/`x-acs-version` headers) and reading the whole answer. \
         With authentication on, every request is signed (ACS3-HMAC-SHA256) with a unique nonce **before** the \
         timed window, so both sides get identical pre-signed requests and the driver's cost is the same for \
         both. B checks the same things by hand: action and version headers; with auth on the Authorization \
         header, the signed headers, the key, the date window, the payload hash, the signature \
         (`alibaba_rpc_runtime::signature::v3`) and a nonce replay set; then the parameters (serde `Query`), the \
         page bounds, the instance; it answers the same JSON (same fields, same order, `RequestId` an \
         uppercase UUID, also in `x-acs-request-id`). The harness checks the two answers are equal (but for the \
         RequestId) before measuring.\n"
    );
    let _ = writeln!(
        out,
        "| auth | concurrency | A req/s | B req/s | throughput A/B | A p50 ms | B p50 ms | p50 A/B | A p99 ms | \
         B p99 ms | p99 A/B |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &report.server {
        let r = &row.rounds;
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} |",
            row.auth.label(),
            early(r),
            row.concurrency,
            sides(r, rate, 0),
            sides(r, p50, 3),
            sides(r, p99, 3),
        );
    }
    let _ = writeln!(out);
    render_cpu(
        out,
        "auth, concurrency",
        report.server.iter().map(|row| (format!("{}, {}", row.auth.label(), row.concurrency), &row.rounds)),
        "The server columns are the pipelines' cost; the client is the load driver, the same on both sides.",
    );
}

fn render_client(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Client: generated client (A) vs raw reqwest with pre-signed requests (B)\n");
    let _ = writeln!(
        out,
        "Both call Describe on one server **with authentication on** (a fresh server process per row) from the \
         same process: side B's server (the hand-written handler) for signature version 3, side A's (the \
         generated router; B verifies version 3 only) for version 1.0. A is `smartag_client::Client` with its \
         defaults but the signature version (it validates, signs with a fresh nonce, sends, and decodes every \
         call inside the window). B is a default `reqwest::Client` executing requests signed before the window \
         (URL and headers ready, as the client would send them) and decoding the answer with serde into a \
         hand-written struct. Concurrent calls share one client (one connection pool) in both. Each side \
         keeps its client and its connections for the whole row and warms up once; then the two take turns in \
         short windows (A B, B A, A B, …), so that each round's pair is measured under the same outside load.\n\n\
         What A does that B does not, per call: validate the request and flatten its parameters, make a nonce \
         and a timestamp, build the canonical query, sign (version 3: one SHA-256 over the canonical request, \
         hashed as it is written, and one HMAC; version 1.0: one HMAC-SHA1), build the request, and run the \
         per-attempt timeout (one tokio timer; raw reqwest has none by default). Everything else — reqwest, \
         hyper, tokio, the kernel's loopback, serde — is the same code on both sides, and is most of a call's \
         CPU time. `cargo run --release -p smartag-bench --example client_cost -- A|B ADDR [CONCURRENCY] \
         [SECONDS|nCALLS] [v1|v3]` runs one side alone against a running `serve` child and prints its CPU \
         time and allocations per call; with `nCALLS` it makes a fixed number of calls, a target for \
         `valgrind --tool=callgrind`.\n"
    );
    let _ = writeln!(
        out,
        "| signature | server | concurrency | A calls/s | B calls/s | calls/s A/B | A p50 ms | B p50 ms | p50 A/B |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in &report.client {
        let r = &row.rounds;
        let _ = writeln!(
            out,
            "| {} | {} | {}{} | {} | {} |",
            row.signing,
            row.server,
            row.concurrency,
            early(r),
            sides(r, rate, 0),
            sides(r, p50, 3),
        );
    }
    let _ = writeln!(out);
    render_cpu(
        out,
        "signature, concurrency",
        report.client.iter().map(|row| (format!("{}, {}", row.signing, row.concurrency), &row.rounds)),
        "The client columns are the clients' cost (this process makes the calls and nothing else during a \
         window); the server is the same process for both sides of a row.",
    );
    if report
        .server
        .iter()
        .map(|r| &r.rounds)
        .chain(report.client.iter().map(|r| &r.rounds))
        .any(Rounds::any_ended_early)
    {
        let _ = writeln!(
            out,
            "† a window of this row ended before its time because a caller used up its pre-signed requests \
             (sized from the warm-up's rate); its rate is still completed calls over the time taken.\n"
        );
    }
}

fn size_label(size: usize) -> String {
    if size >= 1000 && size.is_multiple_of(1000) { format!("{}k", size / 1000) } else { size.to_string() }
}

/// `median (min–max)` of per-round rates.
fn rates(values: &[f64]) -> String {
    spread(Spread::of(values.iter().copied()), 0)
}

fn render_service(out: &mut String, service: &ServiceReport) {
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
        for m in medians.iter().skip(1) {
            let cell = match (medians.first().copied().flatten(), m) {
                (Some(base), Some(m)) if base.median > 0.0 => format!("**{:.2}×**", m.median / base.median),
                _ => "–".to_owned(),
            };
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
    let single = Spread::of(service.raw_single.iter().copied()).map(|s| s.median);
    let versus = |values: &[f64]| match (Spread::of(values.iter().copied()), single) {
        (Some(v), Some(base)) if base > 0.0 => format!("**{:.1}×**", v.median / base),
        _ => "–".to_owned(),
    };
    let versus_alone =
        |values: &[f64], alone: &[f64]| match (Spread::of(values.iter().copied()), Spread::of(alone.iter().copied())) {
            (Some(v), Some(base)) if base.median > 0.0 => format!("**{:.1}×**", v.median / base.median),
            _ => "–".to_owned(),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

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
            sdk: vec![SdkRow { sdk: "Test SDK", rounds }],
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
    }
}
