//! `smartag-service export` and `import`: the users of one store to a file and into another (e.g.
//! from SQLite to PostgreSQL), as JSON lines — one [`ExportedUser`] per line, password hashes
//! included, so imported users keep their passwords, addresses and states.
//!
//! The file is created with mode `0600` (it holds password hashes) and never overwritten unless
//! asked; nothing of it is printed. An import goes into a store without users, in one
//! transaction: all users or none.

use std::io::{BufRead as _, BufWriter, Write as _};
use std::path::Path;

use crate::store::transfer::ExportedUser;
use crate::store::{AnyStore, StoreError, UserStore as _};

/// Why an export or an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file could not be created, written or read.
    #[error("cannot {what} {}: {source}", path.display())]
    File {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A line of the file is not an exported user.
    #[error("{}:{line}: not an exported user: {problem}", path.display())]
    Line {
        /// The file.
        path: std::path::PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong (never the line itself: it holds a password hash).
        problem: String,
    },
    /// The target store already has users.
    #[error("the target database already has users: import goes into an empty database only (start from a new one)")]
    NotEmpty,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes every user of `store` to `to` (created with mode `0600`; an existing file only with
/// `force`). Returns how many users were written.
///
/// # Errors
/// The file cannot be written, or the store fails.
pub async fn export(store: &AnyStore, to: &Path, force: bool) -> Result<usize, TransferError> {
    let users = store.export_users().await?;
    let file_error = |what| move |source| TransferError::File { what, path: to.to_path_buf(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(to).map_err(file_error("create"))?;
    let mut out = BufWriter::new(file);
    for user in &users {
        let line = serde_json::to_string(user).map_err(|e| file_error("write")(std::io::Error::other(e)))?;
        out.write_all(line.as_bytes()).and_then(|()| out.write_all(b"\n")).map_err(file_error("write"))?;
    }
    let file = out.into_inner().map_err(|e| file_error("write")(e.into_error()))?;
    file.sync_all().map_err(file_error("sync"))?;
    Ok(users.len())
}

/// Reads the users of `from` (written by [`export`]) and inserts them into `store`, which must
/// have no user. Returns how many were imported.
///
/// # Errors
/// An unreadable file or line (located), a store with users, or a store failure (e.g. a name
/// twice in one instance).
pub async fn import(store: &AnyStore, from: &Path) -> Result<u64, TransferError> {
    let file = std::fs::File::open(from).map_err(|source| TransferError::File {
        what: "open",
        path: from.to_path_buf(),
        source,
    })?;
    let mut users = Vec::new();
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| TransferError::File { what: "read", path: from.to_path_buf(), source })?;
        if line.trim().is_empty() {
            continue;
        }
        let user: ExportedUser = serde_json::from_str(&line).map_err(|e| TransferError::Line {
            path: from.to_path_buf(),
            line: index + 1,
            // serde_json's message names the field and position, not the values.
            problem: format!("{:?} error at column {}", e.classify(), e.column()),
        })?;
        user.ip_num()?;
        users.push(user);
    }
    if !store.is_empty().await? {
        return Err(TransferError::NotEmpty);
    }
    Ok(store.import_users(users).await?)
}
