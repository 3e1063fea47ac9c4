//! The client-user stores: [`Store`], one SQLite database (this module), and
//! [`postgres::PgStore`], a PostgreSQL database shared by any number of replicas. The service uses
//! either through the [`UserStore`] port ([`port`]): [`AnyStore`] is the one it holds.
//!
//! The rest of this documentation is about the SQLite store.
//!
//! - The database runs in WAL mode with `synchronous=FULL`, so a committed transaction is on disk:
//!   once a method returns `Ok`, a crash (even `kill -9` or power loss) cannot lose the change.
//! - Writes go to one writer thread that owns the write connection ([`write`]): it commits the
//!   writes waiting for it together in one `BEGIN IMMEDIATE` transaction (group commit, one
//!   `fsync` for the batch), each write in its own savepoint so that one caller's error does not
//!   touch the others, and answers each caller after the commit that holds its write. The write
//!   lock is taken at the start, so the checks a write makes (user exists? quota reached? address
//!   free?) and the write itself see the same data, also when several processes share the file
//!   (they wait up to [`BUSY_TIMEOUT`] for each other).
//! - Reads use a small pool of read-only connections ([`read`]), each behind its own mutex: a
//!   Describe never waits for a write or its `fsync`. Every Describe query is an index lookup
//!   whatever the size of the instance: counts are kept per instance, pages are found by seeking on
//!   a per-instance sequence number, filters use the name and mail indexes.
//! - Creating a user touches no more than a few index entries: the address is found from a
//!   per-instance allocation cursor and the `ip_num` index ([`schema`] has the invariants).
//! - Password hashing happens before a user reaches the store ([`NewUser`] carries the hash): it
//!   never holds a lock of the store.
//! - The schema is versioned with `PRAGMA user_version` and migrated on [`Store::open`]; a database
//!   from a newer build is refused.
//! - `UNIQUE(region, instance_id, user_name)` and `UNIQUE(region, instance_id, ip_num)` back the
//!   checks: no two users of an instance share a name or an address, whatever the code does.
//! - On unix a new database file is created with mode `0600` (SQLite gives its `-wal` and `-shm`
//!   files the same mode): it holds password hashes.
//!
//! Instances are not stored: they come from the configuration, and each call that needs one is
//! given its [`InstanceLimits`].
//!
//! Methods block (on the writer's answer and on disk); call them from `spawn_blocking` in async
//! code. [`Store`] is cheap to clone.

mod admin;
pub mod port;
pub mod postgres;
mod read;
mod schema;
pub mod transfer;
mod write;

use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use ipnet::Ipv4Net;
use rusqlite::Row;

use crate::addressing::IpRejection;

pub use admin::InstanceUser;
pub use port::{AnyStore, UserChange, UserQuery, UserStore};
pub use schema::SCHEMA_VERSION;

/// How long a write waits for another connection's write lock before failing with "database is
/// locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the store needs to know about an instance (from the configuration) to create a user in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceLimits {
    /// The instance id (`SmartAGId`).
    pub id: String,
    /// The client CIDR block; `None` makes [`Store::create_user`] fail with
    /// [`CreateUserError::CidrEmpty`].
    pub cidr: Option<Ipv4Net>,
    /// The most users the instance may have.
    pub max_users: u32,
}

impl InstanceLimits {
    /// Whether the instance, with `count` users already, may take another: the quota rule both
    /// stores apply inside their Create transaction.
    pub(crate) fn quota(&self, count: i64) -> Result<(), OverLimit> {
        if count >= i64::from(self.max_users) {
            return Err(OverLimit::MaxUsers { max_users: self.max_users });
        }
        Ok(())
    }
}

