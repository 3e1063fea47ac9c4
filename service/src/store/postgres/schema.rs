//! The PostgreSQL schema and its versioned migrations.
//!
//! Version 1 has the same tables and invariants as the SQLite schema (see
//! [`crate::store`]'s `schema` module):
//!
//! - `instances`: per instance the user count (kept by statement triggers on `users`, in the
//!   inserting or deleting transaction; version 2: once per statement, no longer once per row), the next sequence number, and the allocation cursor (`alloc_floor`: every
//!   client address of block `alloc_cidr` below it is in use; the delete trigger lowers it). A
//!   Create locks its instance's row first, which serialises the creates of one instance across
//!   every process sharing the database.
//! - `users`: `UNIQUE(region, instance_id, user_name)`, `UNIQUE(region, instance_id, ip_num)`,
//!   `UNIQUE(region, instance_id, seq)` (keyset paging), and an index on the e-mail address.
//! - `nonces`: the replay cache shared by the replicas, primary key `(access_key_id, nonce)`, with
//!   the Unix time at which each entry expires.
//!
//! `schema_migrations` lists the versions applied. [`migrate`] runs in one transaction holding
//! `pg_advisory_xact_lock`, so replicas that start together migrate one after the other (the later
//! ones find nothing to do).

use super::{Client, pg};
use crate::store::StoreError;

/// The advisory lock key of migrations (any constant; the same in every build).
const MIGRATION_LOCK: i64 = 0x5341_4753_4348_454d; // "SAGSCHEM"

/// Entry `n` migrates version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "CREATE TABLE instances (
        region      TEXT   NOT NULL,
        instance_id TEXT   NOT NULL,
        user_count  BIGINT NOT NULL DEFAULT 0 CHECK (user_count >= 0),
        next_seq    BIGINT NOT NULL DEFAULT 1,
        alloc_cidr  TEXT,
        alloc_floor BIGINT,
        PRIMARY KEY (region, instance_id)
    );
    CREATE TABLE users (
        id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        region               TEXT    NOT NULL,
        instance_id          TEXT    NOT NULL,
        seq                  BIGINT  NOT NULL,
        user_name            TEXT    NOT NULL,
        user_mail            TEXT    NOT NULL,
        bandwidth            BIGINT  NOT NULL,
        password_hash        TEXT    NOT NULL,
        client_ip            TEXT    NOT NULL,
        ip_num               BIGINT  NOT NULL,
        is_static_ip         BOOLEAN NOT NULL,
        state                BIGINT  NOT NULL DEFAULT 0,
        accelerate_bandwidth BIGINT  NOT NULL DEFAULT 0,
        created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT users_name_unique UNIQUE (region, instance_id, user_name),
        CONSTRAINT users_ip_unique UNIQUE (region, instance_id, ip_num),
        CONSTRAINT users_seq_unique UNIQUE (region, instance_id, seq),
        FOREIGN KEY (region, instance_id) REFERENCES instances (region, instance_id)
    );
    CREATE INDEX users_by_mail ON users (region, instance_id, user_mail, id);
    CREATE FUNCTION users_counted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE instances SET user_count = user_count + 1
                WHERE region = NEW.region AND instance_id = NEW.instance_id;
        ELSE
            UPDATE instances SET user_count = user_count - 1, alloc_floor = LEAST(alloc_floor, OLD.ip_num)
                WHERE region = OLD.region AND instance_id = OLD.instance_id;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER users_counted AFTER INSERT OR DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION users_counted();
    CREATE TABLE nonces (
        access_key_id TEXT   NOT NULL,
        nonce         TEXT   NOT NULL,
        expires_at    BIGINT NOT NULL,
        PRIMARY KEY (access_key_id, nonce)
    );
    CREATE INDEX nonces_by_expiry ON nonces (expires_at);",
    // 1 -> 2: the count kept once per statement, not once per row. A row trigger updated the
    // instance's row once per user, so one transaction inserting n users (an import) left n row
    // versions that every later update in it had to walk past: quadratic. A statement trigger
    // reads the statement's rows (a transition table) and updates each instance once.
    "DROP TRIGGER users_counted ON users;
    DROP FUNCTION users_counted();
    CREATE FUNCTION users_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE instances AS i SET user_count = i.user_count + n.added
            FROM (SELECT region, instance_id, COUNT(*) AS added FROM added_users GROUP BY region, instance_id) AS n
            WHERE i.region = n.region AND i.instance_id = n.instance_id;
        RETURN NULL;
    END $$;
    CREATE TRIGGER users_added AFTER INSERT ON users REFERENCING NEW TABLE AS added_users
        FOR EACH STATEMENT EXECUTE FUNCTION users_added();
    CREATE FUNCTION users_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE instances AS i SET user_count = i.user_count - n.removed, alloc_floor = LEAST(i.alloc_floor, n.lowest)
            FROM (SELECT region, instance_id, COUNT(*) AS removed, MIN(ip_num) AS lowest FROM removed_users
                  GROUP BY region, instance_id) AS n
            WHERE i.region = n.region AND i.instance_id = n.instance_id;
        RETURN NULL;
    END $$;
    CREATE TRIGGER users_removed AFTER DELETE ON users REFERENCING OLD TABLE AS removed_users
        FOR EACH STATEMENT EXECUTE FUNCTION users_removed();",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Migrates the database to [`SCHEMA_VERSION`] in one transaction under the advisory lock.
pub(super) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let context = "migrating the schema";
    let tx = client.transaction().await.map_err(pg(context))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(pg(context))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(pg(context))?;
    let found: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[])
        .await
        .map_err(pg("reading the schema version"))?
        .get(0);
    let Some(pending) = usize::try_from(found).ok().and_then(|done| MIGRATIONS.get(done..)) else {
        return Err(StoreError::PgSchemaVersion { found, supported: SCHEMA_VERSION });
    };
    for (step, statements) in pending.iter().enumerate() {
        let version = found + 1 + step as i64;
        tx.batch_execute(statements).await.map_err(pg(context))?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&version])
            .await
            .map_err(pg("recording the schema version"))?;
        tracing::info!(version, "PostgreSQL schema migrated");
    }
    tx.commit().await.map_err(pg("committing the schema migration"))
}

/// Proves that the database can be written now: a transaction that writes (a row lock and a
/// rewrite of the newest `schema_migrations` row with its own values) and commits.
pub(super) async fn probe_write(client: &mut Client) -> Result<(), StoreError> {
    let context = "probing that the database can be written";
    let tx = client.transaction().await.map_err(pg(context))?;
    tx.execute(
        "UPDATE schema_migrations SET version = version WHERE version = (SELECT MAX(version) FROM schema_migrations)",
        &[],
    )
    .await
    .map_err(pg(context))?;
    tx.commit().await.map_err(pg(context))
}
