//! Creating, modifying and deleting users on a pooled connection: Creates in batches, one
//! transaction each ([`create_many`], fed by the group commit of [`super::group`]); a Modify or a
//! delete in a transaction of its own.
//!
//! A Create locks its instance's row first (creating the row if the instance had no user yet):
//! every check it makes afterwards — name taken? quota reached? address free? — sees every
//! create of that instance committed before it, in this process or any other, and none can
//! commit between the checks and the insert. The unique constraints still have the last word: a
//! violation is answered as the check would have (`UserExist`, `IpInvalid`).
//!
//! A batch takes each instance's lock once and keeps the instance's counters (users, next
//! sequence number, allocation cursor) in memory while it creates that instance's users, writing
//! them back once: a Create is then two round trips (the name and address lookups together, then
//! the insert) instead of seven, and a refused one writes nothing, so no savepoints.

use std::net::Ipv4Addr;

use tokio_postgres::types::ToSql;

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
/// A new user with sequence number $3; no row when the name or the address is taken (the
/// transaction goes on, so no savepoint is needed to refuse one Create of a batch).
const INSERT: &str = "INSERT INTO users (region, instance_id, seq, user_name, user_mail, bandwidth, password_hash, \
     client_ip, ip_num, is_static_ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING";
/// The instance's sequence number and allocation cursor as the transaction leaves them.
const WRITE_BACK: &str =
    "UPDATE instances SET next_seq = $3, alloc_cidr = $4, alloc_floor = $5 WHERE region = $1 AND instance_id = $2";

/// A transaction.
type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Creates `users` in one transaction; one answer per user, in the order given. The users of one
/// instance are created in the order given, under one lock of the instance's row taken when its
/// first user is reached; the instances are visited in one global order (region, then instance
/// ID), so two transactions never hold each other's instance lock: batches of different replicas
/// cannot deadlock. A refused Create writes nothing, so the others go on in the same transaction.
pub(super) async fn create_many(
    client: &mut Client,
    users: Vec<NewUser>,
) -> Result<Vec<Result<UserRecord, CreateUserError>>, StoreError> {
    let mut order: Vec<(usize, NewUser)> = users.into_iter().enumerate().collect();
    // Stable: the users of one instance keep their order.
    order.sort_by(|(_, a), (_, b)| (&a.region, &a.instance.id).cmp(&(&b.region, &b.instance.id)));
    let tx = client.transaction().await.map_err(pg("starting the create transaction"))?;
    let mut results: Vec<Option<Result<UserRecord, CreateUserError>>> = (0..order.len()).map(|_| None).collect();
    let mut held: Option<Held> = None;
    for (index, user) in order {
        let result = match create(&tx, &mut held, user).await {
            Err(CreateUserError::Store(error)) => return Err(error),
            other => other,
        };
        results[index] = Some(result);
    }
    if let Some(last) = held {
        last.write_back(&tx).await?;
    }
    tx.commit().await.map_err(pg("committing the new users"))?;
    // Every index was filled once above.
    Ok(results.into_iter().map(|r| r.unwrap_or(Err(CreateUserError::Store(StoreError::WriterGone)))).collect())
}

/// The instance whose row the transaction holds locked, and its counters as they stand inside
/// the transaction: read once when the lock is taken, kept here while its users are created, and
/// written back once when the transaction moves on to the next instance or ends.
struct Held {
    region: String,
    instance_id: String,
    /// Users of the instance (the count trigger keeps the row's in step).
    count: i64,
    next_seq: i64,
    alloc_cidr: Option<String>,
    alloc_floor: Option<i64>,
    changed: bool,
}

impl Held {
    /// Locks the instance's row (creating it if the instance had no user yet) and reads it.
    async fn lock(tx: &Tx<'_>, region: &str, instance_id: &str) -> Result<Held, StoreError> {
        let lock = tx.prepare_cached(LOCK_INSTANCE).await.map_err(pg("preparing the instance lock"))?;
        let row = tx.query_one(&lock, &[&region, &instance_id]).await.map_err(pg("locking the instance"))?;
        Ok(Held {
            region: region.to_owned(),
            instance_id: instance_id.to_owned(),
            count: row.get(0),
            next_seq: row.get(1),
            alloc_cidr: row.get(2),
            alloc_floor: row.get(3),
            changed: false,
        })
    }

    /// The allocation cursor, if it is one of `cidr` (the instance's block may have changed).
    fn cursor(&self, cidr: &str) -> Option<i64> {
        self.alloc_floor.filter(|_| self.alloc_cidr.as_deref() == Some(cidr))
    }

    /// After an insert: one more user, the next sequence number, and (for an allocated address)
    /// every client address of the block up to it in use.
    fn inserted(&mut self, cidr: &str, allocated: Option<i64>) {
        self.count += 1;
        self.next_seq += 1;
        if let Some(ip_num) = allocated {
            self.alloc_cidr = Some(cidr.to_owned());
            self.alloc_floor = Some(ip_num + 1);
        }
        self.changed = true;
    }

    /// The whole block is in use: later searches stop at once.
    fn exhausted(&mut self, cidr: &str, past_end: i64) {
        self.alloc_cidr = Some(cidr.to_owned());
        self.alloc_floor = Some(past_end);
        self.changed = true;
    }

