//! The cells of the tables: a field of a round's sample, `median (min–max)`, the ratios A/B (per
//! round, or of two medians), the instance sizes, and the mark of a row with a window ended early.

use crate::stats::{Rounds, Sample, Spread};

/// Calls (or requests) per second of a sample.
pub(super) fn rate(s: &Sample) -> f64 {
    s.rate
}

/// Median latency of a sample, milliseconds.
pub(super) fn p50(s: &Sample) -> f64 {
    s.p50_ms
}

/// 99th-percentile latency of a sample, milliseconds.
pub(super) fn p99(s: &Sample) -> f64 {
    s.p99_ms
}

/// Three cells of `field`: A's spread, B's spread and their ratio.
pub(super) fn sides(r: &Rounds, field: fn(&Sample) -> f64, digits: usize) -> String {
    format!("{} | {} | {}", spread(r.a_spread(field), digits), spread(r.b_spread(field), digits), ratio(r, field))
}

/// `median (min–max)` with `digits` decimals.
pub(super) fn spread(s: Option<Spread>, digits: usize) -> String {
    match s {
        Some(s) => format!("{:.d$} ({:.d$}–{:.d$})", s.median, s.min, s.max, d = digits),
        None => "–".to_owned(),
    }
}

/// The median of the per-round ratios A/B, `×`, with their range. A round's two windows are
/// measured back to back, so each ratio is taken under one outside load; the median of those
/// follows a load that changes during a row better than the ratio of the two sides' medians.
pub(super) fn ratio(rounds: &Rounds, field: fn(&Sample) -> f64) -> String {
    match rounds.ratio_spread(field) {
        Some(r) => format!("**{:.2}×** ({:.2}–{:.2})", r.median, r.min, r.max),
        None => "–".to_owned(),
    }
}

/// ` †` when a window of the row ended before its time (see the client section's footnote), else
/// nothing.
pub(super) fn early(rounds: &Rounds) -> &'static str {
    if rounds.any_ended_early() { " †" } else { "" }
}

/// The median of `over` divided by the median of `under`; `None` when either is empty or the
/// divisor is not positive.
pub(super) fn median_ratio(over: impl IntoIterator<Item = f64>, under: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (over, under) = (Spread::of(over)?, Spread::of(under)?);
    (under.median > 0.0).then(|| over.median / under.median)
}

/// The median of `b` over the median of `a` of `field`, bold, or `–`.
pub(super) fn ratio_cell(a: &[Sample], b: &[Sample], field: fn(&Sample) -> f64) -> String {
    match median_ratio(b.iter().map(field), a.iter().map(field)) {
        Some(ratio) => format!("**{ratio:.2}×**"),
        None => "–".to_owned(),
    }
}

/// `1k`, `100k`, … for whole thousands of users, else the number.
pub(super) fn size_label(size: usize) -> String {
    if size >= 1000 && size.is_multiple_of(1000) { format!("{}k", size / 1000) } else { size.to_string() }
}

/// `median (min–max)` of per-round rates.
pub(super) fn rates(values: &[f64]) -> String {
    spread(Spread::of(values.iter().copied()), 0)
}
