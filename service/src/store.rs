//! The client-user store: one SQLite database.
//!
//! - The database runs in WAL mode with `synchronous=FULL`, so a committed transaction is on disk:
//!   once a method returns `Ok`, a crash (even `kill -9` or power loss) cannot lose the change.
//! - Every write is one `BEGIN IMMEDIATE` transaction, committed before the method returns. The
//!   write lock is taken at the start, so the checks a write makes (user exists? quota reached?
//!   address free?) and the write itself see the same data, also when several processes share the
//!   file (they wait up to [`BUSY_TIMEOUT`] for each other).
//! - The schema is versioned with `PRAGMA user_version` and migrated on [`Store::open`]; a database
//!   from a newer build is refused.
//! - `UNIQUE(region, instance_id, user_name)` and `UNIQUE(region, instance_id, client_ip)` back
//!   the checks: no two users of an instance share a name or an address, whatever the code does.
//! - On unix a new database file is created with mode `0600` (SQLite gives its `-wal` and `-shm`
//!   files the same mode): it holds password hashes.
//!
//! Instances are not stored: they come from the configuration, and each call that needs one is
//! given its [`InstanceLimits`].
//!
//! Methods block (on the connection's mutex and on disk); call them from `spawn_blocking` in async
//! code. [`Store`] is cheap to clone and shares one connection.

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ipnet::Ipv4Net;
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::addressing::{self, IpRejection};

/// How long a write waits for another connection's write lock before failing with "database is
/// locked".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, one entry per version: entry `n` migrates version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the users table.
    "CREATE TABLE users (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
        region               TEXT    NOT NULL,
        instance_id          TEXT    NOT NULL,
        user_name            TEXT    NOT NULL,
        user_mail            TEXT    NOT NULL,
        bandwidth            INTEGER NOT NULL,
        password_hash        TEXT    NOT NULL,
        client_ip            TEXT    NOT NULL,
        is_static_ip         INTEGER NOT NULL CHECK (is_static_ip IN (0, 1)),
        state                INTEGER NOT NULL DEFAULT 0,
        accelerate_bandwidth INTEGER NOT NULL DEFAULT 0,
        created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (region, instance_id, user_name),
        UNIQUE (region, instance_id, client_ip)
    ) STRICT;
    CREATE INDEX users_by_mail ON users (region, instance_id, user_mail);",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const USER_COLUMNS: &str = "user_name, user_mail, bandwidth, client_ip, is_static_ip, state, accelerate_bandwidth";

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
    /// `page_number` or `page_size` is below 1.
    #[error("page_number ({page_number}) and page_size ({page_size}) must be at least 1")]
    InvalidPage {
        /// The page number asked for.
        page_number: i64,
        /// The page size asked for.
        page_size: i64,
    },
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

