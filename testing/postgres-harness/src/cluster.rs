//! One PostgreSQL server in a temporary folder.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::{HarnessError, find_bindir};

/// The user the server runs as when the tests run as root.
const SERVER_USER: &str = "postgres";

/// A PostgreSQL server of its own: data and socket in a temporary folder, listening on
/// `127.0.0.1` at a port that was free when it started, trust authentication for user `postgres`.
/// Dropping it stops the server (immediately) and removes the folder.
#[derive(Debug)]
pub struct PgCluster {
    bindir: PathBuf,
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    port: u16,
    as_server_user: bool,
    running: bool,
    /// `fsync` and `full_page_writes` on ([`PgCluster::start_durable`]).
    durable: bool,
}

impl PgCluster {
    /// Finds the binaries ([`crate::find_bindir`]), makes a new cluster with `initdb` and starts it
    /// with `pg_ctl -w`. The server runs with `fsync=off` (a test server: faster, and a crash of the
    /// machine is not among what the tests check).
    ///
    /// # Errors
    /// No binaries (naming what to install), or `initdb`/`pg_ctl` failing (with their output and
    /// the server log).
    pub fn start() -> Result<PgCluster, HarnessError> {
        PgCluster::start_with(false)
    }

    /// As [`PgCluster::start`], with PostgreSQL's own durability settings (`fsync` and
    /// `full_page_writes` on, as a production server runs): for measurements.
    ///
    /// # Errors
    /// As [`PgCluster::start`].
    pub fn start_durable() -> Result<PgCluster, HarnessError> {
        PgCluster::start_with(true)
    }

    fn start_with(durable: bool) -> Result<PgCluster, HarnessError> {
        let bindir = find_bindir()?;
        let as_server_user = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("pg-harness-")
            .tempdir()
            .map_err(|source| HarnessError::Io { what: "create the cluster's temporary folder".into(), source })?;
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join("sock"))
            .map_err(|source| HarnessError::Io { what: "create the socket folder".into(), source })?;
        if as_server_user {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg(format!("{SERVER_USER}:")).arg(&root);
            run(chown, "chown the cluster folder to the postgres user", PathBuf::from("chown"))?;
        }
        let mut cluster = PgCluster { bindir, dir: Some(dir), root, port: 0, as_server_user, running: false, durable };
        cluster.initdb()?;
        let mut last = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            cluster.write_settings()?;
            match cluster.start_server() {
                Ok(()) => return Ok(cluster),
                // Another process may have taken the port between the probe and the start.
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or(HarnessError::Shared("the server did not start".into())))
    }

    /// One cluster for the whole test process, started on first use. It is never dropped: a
    /// watchdog process stops it and removes its folder when the test process has exited.
    ///
    /// # Errors
    /// When it did not start (the same error for every caller).
    pub fn shared() -> Result<&'static PgCluster, HarnessError> {
        static SHARED: OnceLock<Result<PgCluster, String>> = OnceLock::new();
        let cluster = SHARED.get_or_init(|| {
            let cluster = PgCluster::start().map_err(|e| e.to_string())?;
            cluster.watch_parent().map_err(|e| e.to_string())?;
            Ok(cluster)
        });
        cluster.as_ref().map_err(|e| HarnessError::Shared(e.clone()))
    }

    /// The URL of database `postgres` as user `postgres`, e.g.
    /// `postgres://postgres@127.0.0.1:41234/postgres`.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The folder of the server binaries this cluster runs (`psql` is there too).
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The port the server listens on (kept across [`PgCluster::stop`] and [`PgCluster::start_again`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates database `name` (a plain identifier) and returns its URL.
    ///
    /// # Errors
    /// A bad name, or `psql` failing (e.g. the database exists, the server is stopped).
    pub fn create_database(&self, name: &str) -> Result<String, HarnessError> {
        create_database_at(&self.bindir, &self.url(), name)
    }

    /// Stops the server (`pg_ctl stop -m fast -w`): clients are disconnected; the data stays.
    ///
    /// # Errors
    /// When `pg_ctl` fails.
    pub fn stop(&mut self) -> Result<(), HarnessError> {
        self.pg_ctl(&["stop", "-m", "fast", "-w"], "stop the server")?;
        self.running = false;
        Ok(())
    }

    /// Starts the server again after [`PgCluster::stop`], on the same port and data.
    ///
    /// # Errors
    /// When `pg_ctl` fails (e.g. another process took the port meanwhile).
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.start_server()
    }

    /// Whether the server was started and not stopped since.
    pub fn is_running(&self) -> bool {
        self.running
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bindir.join(program);
        if self.as_server_user {
            let mut command = Command::new("runuser");
            command.args(["-u", SERVER_USER, "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn initdb(&self) -> Result<(), HarnessError> {
        let mut initdb = self.command("initdb");
        initdb.arg("-D").arg(self.data()).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]);
        run(initdb, "initdb", self.bindir.join("initdb")).map(drop)
    }

    /// Appends the harness's settings to `postgresql.conf` (the last value of a setting wins).
    fn write_settings(&self) -> Result<(), HarnessError> {
        use std::io::Write as _;
        let settings = format!(
            "\n# postgres-harness\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
             fsync = {durability}\nfull_page_writes = {durability}\nmax_connections = 300\n",
            self.port,
            self.root.join("sock").display(),
            durability = if self.durable { "on" } else { "off" },
        );
        let path = self.data().join("postgresql.conf");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(settings.as_bytes()))
            .map_err(|source| HarnessError::Io { what: format!("write {}", path.display()), source })
    }

    fn start_server(&mut self) -> Result<(), HarnessError> {
        let log = self.root.join("server.log");
        let log_arg = log.display().to_string();
        match self.pg_ctl(&["start", "-w", "-t", "60", "-l", &log_arg], "start the server") {
            Ok(()) => {
                self.running = true;
                Ok(())
            }
            Err(HarnessError::Failed { what, status, output }) => {
                let server_log = std::fs::read_to_string(&log).unwrap_or_default();
                Err(HarnessError::Failed { what, status, output: format!("{output}\nserver log:\n{server_log}") })
            }
            Err(other) => Err(other),
        }
    }

    fn pg_ctl(&self, args: &[&str], what: &str) -> Result<(), HarnessError> {
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl.arg("-D").arg(self.data()).args(args);
        run(pg_ctl, what, self.bindir.join("pg_ctl")).map(drop)
    }

    /// Starts a detached shell that waits for this process to exit, then stops the server and
    /// removes the folder (for [`PgCluster::shared`], which is never dropped).
    fn watch_parent(&self) -> Result<(), HarnessError> {
        let stop = format!(
            "{} -D '{}' -m immediate stop",
            if self.as_server_user {
                format!("runuser -u {SERVER_USER} -- '{}'", self.bindir.join("pg_ctl").display())
            } else {
                format!("'{}'", self.bindir.join("pg_ctl").display())
            },
            self.data().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{root}'",
            pid = std::process::id(),
            root = self.root.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(drop)
            .map_err(|source| HarnessError::Spawn { program: PathBuf::from("sh"), source })
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w"], "stop the server");
        }
        // The folder (owned by the postgres user when running as root; root may remove it).
        if let Some(dir) = self.dir.take() {
            let _ = dir.close();
        }
    }
}

