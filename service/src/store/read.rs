//! Reading: a small pool of read-only connections (each behind its own mutex, never the writer's)
//! and the Describe queries, one statement per filter combination, each an index lookup.
//!
//! In WAL mode a reader sees the last committed state and is never blocked by the writer, not even
//! while it waits for its commit's `fsync`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, TryLockError};

use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, UserRecord, schema, sql, user_from_row};

/// How many read connections a [`super::Store`] keeps.
pub(super) const READERS: usize = 4;

/// The read connections.
pub(super) struct Readers {
    connections: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl Readers {
    /// [`READERS`] read-only connections to `path` (already migrated).
    pub(super) fn open(path: &Path) -> Result<Readers, StoreError> {
        let connections =
            (0..READERS).map(|_| schema::connect_reader(path).map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(Readers { connections, next: AtomicUsize::new(0) })
    }

    /// Runs `f` on a free connection, or waits for one.
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..count {
            // A panic while holding a reader dropped its read transaction: the connection is usable.
            match self.connections[(start + i) % count].try_lock() {
                Ok(mut connection) => return f(&mut connection),
                Err(TryLockError::Poisoned(poisoned)) => return f(&mut poisoned.into_inner()),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let mut connection = self.connections[start % count].lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut connection)
    }
}

/// The columns of a [`UserRecord`], in [`user_from_row`]'s order.
macro_rules! columns {
    () => {
        "user_name, user_mail, bandwidth, client_ip, is_static_ip, state, accelerate_bandwidth"
    };
}
pub(super) use columns;

// The page sizes are bound as `LIMIT ?n + 0`, not `LIMIT ?n`: with a bare parameter SQLite plans
// with the bound value, and binding it again expires the statement, so every execution is planned
// anew (measured: 2–5× the cost of the query). An expression keeps the plan.

/// The number of users of instance (?1, ?2), kept by the insert and delete triggers.
pub(super) const COUNT_ALL: &str = "SELECT user_count FROM instances WHERE region = ?1 AND instance_id = ?2";
/// The highest sequence number of the instance: equal to the count while the numbers are dense.
pub(super) const MAX_SEQ: &str = "SELECT MAX(seq) FROM users WHERE region = ?1 AND instance_id = ?2";
/// A page by seeking: users with `seq > ?3`, `?4` of them.
pub(super) const PAGE_BY_SEQ: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM users WHERE region = ?1 AND instance_id = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4 + 0"
);
/// A page when the sequence numbers have gaps (rows deleted by hand): the first `seq` of the page
/// is found by skipping `?3` entries of the covering `(region, instance_id, seq)` index, never
/// table rows.
pub(super) const PAGE_BY_INDEX_OFFSET: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM users WHERE region = ?1 AND instance_id = ?2 AND seq >= (SELECT seq FROM users WHERE region = ?1 \
     AND instance_id = ?2 ORDER BY seq LIMIT 1 OFFSET ?3) ORDER BY seq LIMIT ?4 + 0"
);
/// The one user of that name (the unique name index).
pub(super) const BY_NAME: &str =
    concat!("SELECT ", columns!(), " FROM users WHERE region = ?1 AND instance_id = ?2 AND user_name = ?3");
/// The one user of that name, if it has that e-mail address.
pub(super) const BY_NAME_AND_MAIL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM users WHERE region = ?1 AND instance_id = ?2 AND user_name = ?3 AND user_mail = ?4"
);
/// How many users have that e-mail address (a range of the mail index).
pub(super) const COUNT_BY_MAIL: &str =
    "SELECT COUNT(*) FROM users WHERE region = ?1 AND instance_id = ?2 AND user_mail = ?3";
/// A page of the users with that e-mail address, in creation order (the mail index ends in the
/// rowid, so it is in that order already); the skipped entries are read from the index only.
pub(super) const PAGE_BY_MAIL: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM users WHERE region = ?1 AND instance_id = ?2 AND user_mail = ?3 AND id >= (SELECT id FROM users \
     WHERE region = ?1 AND instance_id = ?2 AND user_mail = ?3 ORDER BY id LIMIT 1 OFFSET ?4) ORDER BY id LIMIT ?5 + 0"
);

/// What Describe asks for.
pub(super) struct Listing<'a> {
    pub(super) region: &'a str,
    pub(super) instance_id: &'a str,
    pub(super) user_name: Option<&'a str>,
    pub(super) user_mail: Option<&'a str>,
    /// Users skipped: `(page_number - 1) * page_size`.
    pub(super) offset: i64,
    pub(super) limit: i64,
}

fn rows(
    connection: &Connection,
    query: &'static str,
    params: impl rusqlite::Params,
    context: &'static str,
) -> Result<Vec<UserRecord>, StoreError> {
    let mut statement = connection.prepare_cached(query).map_err(sql(context))?;
    statement.query_map(params, user_from_row).map_err(sql(context))?.collect::<Result<_, _>>().map_err(sql(context))
}

fn number(connection: &Connection, query: &'static str, params: impl rusqlite::Params) -> Result<i64, StoreError> {
    let mut statement = connection.prepare_cached(query).map_err(sql("counting the users"))?;
    let value: Option<Option<i64>> =
        statement.query_row(params, |row| row.get(0)).optional().map_err(sql("counting the users"))?;
    Ok(value.flatten().unwrap_or(0))
}

