//! Issue 12's targets at a glance: each threshold the issue sets, the figure of this run that it
//! is judged by (taken from the tables below it, not typed in), and whether it was met.

use std::fmt::Write as _;

use super::Report;
use super::cells::{median_ratio, p50, rate, size_label};
use super::service::ServiceReport;
use crate::stats::{Rounds, Sample, Spread};

/// The server's throughput and p50 against the hand-written handler: at least 0.9× (so its p50
/// at most 1/0.9 of the handler's).
const SERVER_MIN: f64 = 0.9;
/// The client's calls per second against raw reqwest with pre-signed requests.
const CLIENT_MIN: f64 = 0.95;
/// The client's sequential calls per second against each official Python SDK.
const SDK_MIN: f64 = 10.0;
/// A service row at the largest instance against the smallest: within 1.5×.
const SERVICE_MIN: f64 = 1.0 / 1.5;
/// A Create with a password against the argon2id hash alone.
const HASH_MIN: f64 = 0.9;
/// Grouped Creates against the store committing each Create alone.
const GROUP_COMMIT_MIN: f64 = 5.0;
/// The generator's time for 300 operations, seconds.
const GENERATOR_MAX_SECS: f64 = 1.0;

/// One line of the table: what is compared, the threshold, this run's figure, and where the
/// table's reader finds the gap explained when the target is missed.
struct Target {
    what: String,
    figure: Option<f64>,
    /// The threshold's value.
    limit: f64,
    /// Whether the figure must be at least the limit (otherwise at most).
    at_least: bool,
    unit: &'static str,
    explained: &'static str,
}

impl Target {
    /// A figure that must be at least `min`.
    fn at_least(what: String, figure: Option<f64>, min: f64, unit: &'static str, explained: &'static str) -> Self {
        Target { what, figure, limit: min, at_least: true, unit, explained }
    }

    /// A figure that must be at most `max`.
    fn at_most(what: String, figure: Option<f64>, max: f64, unit: &'static str, explained: &'static str) -> Self {
        Target { what, figure, limit: max, at_least: false, unit, explained }
    }

    /// Whether the figure meets the threshold; `None` when it was not measured.
    fn met(&self) -> Option<bool> {
        self.figure.map(|f| if self.at_least { f >= self.limit } else { f <= self.limit })
    }

    /// The threshold as the table shows it (`≥ 0.95×`).
    fn threshold(&self) -> String {
        format!("{} {}{}", if self.at_least { "≥" } else { "≤" }, trim(self.limit), self.unit)
    }
}

