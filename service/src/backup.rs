//! Online backup and restore of the service's database, with SQLite's backup API.
//!
//! - [`backup`] copies a consistent snapshot of the database while the service keeps running (the
//!   database is in WAL mode: the copy reads one snapshot and never blocks the service's writes)
//!   into a single self-contained file, checked with `PRAGMA integrity_check`, written under a
//!   temporary name and renamed into place (mode `0600`: it holds password hashes).
//! - [`restore`] checks the backup first (integrity, and that it is a database of this service with
//!   a schema this build knows), refuses to replace a database that a process has open (a running
//!   service) or, without `force`, one that exists, then copies the backup beside the database and
//!   renames it over it in one step: at every moment the database is the old one or the new one.
//!
//! The outbox (account e-mails) is not part of the database and is not copied.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::store::SCHEMA_VERSION;

/// How long the backup waits between attempts when the database is busy.
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// What a backup or a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The file written.
    pub path: PathBuf,
    /// The users it holds.
    pub users: i64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Why a backup or a restore did not happen; each names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The source file does not exist.
    #[error("{} does not exist", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The target exists and `force` was not given.
    #[error("{} already exists; pass --force to replace it", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// Another process has the database open.
    #[error(
        "database {} is in use by another process (a running smartag-service?); stop it before restoring",
        path.display()
    )]
    InUse {
        /// The database.
        path: PathBuf,
    },
    /// The database stayed locked by another connection for longer than the busy timeout.
    #[error("{} stayed locked by another connection; try again", path.display())]
    Busy {
        /// The database.
        path: PathBuf,
    },
    /// The file is damaged or not a database of this service.
    #[error("{} is not a usable smartag-service database: {problem}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// SQLite failed.
    #[error("{} while {context}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("{} while {context}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

fn sqlite(path: &Path, context: &'static str) -> impl FnOnce(rusqlite::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Sqlite { path, context, source }
}

fn io(path: &Path, context: &'static str) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Io { path, context, source }
}

/// Copies database `data` (which a service may be using) to `to`. An existing `to` is refused
/// unless `force`.
///
/// # Errors
/// A missing database, an existing target without `force`, or a failed copy or check (the target
/// is then left as it was).
pub fn backup(data: &Path, to: &Path, force: bool) -> Result<Copied, BackupError> {
    if !data.exists() {
        return Err(BackupError::Missing { path: data.to_path_buf() });
    }
    if to.exists() && !force {
        return Err(BackupError::Exists { path: to.to_path_buf() });
    }
    let source = Connection::open_with_flags(data, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(sqlite(data, "opening the database"))?;
    source.busy_timeout(crate::store::BUSY_TIMEOUT).map_err(sqlite(data, "setting the busy timeout"))?;
    check_schema(&source, data)?;
    copy_into_place(&source, data, to)
}

/// Replaces database `data` with the backup `from`, after checking the backup. A database that a
/// process has open is refused; an existing one is replaced only with `force`.
///
/// # Errors
/// A missing or damaged backup, a database in use, an existing database without `force`, or a
/// failed copy (the database is then left as it was).
pub fn restore(from: &Path, data: &Path, force: bool) -> Result<Copied, BackupError> {
    if !from.exists() {
        return Err(BackupError::Missing { path: from.to_path_buf() });
    }
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(sqlite(from, "opening the backup"))?;
    integrity(&source, from)?;
    check_schema(&source, from)?;
    if data.exists() {
        if !force {
            return Err(BackupError::Exists { path: data.to_path_buf() });
        }
        quiesce(data)?;
    }
    if let Some(folder) = data.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(io(folder, "creating the data folder"))?;
    }
    copy_into_place(&source, from, data)
}

/// Checks that nobody has `data` open, and folds its write-ahead log into it (so that nothing of it
/// is left in a `-wal` file that could be applied to the restored database).
fn quiesce(data: &Path) -> Result<(), BackupError> {
    let connection = Connection::open(data).map_err(sqlite(data, "opening the database"))?;
    // In exclusive locking mode a connection to a WAL database must be the only one: while any
    // other process has the database open, taking the lock fails at once.
    connection
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE;")
        .map_err(sqlite(data, "asking for exclusive access"))?;
    match connection.execute_batch("BEGIN EXCLUSIVE; COMMIT;") {
        Ok(()) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
        {
            return Err(BackupError::InUse { path: data.to_path_buf() });
        }
        Err(e) => return Err(sqlite(data, "taking exclusive access")(e)),
    }
    connection
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sqlite(data, "checkpointing the write-ahead log"))?;
    connection.close().map_err(|(_, e)| sqlite(data, "closing the database")(e))
}

