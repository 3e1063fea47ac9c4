//! CPU time of a process (this one, or a server child), read from `/proc/<pid>/stat` around a
//! timed window. CPU time per call is steadier than calls per second on a shared machine: a
//! neighbour's load lowers a side's throughput, but hardly what one call costs.

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

/// The CPU time two processes use over one window.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    client: Option<Duration>,
    server: Option<Duration>,
    server_process: Option<Process>,
}

/// What a [`Meter`] measured: CPU time used by the client (this process) and by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    /// This process's CPU time over the window.
    pub client: Option<Duration>,
    /// The server child's CPU time over the window.
    pub server: Option<Duration>,
}

impl Meter {
    /// Starts measuring this process and, when given, the server child `server_pid`.
    pub fn start(server_pid: Option<u32>) -> Meter {
        let server_process = server_pid.map(Process::Child);
        Meter { client: used(Process::This), server: server_process.and_then(used), server_process }
    }

    /// The CPU time used since [`Meter::start`].
    pub fn stop(self) -> CpuUse {
        let since = |start: Option<Duration>, process: Option<Process>| {
            let end = used(process?)?;
            end.checked_sub(start?)
        };
        CpuUse { client: since(self.client, Some(Process::This)), server: since(self.server, self.server_process) }
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