/// `value` with two decimals, without trailing zeros (`0.9`, `10`, `1.11`).
fn trim(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `figure` with two decimals, or three when two would show it equal to `limit` (0.947 against
/// 0.95 is a miss, and must not read `0.95`).
fn shown(figure: f64, limit: f64) -> String {
    let two = format!("{figure:.2}");
    if two == format!("{limit:.2}") && figure != limit { format!("{figure:.3}") } else { two }
}

/// The median of the per-round ratios A/B of `field`.
fn ratio(rounds: &Rounds, field: fn(&Sample) -> f64) -> Option<f64> {
    rounds.ratio_spread(field).map(|s| s.median)
}

/// The table, when anything it judges was measured.
pub(super) fn render_targets(out: &mut String, report: &Report) {
    let targets = collect(report);
    if targets.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Targets at a glance\n");
    let _ = writeln!(
        out,
        "Each threshold of issue 12 next to the figure of this run it is judged by, taken from the tables \
         below (ratios: the median of the per-round ratios A/B; service rows: the largest instance's median \
         over the smallest's). Where a target is missed, the note named in the last column says what the \
         remaining gap is made of, with the profile that shows it.\n"
    );
    let _ = writeln!(out, "| target | threshold | this run | |\n|---|---:|---:|---|");
    for t in &targets {
        let figure = t.figure.map_or_else(|| "–".to_owned(), |f| format!("{}{}", shown(f, t.limit), t.unit));
        let verdict = match t.met() {
            Some(true) => "met".to_owned(),
            Some(false) if t.explained.is_empty() => "**missed**".to_owned(),
            Some(false) => format!("**missed**: {}", t.explained),
            None => "not measured".to_owned(),
        };
        let _ = writeln!(out, "| {} | {} | {figure} | {verdict} |", t.what, t.threshold());
    }
    let _ = writeln!(out);
}

/// Every target the report has the figures for, in the order of its sections.
fn collect(report: &Report) -> Vec<Target> {
    let mut targets = Vec::new();
    const SERVER_NOTE: &str = "*What the server's gap is made of*";
    for row in &report.server {
        let at = format!("auth {}, {} concurrent", row.auth.label(), row.concurrency);
        targets.push(Target::at_least(
            format!("Server: throughput A/B, {at}"),
            ratio(&row.rounds, rate),
            SERVER_MIN,
            "×",
            SERVER_NOTE,
        ));
        targets.push(Target::at_most(
            format!("Server: p50 A/B, {at}"),
            ratio(&row.rounds, p50),
            1.0 / SERVER_MIN,
            "×",
            SERVER_NOTE,
        ));
    }
    for row in &report.client {
        targets.push(Target::at_least(
            format!("Client: calls/s A/B, {}, {} concurrent", row.signing, row.concurrency),
            ratio(&row.rounds, rate),
            CLIENT_MIN,
            "×",
            "*What the client's gap is made of*",
        ));
    }
    for row in report.sdk.iter().filter(|row| !row.reference) {
        targets.push(Target::at_least(
            format!("Client vs {}: sequential calls/s", row.sdk),
            ratio(&row.rounds, rate),
            SDK_MIN,
            "×",
            "*What bounds this ratio*",
        ));
    }
    if let Some(service) = &report.service {
        service_targets(service, &mut targets);
    }
    if let Some(largest) = report.scaling.iter().rfind(|row| row.operations == 300) {
        let ms = Spread::of(largest.generate_ms.iter().copied()).map(|s| s.median);
        targets.push(Target::at_most(
            "Generator: `gen` for 300 operations".to_owned(),
            ms.map(|ms| ms / 1000.0),
            GENERATOR_MAX_SECS,
            " s",
            "",
        ));
    }
    targets
}

/// The service's rows at the largest instance against the smallest, a Create with a password
/// against hashing alone, and grouped Creates against one commit each.
fn service_targets(service: &ServiceReport, targets: &mut Vec<Target>) {
    let (Some(first), Some(last)) = (service.sizes.first(), service.sizes.last()) else { return };
    for row in &service.rows {
        let (Some(small), Some(large)) = (row.per_size.first(), row.per_size.last()) else { continue };
        let figure = median_ratio(large.iter().map(rate), small.iter().map(rate));
        targets.push(Target::at_least(
            format!("Service: {}, {} vs {} users", row.label, size_label(*last), size_label(*first)),
            figure,
            SERVICE_MIN,
            "×",
            "",
        ));
        if row.label.contains("with Password") {
            let figure = median_ratio(large.iter().map(rate), service.hash_only.iter().copied());
            targets.push(Target::at_least(
                format!("Service: {} vs argon2id hashing alone, {} users", row.label, size_label(*last)),
                figure,
                HASH_MIN,
                "×",
                "",
            ));
        }
    }
    let at_largest = service.sizes.len().checked_sub(1);
    let grouped = at_largest.and_then(|i| service.store_create_wide.get(i).filter(|v| !v.is_empty()));
    let alone = at_largest.and_then(|i| service.store_single.get(i));
    if let (Some(grouped), Some(alone)) = (grouped, alone) {
        targets.push(Target::at_least(
            format!(
                "Store: grouped Creates ({} threads) vs one commit per Create, {} users",
                super::WIDE_CALLERS,
                size_label(*last)
            ),
            median_ratio(grouped.iter().copied(), alone.iter().copied()),
            GROUP_COMMIT_MIN,
            "×",
            "",
        ));
        targets.push(Target::at_least(
            format!(
                "Store: grouped Creates ({} threads) vs raw SQLite, one `fsync` per insert, {} users",
                super::WIDE_CALLERS,
                size_label(*last)
            ),
            median_ratio(grouped.iter().copied(), service.raw_single.iter().copied()),
            1.0,
            "×",
            "",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_written_without_trailing_zeros() {
        assert_eq!(trim(0.9), "0.9");
        assert_eq!(trim(10.0), "10");
        assert_eq!(trim(1.0 / 0.9), "1.11");
        assert_eq!(trim(1.0 / 1.5), "0.67");
    }

    #[test]
    fn a_figure_is_never_shown_as_its_threshold_unless_it_is_it() {
        assert_eq!(shown(0.947, 0.95), "0.947");
        assert_eq!(shown(0.953, 0.95), "0.953");
        assert_eq!(shown(0.95, 0.95), "0.95");
        assert_eq!(shown(0.912, 0.95), "0.91");
        assert_eq!(shown(4.331, 10.0), "4.33");
    }

    #[test]
    fn a_figure_meets_its_threshold_or_misses_it() {
        let met = Target::at_least("x".into(), Some(0.95), 0.95, "×", "");
        assert_eq!(met.met(), Some(true));
        let missed = Target::at_least("x".into(), Some(0.94), 0.95, "×", "");
        assert_eq!(missed.met(), Some(false));
        let under = Target::at_most("x".into(), Some(1.2), 1.0 / 0.9, "×", "");
        assert_eq!(under.met(), Some(false));
        let unmeasured = Target::at_least("x".into(), None, 0.95, "×", "");
        assert_eq!(unmeasured.met(), None);
    }
}