/// The total and the page, from one snapshot.
pub(super) fn list(connection: &mut Connection, q: &Listing<'_>) -> Result<(i64, Vec<UserRecord>), StoreError> {
    let tx = connection.transaction().map_err(sql("starting the list-users transaction"))?;
    let (region, instance_id) = (q.region, q.instance_id);
    let result = match (q.user_name, q.user_mail) {
        (None, None) => {
            let total = number(&tx, COUNT_ALL, params![region, instance_id])?;
            let users = if total == 0 || q.offset >= total {
                Vec::new()
            } else if number(&tx, MAX_SEQ, params![region, instance_id])? == total {
                rows(&tx, PAGE_BY_SEQ, params![region, instance_id, q.offset, q.limit], "listing the users")?
            } else {
                rows(&tx, PAGE_BY_INDEX_OFFSET, params![region, instance_id, q.offset, q.limit], "listing the users")?
            };
            (total, users)
        }
        (Some(name), mail) => {
            let found = match mail {
                None => rows(&tx, BY_NAME, params![region, instance_id, name], "looking up the user")?,
                Some(mail) => {
                    rows(&tx, BY_NAME_AND_MAIL, params![region, instance_id, name, mail], "looking up the user")?
                }
            };
            let total = found.len() as i64;
            (total, if q.offset == 0 { found } else { Vec::new() })
        }
        (None, Some(mail)) => {
            let total = number(&tx, COUNT_BY_MAIL, params![region, instance_id, mail])?;
            let users = if q.offset >= total {
                Vec::new()
            } else {
                let p = params![region, instance_id, mail, q.offset, q.limit];
                rows(&tx, PAGE_BY_MAIL, p, "listing the users by e-mail address")?
            };
            (total, users)
        }
    };
    tx.finish().map_err(sql("ending the list-users transaction"))?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::write;

    /// The plan of `query`, one line per step.
    pub(crate) fn plan(connection: &Connection, query: &str) -> Vec<String> {
        let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {query}")).expect("explain");
        let values: Vec<rusqlite::types::Value> =
            (0..statement.parameter_count()).map(|_| rusqlite::types::Value::Integer(1)).collect();
        statement
            .query_map(rusqlite::params_from_iter(values), |row| row.get::<_, String>(3))
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("plan rows")
    }

    pub(crate) fn migrated() -> Connection {
        let mut connection = Connection::open_in_memory().expect("in-memory database");
        schema::migrate(&mut connection, Path::new(":memory:")).expect("migrate");
        connection
    }

    /// Every step of every query is an index search (no table scan, no temporary B-tree for
    /// ORDER BY), on the constraint expected.
    #[test]
    fn every_query_is_an_index_lookup() {
        let connection = migrated();
        let cases: &[(&str, &[&str])] = &[
            (COUNT_ALL, &["SEARCH instances USING PRIMARY KEY (region=? AND instance_id=?)"]),
            (MAX_SEQ, &["(region=? AND instance_id=?)"]),
            (PAGE_BY_SEQ, &["(region=? AND instance_id=? AND seq>?)"]),
            (PAGE_BY_INDEX_OFFSET, &["USING COVERING INDEX", "(region=? AND instance_id=? AND seq>?)"]),
            (BY_NAME, &["(region=? AND instance_id=? AND user_name=?)"]),
            (BY_NAME_AND_MAIL, &["(region=? AND instance_id=? AND user_name=?)"]),
            (COUNT_BY_MAIL, &["USING COVERING INDEX users_by_mail (region=? AND instance_id=? AND user_mail=?)"]),
            (PAGE_BY_MAIL, &["USING COVERING INDEX users_by_mail (region=? AND instance_id=? AND user_mail=?)"]),
            (write::NAME_EXISTS, &["(region=? AND instance_id=? AND user_name=?)"]),
            (write::INSTANCE, &["SEARCH instances USING PRIMARY KEY (region=? AND instance_id=?)"]),
            (write::IP_USED, &["(region=? AND instance_id=? AND ip_num=?)"]),
            (write::NEXT_GAP, &["(region=? AND instance_id=? AND ip_num>? AND ip_num<?)", "ip_num=?)"]),
            (write::INSERT, &["(region=? AND instance_id=?)"]),
            (write::MODIFY, &["(region=? AND instance_id=? AND user_name=?)"]),
        ];
        for (query, expected) in cases {
            for (at, _) in query.match_indices("LIMIT ?") {
                let rest = query[at + "LIMIT ?".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
                assert!(rest.starts_with(" + 0"), "a bare bound LIMIT (re-planned on every execution) in {query}");
            }
            let plan = plan(&connection, query);
            let text = plan.join("\n");
            for step in &plan {
                assert!(!step.starts_with("SCAN"), "table scan in {query}:\n{text}");
                assert!(!step.contains("TEMP B-TREE"), "temporary B-tree in {query}:\n{text}");
            }
            assert!(plan.iter().any(|s| s.starts_with("SEARCH")), "no index search in {query}:\n{text}");
            for fragment in *expected {
                assert!(text.contains(fragment), "{fragment:?} not in the plan of {query}:\n{text}");
            }
        }
    }

    /// The test above would catch the old catch-all filter.
    #[test]
    fn the_catch_all_filter_is_caught() {
        let connection = migrated();
        let old = concat!(
            "SELECT ",
            columns!(),
            " FROM users WHERE region = ?1 AND instance_id = ?2 AND (?3 IS NULL OR user_name = ?3) AND (?4 IS NULL \
             OR user_mail = ?4) ORDER BY id LIMIT ?5 OFFSET ?6"
        );
        let text = plan(&connection, old).join("\n");
        assert!(!text.contains("user_name=?") && !text.contains("user_mail=?"), "{text}");
    }
}
