//! The head of `BENCHMARKS.md`: where and when the numbers were taken (the machine, the command,
//! the date, the load), the run's settings and how to read the cells.

use std::fmt::Write as _;

use super::Report;

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

/// The title, the machine and run table, and how to read the cells, before any section.
pub(super) fn render_header(out: &mut String, report: &Report) {
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
}
