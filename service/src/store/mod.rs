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
mod errors;
pub mod port;
pub mod postgres;
mod read;
mod records;
mod schema;
pub mod transfer;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

pub use admin::InstanceUser;
use errors::sql;
pub use errors::{CreateUserError, ModifyUserError, OverLimit, StoreError};
pub use port::{AnyStore, UserChange, UserQuery, UserStore};
use records::user_from_row;
pub use records::{InstanceLimits, NewUser, UserRecord};
pub use schema::SCHEMA_VERSION;

/// How long a write waits for another connection's write lock before failing with "database is
/// locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
