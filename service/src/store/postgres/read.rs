//! Reading: Describe's listings (index lookups and keyset paging, as on SQLite), and what the
//! admin endpoints and the seed read.

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::{Client, pg};
use crate::store::port::UserQuery;
use crate::store::{InstanceUser, StoreError, UserRecord};

/// The columns of a [`UserRecord`], in [`user_from_row`]'s order.
pub(super) const COLUMNS: &str =
    "user_name, user_mail, bandwidth, client_ip, is_static_ip, state, accelerate_bandwidth";

/// A [`UserRecord`] from a row of [`COLUMNS`] starting at column `at`.
fn user_at(row: &Row, at: usize) -> UserRecord {
    UserRecord {
        user_name: row.get(at),
        user_mail: row.get(at + 1),
        bandwidth: row.get(at + 2),
        client_ip: row.get(at + 3),
        is_static_ip: row.get(at + 4),
        state: row.get(at + 5),
        accelerate_bandwidth: row.get(at + 6),
    }
}

/// A [`UserRecord`] from a row of [`COLUMNS`].
pub(super) fn user_from_row(row: &Row) -> UserRecord {
    user_at(row, 0)
}

/// The instance's user count and highest sequence number (equal while the numbers are dense).
const COUNTS_OF: &str = "SELECT user_count, next_seq - 1 FROM instances WHERE region = $1 AND instance_id = $2";

async fn users(
    tx: &deadpool_postgres::Transaction<'_>,
    query: &str,
    params: &[&(dyn ToSql + Sync)],
    context: &'static str,
) -> Result<Vec<UserRecord>, StoreError> {
    let statement = tx.prepare_cached(query).await.map_err(pg(context))?;
    Ok(tx.query(&statement, params).await.map_err(pg(context))?.iter().map(user_from_row).collect())
}

/// The count of the instance, its highest sequence number and the page after sequence number
/// `$3` (at most `$4` users), in one statement (one snapshot, one round trip). No row: the
/// instance never had users; a row of NULL user columns: no user on that page.
const COUNTS_AND_PAGE: &str = "SELECT i.user_count, i.next_seq - 1, u.user_name, u.user_mail, u.bandwidth, \
     u.client_ip, u.is_static_ip, u.state, u.accelerate_bandwidth FROM instances AS i LEFT JOIN LATERAL (SELECT * \
     FROM users WHERE region = i.region AND instance_id = i.instance_id AND seq > $3 ORDER BY seq LIMIT $4) AS u ON \
     true WHERE i.region = $1 AND i.instance_id = $2";

/// The total and the page, from one snapshot. The common cases take one statement: a page of every
/// user while the sequence numbers are dense (they are unless rows were deleted by hand), and a
/// lookup by name; the others run in a repeatable-read, read-only transaction.
pub(super) async fn list(client: &mut Client, q: &UserQuery) -> Result<(i64, Vec<UserRecord>), StoreError> {
    let context = "listing the users";
    let offset = (q.page_number - 1).saturating_mul(q.page_size);
    match (&q.user_name, &q.user_mail) {
        (None, None) => {
            let statement = client.prepare_cached(COUNTS_AND_PAGE).await.map_err(pg(context))?;
            let rows = client
                .query(&statement, &[&q.region, &q.instance_id, &offset, &q.page_size])
                .await
                .map_err(pg(context))?;
            let Some(first) = rows.first() else { return Ok((0, Vec::new())) };
            let (total, max_seq): (i64, i64) = (first.get(0), first.get(1));
            if max_seq == total {
                let page = rows
                    .iter()
                    .filter(|row| row.get::<_, Option<String>>(2).is_some())
                    .map(|row| user_at(row, 2))
                    .collect();
                return Ok((total, page));
            }
        }
        (Some(name), None) => {
            let query =
                format!("SELECT {COLUMNS} FROM users WHERE region = $1 AND instance_id = $2 AND user_name = $3");
            let statement = client.prepare_cached(&query).await.map_err(pg(context))?;
            let found: Vec<UserRecord> = client
                .query(&statement, &[&q.region, &q.instance_id, name])
                .await
                .map_err(pg(context))?
                .iter()
                .map(user_from_row)
                .collect();
            let total = found.len() as i64;
            return Ok((total, if offset == 0 { found } else { Vec::new() }));
        }
        _ => {}
    }
    list_in_snapshot(client, q).await
}

