//! The server child processes, both ends: the child (this binary re-executed with the hidden
//! subcommand `serve` or `serve-service`), which prints `listening <addr>` and serves until its
//! stdin closes, and the parent's handle on it, which starts it and kills it when dropped.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use smartag_bench::{Auth, Side};

/// The child: serve `side` on 127.0.0.1:`port` until stdin closes (the parent went away).
pub fn serve(side: Side, auth: Auth, port: u16) -> Result<()> {
    serve_until_stdin_closes(port, |listener| smartag_bench::serve(side, auth, listener))
}

/// The child: serve the real service over `data` (or PostgreSQL `database_url`) until stdin closes.
pub fn serve_service(data: &Path, database_url: Option<&str>, config: &Path) -> Result<()> {
    serve_until_stdin_closes(0, |listener| smartag_bench::service::serve(data, database_url, config, listener))
}

/// Binds 127.0.0.1:`port`, prints `listening <addr>`, and runs `serve` until stdin closes.
fn serve_until_stdin_closes<F: std::future::Future<Output = Result<()>>>(
    port: u16,
    serve: impl FnOnce(tokio::net::TcpListener) -> F,
) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("tokio runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.context("binding")?;
        let addr = listener.local_addr().context("local address")?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening {addr}").context("stdout")?;
        stdout.flush().context("stdout")?;
        std::thread::spawn(|| {
            let mut buf = [0u8; 64];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            std::process::exit(0);
        });
        serve(listener).await
    })
}

/// A server child process, killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// The server process's id, to read its CPU time.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A child serving `side` with authentication `auth` on any free port.
    ///
    /// # Errors
    /// When it cannot be started or does not say where it listens.
    pub fn start(side: Side, auth: Auth) -> Result<Server> {
        Server::spawn(&["serve", "--side", side.label(), "--auth", auth.label()])
    }

    /// This binary re-executed with `args`; waits for its `listening <addr>` line.
    ///
    /// # Errors
    /// When it cannot be started or does not say where it listens.
    pub fn spawn(args: &[&str]) -> Result<Server> {
        let exe = std::env::current_exe().context("locating this binary")?;
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a server process")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let addr = read.ok().and_then(|_| line.trim().strip_prefix("listening ").and_then(|a| a.parse().ok()));
        match addr {
            Some(addr) => Ok(Server { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("server {args:?} did not start: {line:?}")
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
