//! Why a store call failed: the database itself ([`StoreError`]), or the request against the
//! data ([`CreateUserError`], [`ModifyUserError`], [`OverLimit`]).

use std::path::PathBuf;
use std::sync::Arc;

use ipnet::Ipv4Net;

use crate::addressing::IpRejection;

/// Why the store failed (the database itself, not the request).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be created.
    #[error("cannot create database file {}", path.display())]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or set up.
    #[error("cannot open database {}: {context}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The step that failed.
        context: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// SQLite did not switch to WAL mode (e.g. the file system does not support it).
    #[error("database {} stays in journal mode {mode:?}; WAL is required", path.display())]
    NoWal {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// The process may not write the database file (its mode or owner, or a read-only file
    /// system); the service writes to it, so it does not start.
    #[error(
        "database {} is read-only for this process: the service needs to write it (check the owner and mode of \
         the file and its folder)",
        path.display()
    )]
    ReadOnly {
        /// The file.
        path: PathBuf,
    },
    /// The database's schema version is not one this build knows.
    #[error("database {} has schema version {found}; this build knows versions 0 to {supported}", path.display())]
    SchemaVersion {
        /// The file.
        path: PathBuf,
        /// The database's `user_version`.
        found: i64,
        /// [`SCHEMA_VERSION`](super::SCHEMA_VERSION).
        supported: i64,
    },
    /// A statement failed.
    #[error("database error while {context}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored client IP is not an IPv4 address (the database was edited by hand).
    #[error("stored client IP {value:?} of user {user_name:?} is not an IPv4 address")]
    CorruptClientIp {
        /// The user.
        user_name: String,
        /// The stored value.
        value: String,
    },
    /// The transaction of a batch of writes failed: every write of the batch failed with it.
    #[error("database error while {context}")]
    Batch {
        /// What the writer was doing.
        context: &'static str,
        /// What SQLite said (shared by the batch's callers).
        #[source]
        source: Arc<rusqlite::Error>,
    },
    /// The writer thread could not be started.
    #[error("cannot start the writer thread of database {}", path.display())]
    Thread {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The writer thread stopped (it panicked); the write was not made.
    #[error("the database writer thread has stopped")]
    WriterGone,
    /// The transaction of a batch of PostgreSQL Creates failed with this error: every Create of
    /// the batch failed with it.
    #[error(transparent)]
    Shared(Arc<StoreError>),
    /// The database cannot be reached now (PostgreSQL down or restarting, no pooled connection
    /// within the wait timeout, the connection lost): the request may be retried later.
    #[error("the database is unavailable while {context}: {detail}")]
    Unavailable {
        /// What the store was doing.
        context: &'static str,
        /// What went wrong (never the database password).
        detail: String,
    },
    /// A PostgreSQL statement failed.
    #[error("database error while {context}")]
    Postgres {
        /// What the store was doing.
        context: &'static str,
        /// What PostgreSQL said.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The PostgreSQL database's schema comes from a newer build of the service.
    #[error(
        "the PostgreSQL database has schema version {found}; this build knows versions 0 to {supported}: run a \
         newer smartag-service, or point --database-url at another database"
    )]
    PgSchemaVersion {
        /// The highest version in `schema_migrations`.
        found: i64,
        /// [`postgres::SCHEMA_VERSION`](super::postgres::SCHEMA_VERSION).
        supported: i64,
    },
    /// The database URL is not usable (the password is never shown).
    #[error("invalid database URL {url}: {problem}")]
    DatabaseUrl {
        /// The URL, password redacted.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The blocking task of a SQLite call panicked or was cancelled.
    #[error("the database task failed: {0}")]
    Task(String),
    /// `page_number` or `page_size` is below 1.
    #[error("page_number ({page_number}) and page_size ({page_size}) must be at least 1")]
    InvalidPage {
        /// The page number asked for.
        page_number: i64,
        /// The page size asked for.
        page_size: i64,
    },
}

impl StoreError {
    /// Whether the failure is the database being unreachable for now (answered
    /// `ServiceUnavailable`, 503, retryable) rather than a fault of the request or the data.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable { .. } => true,
            StoreError::Shared(error) => error.is_unavailable(),
            _ => false,
        }
    }
}

pub(super) fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sqlite { context, source }
}

/// Why an instance cannot take another user (both answer `ClientUser.UserOverLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OverLimit {
    /// The instance has `max_users` users already.
    #[error("it has reached its quota of {max_users} users")]
    MaxUsers {
        /// The quota.
        max_users: u32,
    },
    /// Every client address of the CIDR block is taken.
    #[error("every client address of {cidr} is taken")]
    AddressesExhausted {
        /// The instance's block.
        cidr: Ipv4Net,
    },
}

/// Why [`Store::create_user`](super::Store::create_user) did not create the user.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The instance has no client CIDR block (`SAG.CidrEmpty`).
    #[error("instance {instance_id:?} has no client CIDR block")]
    CidrEmpty {
        /// The instance.
        instance_id: String,
    },
    /// The instance already has a user of that name (`ClientUser.UserExist`).
    #[error("instance {instance_id:?} already has a user named {user_name:?}")]
    UserExist {
        /// The instance.
        instance_id: String,
        /// The username.
        user_name: String,
    },
    /// The instance cannot take another user (`ClientUser.UserOverLimit`).
    #[error("instance {instance_id:?} cannot take another user: {reason}")]
    UserOverLimit {
        /// The instance.
        instance_id: String,
        /// Quota or address pool.
        reason: OverLimit,
    },
    /// The static client IP cannot be used (`ClientUser.IpInvalid`).
    #[error("invalid static client IP: {0}")]
    IpInvalid(IpRejection),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why [`Store::modify_user`](super::Store::modify_user) did not modify the user.
#[derive(Debug, thiserror::Error)]
pub enum ModifyUserError {
    /// The instance has no user of that name.
    #[error("instance {instance_id:?} in region {region:?} has no user named {user_name:?}")]
    NotFound {
        /// The region.
        region: String,
        /// The instance.
        instance_id: String,
        /// The username.
        user_name: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