/// A user to create (already validated by the protocol layer; the password already hashed).
#[derive(Clone)]
pub struct NewUser {
    /// The region (`RegionId`).
    pub region: String,
    /// The instance the user belongs to.
    pub instance: InstanceLimits,
    /// The username, unique within the instance.
    pub user_name: String,
    /// The user's e-mail address.
    pub user_mail: String,
    /// The bandwidth in Kbit/s.
    pub bandwidth: i64,
    /// The argon2id PHC string of the password (see [`crate::password::hash_password`]); redacted in
    /// `Debug`.
    pub password_hash: String,
    /// The static client IP the caller asked for (`ClientIp`); `None` allocates one.
    pub static_ip: Option<Ipv4Addr>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("region", &self.region)
            .field("instance", &self.instance)
            .field("user_name", &self.user_name)
            .field("user_mail", &self.user_mail)
            .field("bandwidth", &self.bandwidth)
            .field("password_hash", &"<redacted>")
            .field("static_ip", &self.static_ip)
            .finish()
    }
}

/// A stored user, as the API shows it (the password hash is never read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The username.
    pub user_name: String,
    /// The e-mail address.
    pub user_mail: String,
    /// The bandwidth in Kbit/s.
    pub bandwidth: i64,
    /// The client IP address, dotted quad.
    pub client_ip: String,
    /// Whether the caller chose the client IP (`IsStaticIp` 1) rather than the store allocating it.
    pub is_static_ip: bool,
    /// 0: enabled, 1: disabled. New users are enabled.
    pub state: i64,
    /// The application-acceleration bandwidth in Kbit/s (0 for new users).
    pub accelerate_bandwidth: i64,
}

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
        /// [`SCHEMA_VERSION`].
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
        /// [`postgres::SCHEMA_VERSION`].
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

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
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

/// Why [`Store::create_user`] did not create the user.
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

/// Why [`Store::modify_user`] did not modify the user.
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

/// Counts of the writer's work since the store was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriterStats {
    /// Calls handed to the writer (creates, bulk creates, modifies).
    pub submitted: u64,
    /// Calls answered after a successful commit.
    pub committed: u64,
    /// Transactions committed: with group commit, fewer than `committed` under concurrency.
    pub transactions: u64,
}

