//! The CPU table of the server and client sections: both processes' CPU time per call on each
//! side, their ratio, and the share of the machine stolen by the hypervisor.

use std::fmt::Write as _;

use super::cells::{sides, spread};
use crate::stats::{Rounds, Sample};

/// CPU microseconds per call of this process (the client), over a sample's window.
fn client_cpu(s: &Sample) -> f64 {
    s.client_cpu_us
}

/// CPU microseconds per call of the server process, over a sample's window.
fn server_cpu(s: &Sample) -> f64 {
    s.server_cpu_us
}

/// The machine's CPU time stolen by the hypervisor during a sample's window, per cent.
fn stolen(s: &Sample) -> f64 {
    s.stolen_pct
}

/// The CPU table of a section: per row (`label`), both processes' CPU microseconds per call on
/// each side, and A/B. `whose` says which process the section is about.
pub(super) fn render_cpu<'a>(
    out: &mut String,
    key: &str,
    rows: impl Iterator<Item = (String, &'a Rounds)>,
    whose: &str,
) {
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
