//! The real binary started with any arguments and environment (seed files, TLS, environment
//! configuration, data locations), for the tests of operating the service.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::support::{HANG_GUARD, signal, wait_with_guard};

pub const BINARY: &str = env!("CARGO_BIN_EXE_smartag-service");

/// The binary with a clean environment for the variables it reads, so that the machine's own
/// `SMARTAG_*` or `RUST_LOG` never leak into a test.
pub fn command() -> Command {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SMARTAG_") {
            command.env_remove(&name);
        }
    }
    command.env_remove("RUST_LOG");
    command
}

/// Runs the binary to its end (hang-guarded: it must exit by itself, e.g. on a refusal).
pub fn run_to_end(mut command: Command) -> Output {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("still running after the hang guard: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A running service; killed when dropped.
pub struct Running {
    pub child: Child,
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: String,
    /// The data path the service printed.
    pub data: PathBuf,
    pub log: PathBuf,
}

impl Running {
    /// Starts `command` (stdout and stderr are taken here: stderr goes to `log`), and waits for
    /// its "listening on" line.
    pub fn start(mut command: Command, log: &Path) -> Running {
        let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("log file");
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::from(log_file)).spawn().expect("start");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
        let parsed = line.split_once("listening on ").and_then(|(_, rest)| {
            let (scheme, rest) = rest.split_once("://")?;
            let addr = rest.split_whitespace().next()?.parse().ok()?;
            let data = rest.split_once("(data: ")?.1.trim_end().strip_suffix(')')?;
            Some((scheme.to_owned(), addr, PathBuf::from(data)))
        });
        let Some((scheme, addr, data)) = parsed else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no listening line in {line:?}; log: {}", std::fs::read_to_string(log).unwrap_or_default());
        };
        Running { child, addr, scheme, data, log: log.to_owned() }
    }

    /// Sends SIGTERM and waits for the exit status (hang-guarded).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        signal(self.child.id(), "TERM");
        wait_with_guard(&mut self.child)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