/// [`list`] in a repeatable-read, read-only transaction: every case.
async fn list_in_snapshot(client: &mut Client, q: &UserQuery) -> Result<(i64, Vec<UserRecord>), StoreError> {
    let context = "listing the users";
    let tx = client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(pg("starting the list-users transaction"))?;
    let (region, instance_id) = (&q.region, &q.instance_id);
    let offset = (q.page_number - 1).saturating_mul(q.page_size);
    let limit = q.page_size;
    let result = match (&q.user_name, &q.user_mail) {
        (None, None) => {
            let statement = tx.prepare_cached(COUNTS_OF).await.map_err(pg(context))?;
            let counts = tx.query_opt(&statement, &[region, instance_id]).await.map_err(pg(context))?;
            let (total, max_seq): (i64, i64) = counts.map_or((0, 0), |row| (row.get(0), row.get(1)));
            let page = if total == 0 || offset >= total {
                Vec::new()
            } else if max_seq == total {
                let query = format!(
                    "SELECT {COLUMNS} FROM users WHERE region = $1 AND instance_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
                );
                users(&tx, &query, &[region, instance_id, &offset, &limit], context).await?
            } else {
                // Sequence numbers with gaps (rows deleted by hand): skip on the seq index.
                let query = format!(
                    "SELECT {COLUMNS} FROM users WHERE region = $1 AND instance_id = $2 ORDER BY seq LIMIT $4 OFFSET $3"
                );
                users(&tx, &query, &[region, instance_id, &offset, &limit], context).await?
            };
            (total, page)
        }
        (Some(name), mail) => {
            let found = match mail {
                None => {
                    let query = format!(
                        "SELECT {COLUMNS} FROM users WHERE region = $1 AND instance_id = $2 AND user_name = $3"
                    );
                    users(&tx, &query, &[region, instance_id, name], context).await?
                }
                Some(mail) => {
                    let query = format!(
                        "SELECT {COLUMNS} FROM users WHERE region = $1 AND instance_id = $2 AND user_name = $3 \
                         AND user_mail = $4"
                    );
                    users(&tx, &query, &[region, instance_id, name, mail], context).await?
                }
            };
            let total = found.len() as i64;
            (total, if offset == 0 { found } else { Vec::new() })
        }
        (None, Some(mail)) => {
            let count = "SELECT COUNT(*) FROM users WHERE region = $1 AND instance_id = $2 AND user_mail = $3";
            let statement = tx.prepare_cached(count).await.map_err(pg(context))?;
            let total: i64 = tx.query_one(&statement, &[region, instance_id, mail]).await.map_err(pg(context))?.get(0);
            let page = if offset >= total {
                Vec::new()
            } else {
                let query = format!(
                    "SELECT {COLUMNS} FROM users WHERE region = $1 AND instance_id = $2 AND user_mail = $3 ORDER BY id \
                     LIMIT $5 OFFSET $4"
                );
                users(&tx, &query, &[region, instance_id, mail, &offset, &limit], context).await?
            };
            (total, page)
        }
    };
    tx.commit().await.map_err(pg("ending the list-users transaction"))?;
    Ok(result)
}

/// Whether there is no user at all.
pub(super) async fn is_empty(client: &mut Client) -> Result<bool, StoreError> {
    let row = client
        .query_one("SELECT NOT EXISTS (SELECT 1 FROM users)", &[])
        .await
        .map_err(pg("checking whether there are users"))?;
    Ok(row.get(0))
}

/// Every user with its instance, by region, instance and creation order.
pub(super) async fn all_users(client: &mut Client) -> Result<Vec<InstanceUser>, StoreError> {
    let query = format!("SELECT region, instance_id, {COLUMNS} FROM users ORDER BY region, instance_id, seq");
    let rows = client.query(&query, &[]).await.map_err(pg("listing every user"))?;
    Ok(rows
        .iter()
        .map(|row| InstanceUser { region: row.get(0), instance_id: row.get(1), user: user_at(row, 2) })
        .collect())
}

/// `(region, instance, users)` of every instance that has had users.
pub(super) async fn user_counts(client: &mut Client) -> Result<Vec<(String, String, i64)>, StoreError> {
    let rows = client
        .query("SELECT region, instance_id, user_count FROM instances ORDER BY region, instance_id", &[])
        .await
        .map_err(pg("counting the users of each instance"))?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect())
}
