//! The client section: the generated client (A) against raw reqwest with pre-signed requests (B),
//! for each signature version and concurrency.

use std::fmt::Write as _;

use super::Report;
use super::cells::{early, p50, rate, sides};
use super::cpu_table::render_cpu;
use crate::stats::Rounds;

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

/// The client section's heading, how it is measured, its table, its CPU table, and the footnote
/// of the rows (server or client) with a window ended early.
pub(super) fn render_client(out: &mut String, report: &Report) {
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