/// The user store. `Clone + Send + Sync`: clones share one writer thread and one pool of read
/// connections; the last clone dropped stops the writer (after it answered every write handed to
/// it) and closes the connections.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    jobs: Option<Sender<write::Job>>,
    writer: Option<JoinHandle<()>>,
    readers: read::Readers,
    stats: Arc<write::Counters>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel ends the writer's loop once the queued writes are done.
        self.jobs.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.inner.path).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database file at `path`, switches it to WAL mode with
    /// `synchronous=FULL` and a [`BUSY_TIMEOUT`], migrates its schema to [`SCHEMA_VERSION`], and
    /// starts the writer thread and the read connections.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private_file(&path)?;
        let mut connection = write::connect(&path)?;
        // SQLite falls back to a read-only connection when it may not write the file, and such a
        // connection never becomes writable: refuse it here rather than fail every write.
        if connection.is_readonly(rusqlite::MAIN_DB).map_err(schema::open_error(&path, "checking write access"))? {
            return Err(StoreError::ReadOnly { path });
        }
        schema::migrate(&mut connection, &path)?;
        let readers = read::Readers::open(&path)?;
        let (jobs, queue) = mpsc::channel();
        let stats = Arc::new(write::Counters::default());
        let counters = Arc::clone(&stats);
        let writer = std::thread::Builder::new()
            .name("smartag-store-writer".into())
            .spawn(move || write::run(connection, queue, &counters))
            .map_err(|source| StoreError::Thread { path: path.clone(), source })?;
        Ok(Store { inner: Arc::new(Inner { path, jobs: Some(jobs), writer: Some(writer), readers, stats }) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether the database has no user at all (a seed file is applied only then).
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.readers.with(|connection| {
            connection
                .query_row("SELECT NOT EXISTS (SELECT 1 FROM users)", [], |row| row.get(0))
                .map_err(sql("checking whether there are users"))
        })
    }

    /// What the writer has done so far (for monitoring: how well writes are grouped).
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.stats.snapshot()
    }

    /// Hands `job` to the writer and waits for its answer.
    fn submit<T>(&self, job: impl FnOnce(SyncSender<T>) -> write::Job) -> Result<T, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let sender = self.inner.jobs.as_ref().ok_or(StoreError::WriterGone)?;
        self.inner.stats.submitted.fetch_add(1, Ordering::Relaxed);
        sender.send(job(reply)).map_err(|_| StoreError::WriterGone)?;
        answer.recv().map_err(|_| StoreError::WriterGone)
    }

    /// Creates a user, in one transaction that checks, in this order:
    ///
    /// 1. the instance has a CIDR block, else [`CreateUserError::CidrEmpty`];
    /// 2. no user of the instance has `user_name`, else [`CreateUserError::UserExist`];
    /// 3. the instance has fewer than `max_users` users, else [`CreateUserError::UserOverLimit`];
    /// 4. a static IP is inside the block, is not its network, broadcast or first host address (the
    ///    first host is reserved for the gateway, see [`crate::addressing`]) and no other user of
    ///    the instance has it, else [`CreateUserError::IpInvalid`];
    /// 5. without a static IP, the lowest free client address of the block is allocated; if there
    ///    is none, [`CreateUserError::UserOverLimit`].
    ///
    /// The user is created enabled (state 0) with acceleration bandwidth 0. The write is committed
    /// together with the other writes waiting at the time (group commit); it returns once that
    /// commit is on disk.
    pub fn create_user(&self, user: NewUser) -> Result<UserRecord, CreateUserError> {
        let mut results = self.create_users(vec![user])?;
        results.pop().unwrap_or(Err(CreateUserError::Store(StoreError::WriterGone)))
    }

    /// Creates `users` in order, each as [`Store::create_user`] would (later ones see earlier
    /// ones), all in one transaction: one answer per user, in order. For bulk loads.
    ///
    /// # Errors
    /// When the writer thread is gone.
    pub fn create_users(&self, users: Vec<NewUser>) -> Result<Vec<Result<UserRecord, CreateUserError>>, StoreError> {
        self.submit(|reply| write::Job::Create { users, reply })
    }

    /// Sets the bandwidth of user `user_name` of instance `instance_id` in `region`, and its e-mail
    /// address when `user_mail` is given; returns the user as it now is. Committed like
    /// [`Store::create_user`].
    pub fn modify_user(
        &self,
        region: &str,
        instance_id: &str,
        user_name: &str,
        bandwidth: i64,
        user_mail: Option<&str>,
    ) -> Result<UserRecord, ModifyUserError> {
        let change = write::Modify {
            region: region.to_owned(),
            instance_id: instance_id.to_owned(),
            user_name: user_name.to_owned(),
            bandwidth,
            user_mail: user_mail.map(str::to_owned),
        };
        self.submit(|reply| write::Job::Modify { change, reply })?
    }

    /// The users of instance `instance_id` in `region` whose name and e-mail address equal
    /// `user_name` and `user_mail` (each filter only when given), in creation order: the total
    /// number of matches, and page `page_number` (from 1) of `page_size` of them. Both numbers come
    /// from one snapshot of the database, read on a read connection: never behind a write.
    pub fn list_users(
        &self,
        region: &str,
        instance_id: &str,
        user_name: Option<&str>,
        user_mail: Option<&str>,
        page_number: i64,
        page_size: i64,
    ) -> Result<(i64, Vec<UserRecord>), StoreError> {
        if page_number < 1 || page_size < 1 {
            return Err(StoreError::InvalidPage { page_number, page_size });
        }
        let listing = read::Listing {
            region,
            instance_id,
            user_name,
            user_mail,
            offset: (page_number - 1).saturating_mul(page_size),
            limit: page_size,
        };
        self.inner.readers.with(|connection| read::list(connection, &listing))
    }
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        user_name: row.get(0)?,
        user_mail: row.get(1)?,
        bandwidth: row.get(2)?,
        client_ip: row.get(3)?,
        is_static_ip: row.get::<_, i64>(4)? != 0,
        state: row.get(5)?,
        accelerate_bandwidth: row.get(6)?,
    })
}

/// Creates the database file with mode `0600` if it does not exist yet (unix).
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let created = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        match created {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(StoreError::CreateFile { path: path.to_path_buf(), source }),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}