/// The user store. `Clone + Send + Sync`: clones share one connection.
#[derive(Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database file at `path`, switches it to WAL mode with
    /// `synchronous=FULL` and a [`BUSY_TIMEOUT`], and migrates its schema to [`SCHEMA_VERSION`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        create_private_file(&path)?;
        let open_error = |context| {
            let path = path.clone();
            move |source| StoreError::Open { path, context, source }
        };
        let mut connection = Connection::open(&path).map_err(open_error("opening the file"))?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(open_error("setting the busy timeout"))?;
        let mode: String = connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error("switching to WAL mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal { path, mode });
        }
        connection.pragma_update(None, "synchronous", "FULL").map_err(open_error("setting synchronous=FULL"))?;
        migrate(&mut connection, &path)?;
        Ok(Store { connection: Arc::new(Mutex::new(connection)), path: Arc::new(path) })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock dropped its transaction, which rolled it back: the
        // connection is usable.
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
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
    /// The user is created enabled (state 0) with acceleration bandwidth 0.
    pub fn create_user(&self, user: NewUser) -> Result<UserRecord, CreateUserError> {
        let NewUser { region, instance, user_name, user_mail, bandwidth, password_hash, static_ip } = user;
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("starting the create-user transaction"))?;

        let Some(cidr) = instance.cidr else {
            return Err(CreateUserError::CidrEmpty { instance_id: instance.id });
        };

        let exists = tx
            .query_row(
                "SELECT 1 FROM users WHERE region = ?1 AND instance_id = ?2 AND user_name = ?3",
                params![region, instance.id, user_name],
                |_| Ok(()),
            )
            .optional()
            .map_err(sql("looking up the username"))?
            .is_some();
        if exists {
            return Err(CreateUserError::UserExist { instance_id: instance.id, user_name });
        }

        let count: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM users WHERE region = ?1 AND instance_id = ?2",
                params![region, instance.id],
                |row| row.get(0),
            )
            .map_err(sql("counting the instance's users"))?;
        if count >= i64::from(instance.max_users) {
            let reason = OverLimit::MaxUsers { max_users: instance.max_users };
            return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
        }

        let used = used_addresses(&tx, &region, &instance.id)?;
        let client_ip = match static_ip {
            Some(ip) => {
                addressing::check_static_ip(cidr, ip).map_err(CreateUserError::IpInvalid)?;
                if used.contains(&u32::from(ip)) {
                    return Err(CreateUserError::IpInvalid(IpRejection::InUse { ip }));
                }
                ip
            }
            None => match lowest_free(cidr, &used) {
                Some(ip) => ip,
                None => {
                    let reason = OverLimit::AddressesExhausted { cidr };
                    return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
                }
            },
        };

        let inserted = tx.execute(
            "INSERT INTO users (region, instance_id, user_name, user_mail, bandwidth, password_hash, client_ip, \
             is_static_ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                region,
                instance.id,
                user_name,
                user_mail,
                bandwidth,
                password_hash,
                client_ip.to_string(),
                static_ip.is_some()
            ],
        );
        if let Err(error) = inserted {
            // Unreachable while every writer takes the write lock first; the constraints still
            // have the last word.
            return Err(match unique_violation(&error) {
                Some(UniqueColumn::UserName) => CreateUserError::UserExist { instance_id: instance.id, user_name },
                Some(UniqueColumn::ClientIp) => CreateUserError::IpInvalid(IpRejection::InUse { ip: client_ip }),
                None => StoreError::Sqlite { context: "inserting the user", source: error }.into(),
            });
        }
        tx.commit().map_err(sql("committing the new user"))?;

        Ok(UserRecord {
            user_name,
            user_mail,
            bandwidth,
            client_ip: client_ip.to_string(),
            is_static_ip: static_ip.is_some(),
            state: 0,
            accelerate_bandwidth: 0,
        })
    }

    /// Sets the bandwidth of user `user_name` of instance `instance_id` in `region`, and its e-mail
    /// address when `user_mail` is given; returns the user as it now is.
    pub fn modify_user(
        &self,
        region: &str,
        instance_id: &str,
        user_name: &str,
        bandwidth: i64,
        user_mail: Option<&str>,
    ) -> Result<UserRecord, ModifyUserError> {
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("starting the modify-user transaction"))?;
        let updated = tx
            .query_row(
                &format!(
                    "UPDATE users SET bandwidth = ?1, user_mail = COALESCE(?2, user_mail) \
                     WHERE region = ?3 AND instance_id = ?4 AND user_name = ?5 RETURNING {USER_COLUMNS}"
                ),
                params![bandwidth, user_mail, region, instance_id, user_name],
                user_from_row,
            )
            .optional()
            .map_err(sql("updating the user"))?;
        let Some(user) = updated else {
            return Err(ModifyUserError::NotFound {
                region: region.to_owned(),
                instance_id: instance_id.to_owned(),
                user_name: user_name.to_owned(),
            });
        };
        tx.commit().map_err(sql("committing the user change"))?;
        Ok(user)
    }

    /// The users of instance `instance_id` in `region` whose name and e-mail address equal
    /// `user_name` and `user_mail` (each filter only when given), in creation order: the total
    /// number of matches, and page `page_number` (from 1) of `page_size` of them. Both numbers come
    /// from one snapshot of the database.
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
        let offset = (page_number - 1).saturating_mul(page_size);
        const FILTER: &str = "WHERE region = ?1 AND instance_id = ?2 AND (?3 IS NULL OR user_name = ?3) \
                              AND (?4 IS NULL OR user_mail = ?4)";
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(sql("starting the list-users transaction"))?;
        let total: i64 = tx
            .query_row(
                &format!("SELECT COUNT(*) FROM users {FILTER}"),
                params![region, instance_id, user_name, user_mail],
                |row| row.get(0),
            )
            .map_err(sql("counting the users"))?;
        let users = {
            let mut statement = tx
                .prepare(&format!("SELECT {USER_COLUMNS} FROM users {FILTER} ORDER BY id LIMIT ?5 OFFSET ?6"))
                .map_err(sql("preparing the user listing"))?;
            statement
                .query_map(params![region, instance_id, user_name, user_mail, page_size, offset], user_from_row)
                .map_err(sql("listing the users"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql("reading the users"))?
        };
        tx.finish().map_err(sql("ending the list-users transaction"))?;
        Ok((total, users))
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

/// The client addresses the instance's users have, as integers.
fn used_addresses(tx: &rusqlite::Transaction<'_>, region: &str, instance_id: &str) -> Result<HashSet<u32>, StoreError> {
    let mut statement = tx
        .prepare("SELECT user_name, client_ip FROM users WHERE region = ?1 AND instance_id = ?2")
        .map_err(sql("preparing the address lookup"))?;
    let rows = statement
        .query_map(params![region, instance_id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))
        .map_err(sql("reading the used addresses"))?;
    let mut used = HashSet::new();
    for row in rows {
        let (user_name, value) = row.map_err(sql("reading the used addresses"))?;
        let ip: Ipv4Addr = value.parse().map_err(|_| StoreError::CorruptClientIp { user_name, value })?;
        used.insert(u32::from(ip));
    }
    Ok(used)
}

/// The lowest client address of `cidr` not in `used`.
fn lowest_free(cidr: Ipv4Net, used: &HashSet<u32>) -> Option<Ipv4Addr> {
    let (first, last) = addressing::client_range(cidr)?;
    (u32::from(first)..=u32::from(last)).find(|ip| !used.contains(ip)).map(Ipv4Addr::from)
}

enum UniqueColumn {
    UserName,
    ClientIp,
}

fn unique_violation(error: &rusqlite::Error) -> Option<UniqueColumn> {
    match error {
        rusqlite::Error::SqliteFailure(failure, Some(message))
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            if message.contains("users.user_name") {
                Some(UniqueColumn::UserName)
            } else if message.contains("users.client_ip") {
                Some(UniqueColumn::ClientIp)
            } else {
                None
            }
        }
        _ => None,
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

/// Migrates the schema from the database's `user_version` to [`SCHEMA_VERSION`] in one transaction.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let open_error = |context| {
        let path = path.to_path_buf();
        move |source| StoreError::Open { path, context, source }
    };
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(open_error("starting the schema migration"))?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(open_error("reading the schema version"))?;
    let Some(pending) = usize::try_from(found).ok().and_then(|done| MIGRATIONS.get(done..)) else {
        return Err(StoreError::SchemaVersion { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    };
    for (step, migration) in pending.iter().enumerate() {
        tx.execute_batch(migration).map_err(open_error("migrating the schema"))?;
        let version = found + 1 + step as i64;
        tx.pragma_update(None, "user_version", version).map_err(open_error("recording the schema version"))?;
    }
    tx.commit().map_err(open_error("committing the schema migration"))
}