    /// Writes the sequence number and the cursor to the instance's row (nothing when no Create
    /// of the batch changed them; the user count is the trigger's).
    async fn write_back(self, tx: &Tx<'_>) -> Result<(), StoreError> {
        if !self.changed {
            return Ok(());
        }
        let statement = tx.prepare_cached(WRITE_BACK).await.map_err(pg("preparing the instance update"))?;
        tx.execute(&statement, &[&self.region, &self.instance_id, &self.next_seq, &self.alloc_cidr, &self.alloc_floor])
            .await
            .map_err(pg("updating the instance"))?;
        Ok(())
    }
}

/// The [`Held`] instance of `region`/`instance_id`: the one held already, or (after writing back
/// the previous one) a newly locked one.
async fn hold<'h>(
    tx: &Tx<'_>,
    held: &'h mut Option<Held>,
    region: &str,
    instance_id: &str,
) -> Result<&'h mut Held, StoreError> {
    let same = held.as_ref().is_some_and(|h| h.region == region && h.instance_id == instance_id);
    match (same, held) {
        (true, Some(same)) => Ok(same),
        (_, held) => {
            if let Some(previous) = held.take() {
                previous.write_back(tx).await?;
            }
            Ok(held.insert(Held::lock(tx, region, instance_id).await?))
        }
    }
}

async fn exists(tx: &Tx<'_>, query: &str, params: &[&(dyn ToSql + Sync)]) -> Result<bool, StoreError> {
    let statement = tx.prepare_cached(query).await.map_err(pg("preparing a lookup"))?;
    Ok(tx.query_opt(&statement, params).await.map_err(pg("looking up"))?.is_some())
}

/// The checks and the insert of [`crate::store::Store::create_user`], in its order (name, quota,
/// address), with the instance `held` locked.
async fn create(tx: &Tx<'_>, held: &mut Option<Held>, user: NewUser) -> Result<UserRecord, CreateUserError> {
    let NewUser { region, instance, user_name, user_mail, bandwidth, password_hash, static_ip } = user;
    let Some(cidr) = instance.cidr else {
        return Err(CreateUserError::CidrEmpty { instance_id: instance.id });
    };
    let id = instance.id.as_str();
    let state = hold(tx, held, &region, id).await?;
    let cidr_text = cidr.to_string();
    let range = addressing::search_range(cidr, state.cursor(&cidr_text));
    // The name lookup and the first address lookup go out together (one round trip: the
    // connection pipelines them); the address is looked up before it is known to be needed.
    let probe = match static_ip {
        Some(ip) => Some(i64::from(u32::from(ip))),
        None => range.map(|(start, _)| start),
    };
    let name_params: [&(dyn ToSql + Sync); 3] = [&region, &id, &user_name];
    let (name_taken, probe_used) = futures::try_join!(exists(tx, NAME_EXISTS, &name_params), async {
        match probe {
            Some(ip_num) => exists(tx, IP_USED, &[&region, &id, &ip_num]).await,
            None => Ok(true),
        }
    })?;
    if name_taken {
        return Err(CreateUserError::UserExist { instance_id: instance.id, user_name });
    }
    if let Err(reason) = instance.quota(state.count) {
        return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
    }
    let client_ip = match static_ip {
        Some(ip) => {
            addressing::check_static_ip(cidr, ip).map_err(CreateUserError::IpInvalid)?;
            if probe_used {
                return Err(CreateUserError::IpInvalid(IpRejection::InUse { ip }));
            }
            ip
        }
        None => {
            let found = match range {
                Some((start, _)) if !probe_used => Some(start),
                Some((start, last)) => next_gap(tx, &region, id, start, last).await?,
                None => None,
            };
            match found.and_then(|ip| u32::try_from(ip).ok()).map(Ipv4Addr::from) {
                Some(ip) => ip,
                None => {
                    if let Some((_, last)) = range {
                        state.exhausted(&cidr_text, last + 1);
                    }
                    let reason = OverLimit::AddressesExhausted { cidr };
                    return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
                }
            }
        }
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
                &state.next_seq,
                &user_name,
                &user_mail,
                &bandwidth,
                &password_hash,
                &ip_text,
                &ip_num,
                &static_ip.is_some(),
            ],
        )
        .await
        .map_err(|error| pg_error("inserting the user", error))?;
    if inserted == 0 {
        // A unique constraint said no: answered as the check would have (the lock makes this a
        // row written outside the store's own Creates, such as an import's).
        return Err(if exists(tx, NAME_EXISTS, &[&region, &id, &user_name]).await? {
            CreateUserError::UserExist { instance_id: instance.id, user_name }
        } else {
            CreateUserError::IpInvalid(IpRejection::InUse { ip: client_ip })
        });
    }
    state.inserted(&cidr_text, static_ip.is_none().then_some(ip_num));
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

/// The lowest free client address after a used one in [`start`, `last`].
async fn next_gap(
    tx: &Tx<'_>,
    region: &str,
    instance_id: &str,
    start: i64,
    last: i64,
) -> Result<Option<i64>, StoreError> {
    let statement = tx.prepare_cached(NEXT_GAP).await.map_err(pg("preparing the address search"))?;
    let row = tx
        .query_opt(&statement, &[&region, &instance_id, &start, &last])
        .await
        .map_err(pg("searching for a free address"))?;
    Ok(row.map(|row| row.get::<_, i64>(0)))
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
