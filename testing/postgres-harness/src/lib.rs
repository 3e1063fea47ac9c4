//! A throw-away PostgreSQL server for tests, started from the distribution's server binaries.
//!
//! [`PgCluster::start`] finds the binaries ([`find_bindir`]), runs `initdb` into a temporary folder
//! of its own (trust authentication, listening on `127.0.0.1` only, on a free port, its Unix socket
//! inside that folder) and starts the server with `pg_ctl -w`. When the process runs as root the
//! programs run as the `postgres` user (`runuser -u postgres --`), because the server refuses to
//! run as root. Dropping the cluster stops the server and removes the folder.
//!
//! ```no_run
//! # fn demo() -> Result<(), postgres_harness::HarnessError> {
//! let cluster = postgres_harness::PgCluster::start()?;
//! let url = cluster.create_database("my_test")?; // a fresh database for one test
//! // … connect to `url` …
//! # let _ = url;
//! # Ok(()) }
//! ```
//!
//! Tests that only need a database call [`fresh_database`]: it uses the server named by
//! [`URL_ENV`] (which the `with-postgres` binary sets) or else one cluster shared by the test
//! process ([`PgCluster::shared`]).

mod binaries;
mod cluster;

pub use binaries::{BIN_ENV, find_bindir};
pub use cluster::PgCluster;

use std::path::PathBuf;

/// The variable naming a running server for the tests (`postgres://user@host:port/db`); the
/// `with-postgres` binary sets it.
pub const URL_ENV: &str = "SMARTAG_TEST_POSTGRES_URL";

/// Why the harness could not give a server or a database.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No PostgreSQL server binaries were found.
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl) found: install them (Debian/Ubuntu: `apt-get install \
         postgresql`), or set {BIN_ENV} to the folder that holds them (e.g. /usr/lib/postgresql/15/bin); looked in: \
         {looked_in}"
    )]
    NoBinaries {
        /// Where the harness looked.
        looked_in: String,
    },
    /// A program could not be run at all.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A program ran and failed.
    #[error("{what} failed ({status}): {output}")]
    Failed {
        /// What was being done.
        what: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// Its standard error and output (and the server log, when starting).
        output: String,
    },
    /// A file or folder of the cluster could not be made.
    #[error("cannot {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A database name that is not a plain identifier.
    #[error("database name {0:?} must be 1 to 63 characters of a-z, 0-9 and _, starting with a letter")]
    BadName(String),
    /// The shared cluster failed to start earlier in this process.
    #[error("the shared PostgreSQL cluster did not start: {0}")]
    Shared(String),
}

/// A fresh database for one test: created on the server of [`URL_ENV`] when it is set, else on
/// the process's shared cluster ([`PgCluster::shared`]). `name` is made unique (a suffix of the
/// process id and a counter is added), so tests may pass a constant. Returns its URL.
///
/// # Errors
/// When no server can be had or the database cannot be created.
pub fn fresh_database(name: &str) -> Result<String, HarnessError> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let prefix: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    let unique = format!("{}_{}_{n}", prefix.to_ascii_lowercase(), std::process::id());
    match std::env::var(URL_ENV) {
        Ok(url) if !url.is_empty() => {
            let bindir = find_bindir()?;
            cluster::create_database_at(&bindir, &url, &unique)
        }
        _ => PgCluster::shared()?.create_database(&unique),
    }
}
