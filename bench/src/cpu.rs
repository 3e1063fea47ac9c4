//! CPU time of a process (this one, or a server child), read from `/proc/<pid>/stat` around a
//! timed window. CPU time per call is steadier than calls per second on a shared machine: a
//! neighbour's load lowers a side's throughput, but hardly what one call costs.
//!
//! Also the share of the machine's CPU time the hypervisor gave to other guests (`steal` in
//! `/proc/stat`) over a window: how much of a window's noise came from outside this machine.

use std::time::Duration;

/// The unit of `/proc/<pid>/stat`'s times: the kernel reports them in `USER_HZ`, 100 per second
/// on x86-64 and aarch64 whatever the kernel's own tick (`getconf CLK_TCK`).
const USER_HZ: u64 = 100;

/// Which process to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Process {
    /// The benchmark itself (the load driver, or the client under test).
    This,
    /// A child, by pid (a server under test).
    Child(u32),
}

/// The user + system CPU time `process` has used so far (all its threads, the finished ones
/// included); `None` where `/proc` cannot be read (not Linux).
pub fn used(process: Process) -> Option<Duration> {
    let path = match process {
        Process::This => "/proc/self/stat".to_owned(),
        Process::Child(pid) => format!("/proc/{pid}/stat"),
    };
    parse_stat(&std::fs::read_to_string(path).ok()?)
}

/// `utime + stime` of a `/proc/<pid>/stat` line. The command name (field 2) is in parentheses
/// and may hold spaces, so fields are counted after its closing parenthesis: the state is the
/// first, `utime` the 12th and `stime` the 13th.
fn parse_stat(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    let ticks = user + system;
    Some(Duration::from_millis(ticks * 1000 / USER_HZ))
}

/// The machine's CPU time so far, all CPUs, in `USER_HZ` ticks: (stolen by the hypervisor, all
/// of it); `None` where `/proc/stat` cannot be read.
pub fn machine_ticks() -> Option<(u64, u64)> {
    parse_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

/// The first line of `/proc/stat`: `cpu user nice system idle iowait irq softirq steal guest
/// guest_nice`. The total is the first eight (guest time is already counted in user time).
fn parse_proc_stat(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().next()?;
    let mut fields = line.split_ascii_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let ticks: Vec<u64> = fields.take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    let steal = *ticks.get(7)?;
    Some((steal, ticks.iter().sum()))
}

/// The share of the machine's CPU time stolen between two [`machine_ticks`] readings, per cent.
pub fn stolen_pct(start: Option<(u64, u64)>, end: Option<(u64, u64)>) -> Option<f64> {
    let ((steal0, total0), (steal1, total1)) = (start?, end?);
    let total = total1.checked_sub(total0).filter(|&t| t > 0)?;
    Some(steal1.checked_sub(steal0)? as f64 * 100.0 / total as f64)
}

/// The CPU time two processes use over one window, and the machine's stolen share.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    client: Option<Duration>,
    server: Option<Duration>,
    server_process: Option<Process>,
    machine: Option<(u64, u64)>,
}

/// What a [`Meter`] measured: CPU time used by the client (this process) and by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    /// This process's CPU time over the window.
    pub client: Option<Duration>,
    /// The server child's CPU time over the window.
    pub server: Option<Duration>,
    /// The share of the machine's CPU time stolen by the hypervisor over the window, per cent.
    pub stolen_pct: Option<f64>,
}

impl Meter {
    /// Starts measuring this process and, when given, the server child `server_pid`.
    pub fn start(server_pid: Option<u32>) -> Meter {
        let server_process = server_pid.map(Process::Child);
        Meter {
            client: used(Process::This),
            server: server_process.and_then(used),
            server_process,
            machine: machine_ticks(),
        }
    }

    /// The CPU time used since [`Meter::start`].
    pub fn stop(self) -> CpuUse {
        let since = |start: Option<Duration>, process: Option<Process>| {
            let end = used(process?)?;
            end.checked_sub(start?)
        };
        CpuUse {
            client: since(self.client, Some(Process::This)),
            server: since(self.server, self.server_process),
            stolen_pct: stolen_pct(self.machine, machine_ticks()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_after_the_command_name() {
        // pid (comm with spaces and a parenthesis) state ppid pgrp session tty tpgid flags minflt
        // cminflt majflt cmajflt utime stime …
        let line = "4242 (smartag bench) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 3 0 1";
        assert_eq!(parse_stat(line), Some(Duration::from_millis(3250)));
        assert_eq!(parse_stat("4242 (short) S 1"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn reads_the_stolen_share_from_the_first_line_of_proc_stat() {
        let before = "cpu  100 0 50 800 10 0 5 20 7 0\ncpu0 50 0 25 400 5 0 2 10 3 0\n";
        let after = "cpu  150 0 70 900 10 0 5 40 9 0\ncpu0 75 0 35 450 5 0 2 20 4 0\n";
        assert_eq!(parse_proc_stat(before), Some((20, 985)));
        assert_eq!(parse_proc_stat(after), Some((40, 1175)));
        // 20 of the 190 ticks between the two readings were stolen.
        let pct = stolen_pct(parse_proc_stat(before), parse_proc_stat(after)).unwrap();
        assert!((pct - 20.0 * 100.0 / 190.0).abs() < 1e-9, "{pct}");
        assert_eq!(stolen_pct(parse_proc_stat(after), parse_proc_stat(after)), None, "no time passed");
        assert_eq!(parse_proc_stat("intr 1 2 3\n"), None);
        assert_eq!(parse_proc_stat("cpu 1 2 3\n"), None, "a kernel without the steal column");
    }

    #[test]
    fn this_process_cpu_time_advances_while_it_computes() {
        let Some(before) = used(Process::This) else { return }; // not Linux
        let give_up = std::time::Instant::now() + Duration::from_secs(20);
        let mut x = 0u64;
        let mut advanced = Duration::ZERO;
        while advanced < Duration::from_millis(50) && std::time::Instant::now() < give_up {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            advanced = used(Process::This).and_then(|now| now.checked_sub(before)).unwrap_or_default();
        }
        assert!(advanced >= Duration::from_millis(50), "CPU time advanced only {advanced:?} in 20 s of computing");
    }
}
