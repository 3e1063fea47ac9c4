//! The server section: the generated router (A) against the hand-written axum handler (B), with
//! and without authentication, at each concurrency.

use std::fmt::Write as _;

use super::Report;
use super::cells::{early, p50, p99, rate, sides};
use super::cpu_table::render_cpu;
use crate::Auth;
use crate::stats::Rounds;

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

/// The server section's heading, how it is measured, its table and its CPU table.
pub(super) fn render_server(out: &mut String, report: &Report) {
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
