//! What the admin listener needs of the store: a write probe for health checks, a reset, and
//! listings of every user and of the users per instance.
//!
//! The probe and the reset open a connection of their own for the one transaction they run: they
//! take the database's write lock like any other writer (waiting up to [`super::BUSY_TIMEOUT`]
//! for the writer thread's batch in progress), so they need nothing from the writer thread and
//! change nothing in its loop. Listings use the read connections.

use rusqlite::{Connection, TransactionBehavior, params};

use super::read::columns;
use super::{Store, StoreError, UserRecord, schema, sql};

/// Every user of every instance, with its instance, in creation order per instance (no password
/// hash: the column is never read).
const ALL_USERS: &str =
    concat!("SELECT region, instance_id, ", columns!(), " FROM users ORDER BY region, instance_id, seq");
/// The number of users of every instance that has had users.
const COUNTS: &str = "SELECT region, instance_id, user_count FROM instances ORDER BY region, instance_id";

/// A stored user with the instance it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceUser {
    /// The region (`RegionId`).
    pub region: String,
    /// The instance (`SmartAGId`).
    pub instance_id: String,
    /// The user, as the API shows it.
    pub user: UserRecord,
}

impl Store {
    /// Proves that the database can be written now: one `BEGIN IMMEDIATE` transaction on a fresh
    /// connection that rewrites the schema version with its own value (page 1 changes, so the
    /// commit appends to the write-ahead log and syncs it, as any write does) and commits. Nothing
    /// the store holds changes. Fails when the file cannot be opened, the write lock cannot be had
    /// within [`super::BUSY_TIMEOUT`], or the disk refuses the write (full, read-only, I/O error).
    pub fn probe_write(&self) -> Result<(), StoreError> {
        let context = "probing that the database can be written";
        let mut connection = schema::connect(self.path())?;
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql(context))?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(sql(context))?;
        tx.pragma_update(None, "user_version", version).map_err(sql(context))?;
        tx.commit().map_err(sql(context))
    }

    /// Deletes every user of every instance in one transaction, and the instances' allocation
    /// state with them (the next user of an instance gets its first client address again).
    /// Returns how many users were deleted.
    pub fn delete_all_users(&self) -> Result<u64, StoreError> {
        let context = "deleting every user";
        let mut connection = schema::connect(self.path())?;
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql(context))?;
        let deleted = tx.execute("DELETE FROM users", params![]).map_err(sql(context))?;
        tx.execute("DELETE FROM instances", params![]).map_err(sql(context))?;
        tx.commit().map_err(sql(context))?;
        Ok(deleted as u64)
    }

    /// Every user of every instance (no password hashes), by region, instance and creation order.
    pub fn all_users(&self) -> Result<Vec<InstanceUser>, StoreError> {
        self.inner.readers.with(|connection| all_users(connection))
    }

    /// `(region, instance, users)` for every instance that has had users, by region and instance.
    pub fn user_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.inner.readers.with(|connection| {
            let context = "counting the users of each instance";
            let mut statement = connection.prepare_cached(COUNTS).map_err(sql(context))?;
            let rows =
                statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?))).map_err(sql(context))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql(context))
        })
    }
}

fn all_users(connection: &Connection) -> Result<Vec<InstanceUser>, StoreError> {
    let context = "listing every user";
    let mut statement = connection.prepare_cached(ALL_USERS).map_err(sql(context))?;
    let rows = statement
        .query_map([], |row| {
            // The user's columns (`columns!()`, in `user_from_row`'s order) follow region and instance.
            let user = UserRecord {
                user_name: row.get(2)?,
                user_mail: row.get(3)?,
                bandwidth: row.get(4)?,
                client_ip: row.get(5)?,
                is_static_ip: row.get::<_, i64>(6)? != 0,
                state: row.get(7)?,
                accelerate_bandwidth: row.get(8)?,
            };
            Ok(InstanceUser { region: row.get(0)?, instance_id: row.get(1)?, user })
        })
        .map_err(sql(context))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sql(context))
}
