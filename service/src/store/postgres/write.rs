//! Creating, modifying and deleting users on a pooled connection: Creates in batches, one
//! transaction each ([`create_many`], fed by the group commit of [`super::group`]); a Modify or a
//! delete in a transaction of its own.
//!
//! A Create locks its instance's row first (creating the row if the instance had no user yet):
//! every check it makes afterwards — name taken? quota reached? address free? — sees every
//! create of that instance committed before it, in this process or any other, and none can
//! commit between the checks and the insert. The unique constraints still have the last word: a
//! violation is answered as the check would have (`UserExist`, `IpInvalid`).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use tokio_postgres::error::SqlState;

use super::read::{COLUMNS, user_from_row};
use super::{Client, pg, pg_error};
use crate::addressing::{self, IpRejection};
use crate::store::port::UserChange;
use crate::store::{CreateUserError, ModifyUserError, NewUser, OverLimit, StoreError, UserRecord};

/// Locks the instance's row (creating it first if needed) and reads it.
const LOCK_INSTANCE: &str = "INSERT INTO instances AS i (region, instance_id) VALUES ($1, $2) \
     ON CONFLICT (region, instance_id) DO UPDATE SET next_seq = i.next_seq \
     RETURNING i.user_count, i.next_seq, i.alloc_cidr, i.alloc_floor";
/// Whether instance ($1, $2) has a user named $3.
const NAME_EXISTS: &str = "SELECT 1 FROM users WHERE region = $1 AND instance_id = $2 AND user_name = $3";
/// Whether a user of the instance has address $3.
const IP_USED: &str = "SELECT 1 FROM users WHERE region = $1 AND instance_id = $2 AND ip_num = $3";
/// The lowest free address after a used one in [$3, $4] (as on SQLite).
const NEXT_GAP: &str = "SELECT a.ip_num + 1 FROM users AS a WHERE a.region = $1 AND a.instance_id = $2 \
     AND a.ip_num >= $3 AND a.ip_num < $4 AND NOT EXISTS (SELECT 1 FROM users AS b WHERE b.region = $1 AND \
     b.instance_id = $2 AND b.ip_num = a.ip_num + 1) ORDER BY a.ip_num LIMIT 1";
/// A new user with sequence number $3.
const INSERT: &str = "INSERT INTO users (region, instance_id, seq, user_name, user_mail, bandwidth, password_hash, \
     client_ip, ip_num, is_static_ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
/// After an insert: the next sequence number, and the cursor when the address was allocated.
const ADVANCE: &str = "UPDATE instances SET next_seq = next_seq + 1, alloc_cidr = COALESCE($3, alloc_cidr), \
     alloc_floor = COALESCE($4, alloc_floor) WHERE region = $1 AND instance_id = $2";
/// Moves the allocation cursor only.
const SET_FLOOR: &str = "UPDATE instances SET alloc_cidr = $3, alloc_floor = $4 WHERE region = $1 AND instance_id = $2";

