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
    /// Durations and counts.
    pub settings: Settings,
    /// Server rows.
    pub server: Vec<ServerRow>,
    /// Client rows.
    pub client: Vec<ClientRow>,
    /// Generator timing, if measured.
    pub generator: Option<Generator>,
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

/// `median (min–max)` with `digits` decimals.
fn spread(s: Option<Spread>, digits: usize) -> String {
    match s {
        Some(s) => format!("{:.d$} ({:.d$}–{:.d$})", s.median, s.min, s.max, d = digits),
        None => "–".to_owned(),
    }
}

/// The ratio of the medians, `×`, with the per-round ratios' range.
fn ratio(rounds: &Rounds, field: fn(&Sample) -> f64) -> String {
    let (Some(a), Some(b)) = (rounds.a_spread(field), rounds.b_spread(field)) else { return "–".to_owned() };
    let per_round = rounds.ratio_spread(field);
    match per_round {
        Some(r) => format!("**{:.2}×** ({:.2}–{:.2})", a.median / b.median, r.min, r.max),
        None => format!("**{:.2}×**", a.median / b.median),
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
    let _ = writeln!(
        out,
        "| rounds per row | {} (each: {:.1} s warm-up, then a {:.1} s window; A and B back to back, alternating \
         which goes first) |",
        s.rounds, s.warmup_secs, s.window_secs
    );
    let _ = writeln!(out, "| whole run | {:.0} s |\n", report.total_secs);
    let _ = writeln!(
        out,
        "Each cell is the **median over rounds (min–max)**. Ratios are **A/B of the medians**, with the range \
         of the per-round ratios in brackets. For throughput a ratio below 1 means A is slower; for latency a \
         ratio above 1 means A is slower.\n"
    );

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
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.auth.label(),
            early(r),
            row.concurrency,
            spread(r.a_spread(rate), 0),
            spread(r.b_spread(rate), 0),
            ratio(r, rate),
            spread(r.a_spread(p50), 3),
            spread(r.b_spread(p50), 3),
            ratio(r, p50),
            spread(r.a_spread(p99), 3),
            spread(r.b_spread(p99), 3),
            ratio(r, p99),
        );
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "## Client: generated client (A) vs raw reqwest with pre-signed requests (B)\n");
    let _ = writeln!(
        out,
        "Both call Describe on side B's server **with authentication on** (a fresh server process per row) from \
         the same process. A is `smartag_client::Client` with its defaults (signature version 3; it validates, \
         signs with a fresh nonce, sends, and decodes every call inside the window). B is a default \
         `reqwest::Client` executing requests signed before the window and decoding the answer with serde into \
         a hand-written struct. Concurrent calls share one client (one connection pool) in both.\n"
    );
    let _ = writeln!(out, "| concurrency | A calls/s | B calls/s | calls/s A/B | A p50 ms | B p50 ms | p50 A/B |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|");
    for row in &report.client {
        let r = &row.rounds;
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} | {} | {} | {} |",
            row.concurrency,
            early(r),
            spread(r.a_spread(rate), 0),
            spread(r.b_spread(rate), 0),
            ratio(r, rate),
            spread(r.a_spread(p50), 3),
            spread(r.b_spread(p50), 3),
            ratio(r, p50),
        );
    }
    let _ = writeln!(out);
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rate: f64, p50_ms: f64) -> Sample {
        Sample { rate, p50_ms, p99_ms: p50_ms * 2.0, ended_early: false }
    }

    #[test]
    fn renders_every_row_with_ratios() {
        let rounds = Rounds { a: vec![sample(50.0, 2.0), sample(60.0, 2.0)], b: vec![sample(100.0, 1.0); 2] };
        let report = Report {
            machine: Machine { nproc: 2, cpu: "Test CPU".into(), ..Machine::default() },
            command: "cargo run --release -p smartag-bench --".into(),
            date: "2026-01-01 00:00:00 UTC".into(),
            total_secs: 1.0,
            settings: Settings { rounds: 2, warmup_secs: 0.1, window_secs: 0.5, generator_runs: 1 },
            server: vec![ServerRow { auth: Auth::On, concurrency: 32, rounds: rounds.clone() }],
            client: vec![ClientRow { concurrency: 1, rounds }],
            generator: Some(Generator { runs_ms: vec![40.0], files: 9, lines: 1000, operations: 3 }),
        };
        let text = render(&report);
        assert!(text.contains("| on | 32 | 55 (50–60) | 100 (100–100) | **0.55×** (0.50–0.60) |"), "{text}");
        assert!(text.contains("| 1 | 55 (50–60) |"), "{text}");
        assert!(text.contains("Test CPU"));
        assert!(text.contains("3 operations → 9 files, 1000 lines"), "{text}");
    }
}