/// Creates database `name` on the server of `url` (with `psql` from `bindir`) and returns the
/// URL of the new database.
pub(crate) fn create_database_at(bindir: &Path, url: &str, name: &str) -> Result<String, HarnessError> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        return Err(HarnessError::BadName(name.to_owned()));
    }
    let program = bindir.join("psql");
    let mut psql = Command::new(&program);
    psql.arg(url).args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c"]).arg(format!("CREATE DATABASE {name}"));
    run(psql, &format!("creating database {name}"), program)?;
    Ok(with_database(url, name))
}

/// `url` with its database replaced by `name` (its query string kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

fn run(mut command: Command, what: &str, program: PathBuf) -> Result<Output, HarnessError> {
    let output = command.stdin(Stdio::null()).output().map_err(|source| HarnessError::Spawn { program, source })?;
    if output.status.success() {
        return Ok(output);
    }
    let text = format!("{}{}", String::from_utf8_lossy(&output.stderr), String::from_utf8_lossy(&output.stdout));
    Err(HarnessError::Failed { what: what.to_owned(), status: output.status, output: text })
}

fn free_port() -> Result<u16, HarnessError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|source| HarnessError::Io { what: "find a free loopback port".into(), source })
}

/// Whether this process runs as root (the owner of `/proc/self` is the process's user).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_is_replaced_in_urls() {
        assert_eq!(with_database("postgres://u@h:1/postgres", "t1"), "postgres://u@h:1/t1");
        assert_eq!(with_database("postgres://u@h:1", "t1"), "postgres://u@h:1/t1");
        assert_eq!(with_database("postgres://u@h:1/db?sslmode=disable", "t1"), "postgres://u@h:1/t1?sslmode=disable");
    }
}
