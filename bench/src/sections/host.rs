//! The machine the numbers are taken on (CPU, logical CPUs, rustc, kernel, load average) and the
//! date, for the head of the report.

use std::path::Path;
use std::process::Command;

use smartag_bench::report::Machine;

/// The text of the file at `path`, trimmed, if it can be read.
fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

/// The 1, 5 and 15 minute load averages of /proc/loadavg, or `unknown`.
pub fn loadavg() -> String {
    read_trimmed("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The machine this runs on, with the load average now (`rustc` asked in `root`, where a
/// toolchain file would pick it).
pub fn probe(root: &Path) -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let rustc = Command::new("rustc")
        .arg("--version")
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    Machine {
        nproc: std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get),
        cpu,
        rustc,
        kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_else(|| "unknown".to_owned()),
        load_before: loadavg(),
        load_after: String::new(),
        stolen_pct: None,
    }
}

/// Now, `YYYY-MM-DD HH:MM:SS UTC`.
pub fn now_utc() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::now_utc().format(format).unwrap_or_else(|_| "unknown".to_owned())
}
