//! The schema, its versioned migrations, and how connections are set up.
//!
//! Version 2 (the current one) has:
//!
//! - `users`: one row per user. `seq` numbers an instance's users 1, 2, 3, … in creation order
//!   (`UNIQUE(region, instance_id, seq)`), so page `p` of size `s` is the index range
//!   `seq > (p - 1) * s`: a seek, not an OFFSET scan. `ip_num` is the client address as an integer
//!   (`UNIQUE(region, instance_id, ip_num)`), which makes "is this address used?" and "where is the
//!   next free one?" index lookups.
//! - `instances`: per instance, the number of users (kept by triggers, in the same transaction as
//!   the insert or delete) and the allocation cursor: `alloc_floor` is an address such that every
//!   client address of block `alloc_cidr` below it is in use. The delete and update triggers lower
//!   it when an address is freed, so it stays true whatever writes the table.

use std::net::Ipv4Addr;
use std::path::Path;

use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use super::{BUSY_TIMEOUT, StoreError};

/// One migration step.
enum Migration {
    /// Statements run as a batch.
    Sql(&'static str),
    /// Statements, then code, then statements.
    Code { before: &'static str, code: fn(&Transaction<'_>) -> Result<(), StoreError>, after: &'static str },
}

/// The schema, one entry per version: entry `n` migrates version `n` to `n + 1`.
const MIGRATIONS: &[Migration] = &[
    // 0 -> 1: the users table.
    Migration::Sql(
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
    ),
    // 1 -> 2: per-instance sequence numbers and integer addresses, the instances table with the
    // user count and the allocation cursor.
    Migration::Code { before: V2_COPY, code: v2_fill_ip_num, after: V2_FINISH },
];

/// 1 -> 2, first step: the new table, filled from the old one (`ip_num` temporarily `-id`, which is
/// unique and never a real address).
const V2_COPY: &str = "
    CREATE TABLE users_v2 (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
        region               TEXT    NOT NULL,
        instance_id          TEXT    NOT NULL,
        seq                  INTEGER NOT NULL,
        user_name            TEXT    NOT NULL,
        user_mail            TEXT    NOT NULL,
        bandwidth            INTEGER NOT NULL,
        password_hash        TEXT    NOT NULL,
        client_ip            TEXT    NOT NULL,
        ip_num               INTEGER NOT NULL,
        is_static_ip         INTEGER NOT NULL CHECK (is_static_ip IN (0, 1)),
        state                INTEGER NOT NULL DEFAULT 0,
        accelerate_bandwidth INTEGER NOT NULL DEFAULT 0,
        created_at           TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (region, instance_id, user_name),
        UNIQUE (region, instance_id, ip_num),
        UNIQUE (region, instance_id, seq)
    ) STRICT;
    INSERT INTO users_v2 (id, region, instance_id, seq, user_name, user_mail, bandwidth, password_hash, client_ip,
                          ip_num, is_static_ip, state, accelerate_bandwidth, created_at)
        SELECT id, region, instance_id, row_number() OVER (PARTITION BY region, instance_id ORDER BY id),
               user_name, user_mail, bandwidth, password_hash, client_ip, -id, is_static_ip, state,
               accelerate_bandwidth, created_at
        FROM users;";

/// 1 -> 2, last step: the new table replaces the old one; counts, cursor and triggers.
const V2_FINISH: &str = "
    DROP TABLE users;
    ALTER TABLE users_v2 RENAME TO users;
    CREATE INDEX users_by_mail ON users (region, instance_id, user_mail);
    CREATE TABLE instances (
        region      TEXT    NOT NULL,
        instance_id TEXT    NOT NULL,
        user_count  INTEGER NOT NULL,
        alloc_cidr  TEXT,
        alloc_floor INTEGER,
        PRIMARY KEY (region, instance_id)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO instances (region, instance_id, user_count)
        SELECT region, instance_id, COUNT(*) FROM users GROUP BY region, instance_id;
    CREATE TRIGGER users_counted_in AFTER INSERT ON users BEGIN
        INSERT INTO instances (region, instance_id, user_count) VALUES (NEW.region, NEW.instance_id, 1)
            ON CONFLICT (region, instance_id) DO UPDATE SET user_count = user_count + 1;
    END;
    CREATE TRIGGER users_counted_out AFTER DELETE ON users BEGIN
        UPDATE instances SET user_count = user_count - 1, alloc_floor = min(alloc_floor, OLD.ip_num)
            WHERE region = OLD.region AND instance_id = OLD.instance_id;
    END;
    CREATE TRIGGER users_moved AFTER UPDATE OF region, instance_id, ip_num ON users BEGIN
        UPDATE instances SET user_count = user_count - 1, alloc_floor = min(alloc_floor, OLD.ip_num)
            WHERE region = OLD.region AND instance_id = OLD.instance_id;
        INSERT INTO instances (region, instance_id, user_count) VALUES (NEW.region, NEW.instance_id, 1)
            ON CONFLICT (region, instance_id) DO UPDATE SET user_count = user_count + 1;
    END;";

/// 1 -> 2, middle step: `ip_num` from the stored dotted quads.
fn v2_fill_ip_num(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let context = "converting client addresses to integers";
    let rows: Vec<(i64, String, String)> = {
        let mut statement = tx.prepare("SELECT id, user_name, client_ip FROM users_v2").map_err(super::sql(context))?;
        statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(super::sql(context))?
            .collect::<Result<_, _>>()
            .map_err(super::sql(context))?
    };
    let mut update = tx.prepare("UPDATE users_v2 SET ip_num = ?1 WHERE id = ?2").map_err(super::sql(context))?;
    for (id, user_name, value) in rows {
        let Ok(ip) = value.parse::<Ipv4Addr>() else {
            return Err(StoreError::CorruptClientIp { user_name, value });
        };
        update.execute(params![i64::from(u32::from(ip)), id]).map_err(super::sql(context))?;
    }
    Ok(())
}

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn open_error(path: &Path, context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Open { path, context, source }
}

/// Opens a connection to `path` with the [`BUSY_TIMEOUT`], in WAL mode with `synchronous=FULL`.
pub(super) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path).map_err(open_error(path, "opening the file"))?;
    connection.busy_timeout(BUSY_TIMEOUT).map_err(open_error(path, "setting the busy timeout"))?;
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(open_error(path, "switching to WAL mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NoWal { path: path.to_path_buf(), mode });
    }
    connection.pragma_update(None, "synchronous", "FULL").map_err(open_error(path, "setting synchronous=FULL"))?;
    Ok(connection)
}

/// A connection for reading only (`query_only`), after [`connect`]ing.
pub(super) fn connect_reader(path: &Path) -> Result<Connection, StoreError> {
    let connection = connect(path)?;
    connection.pragma_update(None, "query_only", true).map_err(open_error(path, "making a reader read-only"))?;
    Ok(connection)
}

/// Migrates the schema from the database's `user_version` to [`SCHEMA_VERSION`] in one transaction.
pub(super) fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(open_error(path, "starting the schema migration"))?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(open_error(path, "reading the schema version"))?;
    let Some(pending) = usize::try_from(found).ok().and_then(|done| MIGRATIONS.get(done..)) else {
        return Err(StoreError::SchemaVersion { path: path.to_path_buf(), found, supported: SCHEMA_VERSION });
    };
    for (step, migration) in pending.iter().enumerate() {
        match migration {
            Migration::Sql(statements) => {
                tx.execute_batch(statements).map_err(open_error(path, "migrating the schema"))?;
            }
            Migration::Code { before, code, after } => {
                tx.execute_batch(before).map_err(open_error(path, "migrating the schema"))?;
                code(&tx)?;
                tx.execute_batch(after).map_err(open_error(path, "migrating the schema"))?;
            }
        }
        let version = found + 1 + step as i64;
        tx.pragma_update(None, "user_version", version).map_err(open_error(path, "recording the schema version"))?;
    }
    tx.commit().map_err(open_error(path, "committing the schema migration"))
}