/// Runs `backup` in one step (`-1`: every page, from one snapshot of the source), retrying while
/// the source is busy, at most [`crate::store::BUSY_TIMEOUT`] in all.
fn copy_all(backup: &Backup<'_, '_>, source_path: &Path) -> Result<(), BackupError> {
    let started = std::time::Instant::now();
    loop {
        match backup.step(-1).map_err(sqlite(source_path, "copying the database"))? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked
                if started.elapsed() < crate::store::BUSY_TIMEOUT =>
            {
                std::thread::sleep(BUSY_PAUSE);
            }
            _ => {
                return Err(BackupError::Busy { path: source_path.to_path_buf() });
            }
        }
    }
}

/// `PRAGMA integrity_check` says `ok`.
fn integrity(connection: &Connection, path: &Path) -> Result<(), BackupError> {
    let verdict: String = connection
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| BackupError::Invalid { path: path.to_path_buf(), problem: e.to_string() })?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(BackupError::Invalid { path: path.to_path_buf(), problem: format!("integrity check failed: {verdict}") })
    }
}

/// A database of this service: a schema version this build knows, and its `users` table.
fn check_schema(connection: &Connection, path: &Path) -> Result<(), BackupError> {
    let invalid = |problem: String| BackupError::Invalid { path: path.to_path_buf(), problem };
    let version: i64 =
        connection.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|e| invalid(e.to_string()))?;
    let has_users: bool = connection
        .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'users')", [], |row| {
            row.get(0)
        })
        .map_err(|e| invalid(e.to_string()))?;
    if !(1..=SCHEMA_VERSION).contains(&version) || !has_users {
        return Err(invalid(format!(
            "schema version {version}{}; this build knows versions 1 to {SCHEMA_VERSION}",
            if has_users { "" } else { " without a users table" }
        )));
    }
    Ok(())
}

/// Copies `source` (at `source_path`) to a private temporary file beside `target`, checks it, and
/// renames it over `target`.
fn copy_into_place(source: &Connection, source_path: &Path, target: &Path) -> Result<Copied, BackupError> {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "smartag.db".into());
    let temporary = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        create_private(&temporary)?;
        let mut copy = Connection::open(&temporary).map_err(sqlite(&temporary, "creating the copy"))?;
        {
            let backup = Backup::new(source, &mut copy).map_err(sqlite(source_path, "starting the copy"))?;
            copy_all(&backup, source_path)?;
        }
        // One self-contained file (the copy took the source's WAL mode).
        copy.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(sqlite(&temporary, "leaving WAL mode"))?;
        integrity(&copy, &temporary)?;
        check_schema(&copy, &temporary)?;
        let users: i64 = copy
            .query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))
            .map_err(sqlite(&temporary, "counting users"))?;
        copy.close().map_err(|(_, e)| sqlite(&temporary, "closing the copy")(e))?;
        let file = std::fs::File::open(&temporary).map_err(io(&temporary, "opening the copy"))?;
        file.sync_all().map_err(io(&temporary, "syncing the copy"))?;
        let bytes = file.metadata().map_err(io(&temporary, "reading the copy's size"))?.len();
        // The target's own write-ahead log and shared memory belong to the file being replaced.
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut stale = target.as_os_str().to_owned();
            stale.push(suffix);
            match std::fs::remove_file(&stale) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(Path::new(&stale), "removing the old database's side file")(e)),
            }
        }
        std::fs::rename(&temporary, target).map_err(io(target, "renaming the copy into place"))?;
        if let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename itself durable (best effort: not every platform can open a folder).
            if let Ok(folder) = std::fs::File::open(folder) {
                let _ = folder.sync_all();
            }
        }
        Ok(Copied { path: target.to_path_buf(), users, bytes })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Creates `path` empty with mode `0600` (unix): the copy holds password hashes.
fn create_private(path: &Path) -> Result<(), BackupError> {
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map(drop).map_err(io(path, "creating the copy"))
}
