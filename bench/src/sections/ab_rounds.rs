//! What the server and client sections share: the concurrencies of their rows, the order of the
//! two sides in a round, the size of the pre-signed pools, and the progress line of a round.

use std::time::Duration;

use smartag_bench::Side;
use smartag_bench::stats::Sample;

/// The concurrencies of the server and client rows.
pub const CONCURRENCY: [usize; 2] = [1, 32];
/// The rate assumed before a warm-up has measured one, calls/s (sizes the first pre-signed pool).
pub const FIRST_ESTIMATE: f64 = 20_000.0;

/// `s` seconds.
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Pre-signed requests per caller for `duration` at `rate` calls/s over `concurrency` callers,
/// with a margin.
pub fn per_caller(rate: f64, duration: f64, concurrency: usize) -> usize {
    let total = rate.max(100.0) * duration * 1.6;
    (total / concurrency as f64).ceil() as usize + 100
}

/// Prints one round's sample of `side` in the row `what` (rate, latency, CPU time per call).
pub fn progress(what: &str, round: usize, rounds: usize, side: &str, s: &Sample) {
    let cpu = if s.client_cpu_us.is_nan() {
        String::new()
    } else {
        format!(
            "  cpu/call client {:.1} µs server {:.1} µs  stolen {:.1} %",
            s.client_cpu_us, s.server_cpu_us, s.stolen_pct
        )
    };
    eprintln!(
        "  {what} round {}/{rounds} {side}: {:>8.0} /s  p50 {:.3} ms  p99 {:.3} ms{cpu}{}",
        round + 1,
        s.rate,
        s.p50_ms,
        s.p99_ms,
        if s.ended_early { " (ended early)" } else { "" }
    );
}

/// The order of round `round`: A first in even rounds, B first in odd ones.
pub fn order(round: usize) -> [Side; 2] {
    if round.is_multiple_of(2) { [Side::A, Side::B] } else { [Side::B, Side::A] }
}