/// A transaction or savepoint.
type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Creates `users` in one transaction, each in a savepoint (one user's refusal is rolled back
/// alone); one answer per user, in the order given. The users of one instance are created in the
/// order given; the instances are visited in one global order (region, then instance ID), so two
/// transactions never hold each other's instance lock: batches of different replicas cannot
/// deadlock.
pub(super) async fn create_many(
    client: &mut Client,
    users: Vec<NewUser>,
) -> Result<Vec<Result<UserRecord, CreateUserError>>, StoreError> {
    let mut order: Vec<(usize, NewUser)> = users.into_iter().enumerate().collect();
    // Stable: the users of one instance keep their order.
    order.sort_by(|(_, a), (_, b)| (&a.region, &a.instance.id).cmp(&(&b.region, &b.instance.id)));
    let mut tx = client.transaction().await.map_err(pg("starting the create transaction"))?;
    let mut results: Vec<Option<Result<UserRecord, CreateUserError>>> = (0..order.len()).map(|_| None).collect();
    for (index, user) in order {
        let savepoint = tx.savepoint("create_user").await.map_err(pg("starting a savepoint"))?;
        let result = match create(&savepoint, user).await {
            Ok(record) => {
                savepoint.commit().await.map_err(pg("releasing a savepoint"))?;
                Ok(record)
            }
            Err(CreateUserError::Store(error)) => return Err(error),
            Err(error) => {
                savepoint.rollback().await.map_err(pg("rolling back a savepoint"))?;
                Err(error)
            }
        };
        results[index] = Some(result);
    }
    tx.commit().await.map_err(pg("committing the new users"))?;
    // Every index was filled once above.
    Ok(results.into_iter().map(|r| r.unwrap_or(Err(CreateUserError::Store(StoreError::WriterGone)))).collect())
}

async fn exists(
    tx: &Tx<'_>,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<bool, StoreError> {
    let statement = tx.prepare_cached(query).await.map_err(pg("preparing a lookup"))?;
    Ok(tx.query_opt(&statement, params).await.map_err(pg("looking up"))?.is_some())
}

/// The checks and the insert of [`crate::store::Store::create_user`], in its order.
async fn create(tx: &Tx<'_>, user: NewUser) -> Result<UserRecord, CreateUserError> {
    let NewUser { region, instance, user_name, user_mail, bandwidth, password_hash, static_ip } = user;
    let Some(cidr) = instance.cidr else {
        return Err(CreateUserError::CidrEmpty { instance_id: instance.id });
    };
    let id = instance.id.as_str();
    let lock = tx.prepare_cached(LOCK_INSTANCE).await.map_err(pg("preparing the instance lock"))?;
    let row = tx.query_one(&lock, &[&region, &id]).await.map_err(pg("locking the instance"))?;
    let (count, next_seq): (i64, i64) = (row.get(0), row.get(1));
    let cursor = match (row.get::<_, Option<String>>(2), row.get::<_, Option<i64>>(3)) {
        (Some(alloc_cidr), Some(floor)) if alloc_cidr == cidr.to_string() => Some(floor),
        _ => None,
    };
    if exists(tx, NAME_EXISTS, &[&region, &id, &user_name]).await? {
        return Err(CreateUserError::UserExist { instance_id: instance.id, user_name });
    }
    if let Err(reason) = instance.quota(count) {
        return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
    }
    let client_ip = match static_ip {
        Some(ip) => {
            addressing::check_static_ip(cidr, ip).map_err(CreateUserError::IpInvalid)?;
            if exists(tx, IP_USED, &[&region, &id, &i64::from(u32::from(ip))]).await? {
                return Err(CreateUserError::IpInvalid(IpRejection::InUse { ip }));
            }
            ip
        }
        None => match lowest_free(tx, &region, id, cidr, cursor).await? {
            Some(ip) => ip,
            None => {
                let reason = OverLimit::AddressesExhausted { cidr };
                return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
            }
        },
    };
    let ip_num = i64::from(u32::from(client_ip));
    let insert = tx.prepare_cached(INSERT).await.map_err(pg("preparing the insert"))?;
    let ip_text = client_ip.to_string();
    let inserted = tx
        .execute(
            &insert,
            &[
                &region,
                &id,
                &next_seq,
                &user_name,
                &user_mail,
                &bandwidth,
                &password_hash,
                &ip_text,
                &ip_num,
                &static_ip.is_some(),
            ],
        )
        .await;
    if let Err(error) = inserted {
        let constraint =
            error.as_db_error().filter(|e| *e.code() == SqlState::UNIQUE_VIOLATION).and_then(|e| e.constraint());
        return Err(match constraint {
            Some("users_name_unique") => CreateUserError::UserExist { instance_id: instance.id, user_name },
            Some("users_ip_unique") => CreateUserError::IpInvalid(IpRejection::InUse { ip: client_ip }),
            _ => pg_error("inserting the user", error).into(),
        });
    }
    // Every client address of the block up to an allocated one is in use.
    let (alloc_cidr, floor) =
        if static_ip.is_none() { (Some(cidr.to_string()), Some(ip_num + 1)) } else { (None, None) };
    let advance = tx.prepare_cached(ADVANCE).await.map_err(pg("preparing the instance update"))?;
    tx.execute(&advance, &[&region, &id, &alloc_cidr, &floor]).await.map_err(pg("updating the instance"))?;
    Ok(UserRecord {
        user_name,
        user_mail,
        bandwidth,
        client_ip: ip_text,
        is_static_ip: static_ip.is_some(),
        state: 0,
        accelerate_bandwidth: 0,
    })
}

/// The lowest client address of `cidr` no user of the instance has, from the cursor `floor`.
async fn lowest_free(
    tx: &Tx<'_>,
    region: &str,
    instance_id: &str,
    cidr: Ipv4Net,
    floor: Option<i64>,
) -> Result<Option<Ipv4Addr>, StoreError> {
    let Some((start, last)) = addressing::search_range(cidr, floor) else { return Ok(None) };
    let found = if !exists(tx, IP_USED, &[&region, &instance_id, &start]).await? {
        Some(start)
    } else {
        let statement = tx.prepare_cached(NEXT_GAP).await.map_err(pg("preparing the address search"))?;
        let row = tx
            .query_opt(&statement, &[&region, &instance_id, &start, &last])
            .await
            .map_err(pg("searching for a free address"))?;
        row.map(|row| row.get::<_, i64>(0))
    };
    if found.is_none() {
        // The whole block is in use: later searches stop at once.
        let statement = tx.prepare_cached(SET_FLOOR).await.map_err(pg("preparing the cursor update"))?;
        let (alloc_cidr, past_end) = (cidr.to_string(), last + 1);
        tx.execute(&statement, &[&region, &instance_id, &alloc_cidr, &past_end])
            .await
            .map_err(pg("moving the allocation cursor"))?;
    }
    Ok(found.and_then(|ip| u32::try_from(ip).ok()).map(Ipv4Addr::from))
}

/// Sets bandwidth (and e-mail address) of a user: one statement, atomic by itself.
pub(super) async fn modify(client: &mut Client, change: &UserChange) -> Result<UserRecord, ModifyUserError> {
    let query = format!(
        "UPDATE users SET bandwidth = $1, user_mail = COALESCE($2, user_mail) WHERE region = $3 AND instance_id = $4 \
         AND user_name = $5 RETURNING {COLUMNS}"
    );
    let statement = client.prepare_cached(&query).await.map_err(pg("preparing the user update"))?;
    let row = client
        .query_opt(
            &statement,
            &[&change.bandwidth, &change.user_mail, &change.region, &change.instance_id, &change.user_name],
        )
        .await
        .map_err(pg("updating the user"))?;
    match row {
        Some(row) => Ok(user_from_row(&row)),
        None => Err(ModifyUserError::NotFound {
            region: change.region.clone(),
            instance_id: change.instance_id.clone(),
            user_name: change.user_name.clone(),
        }),
    }
}

/// Deletes every user and every instance row in one transaction; how many users there were.
pub(super) async fn delete_all(client: &mut Client) -> Result<u64, StoreError> {
    let context = "deleting every user";
    let tx = client.transaction().await.map_err(pg(context))?;
    // Lock the instances first, in the order creates lock them, so no create runs meanwhile.
    tx.execute("SELECT 1 FROM instances ORDER BY region, instance_id FOR UPDATE", &[]).await.map_err(pg(context))?;
    let deleted = tx.execute("DELETE FROM users", &[]).await.map_err(pg(context))?;
    tx.execute("DELETE FROM instances", &[]).await.map_err(pg(context))?;
    tx.commit().await.map_err(pg(context))?;
    Ok(deleted)
}
