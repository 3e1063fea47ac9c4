//! The official-SDK section: the generated client (A) against Alibaba's official Python SDKs (B),
//! sequential calls, with the raw-reqwest and bare-hyper floor rows.

use std::fmt::Write as _;

use super::cells::{p50, rate, sides};
use crate::stats::{Rounds, Spread};

/// One official-SDK row: the generated client (A) against one of Alibaba's Python SDKs (B),
/// sequential calls.
#[derive(Debug, Clone)]
pub struct SdkRow {
    /// Which SDK, as the report names it.
    pub sdk: &'static str,
    /// Not an SDK: a reference row (raw reqwest, the bare driver), judged by no target.
    pub reference: bool,
    /// A: the generated client; B: the SDK.
    pub rounds: Rounds,
}

/// The official-SDK section's heading, how it is measured, its table, and how far above the first
/// SDK the bare driver reached.
pub(super) fn render_sdk(out: &mut String, rows: &[SdkRow]) {
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
