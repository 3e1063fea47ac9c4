//! Writing: one writer thread per [`super::Store`] owns the write connection and commits the
//! writes waiting for it together (group commit).
//!
//! Callers hand their write to the thread over a channel and wait for its answer. The thread takes
//! every write waiting (up to [`MAX_BATCH`]) into one `BEGIN IMMEDIATE` transaction, runs each in
//! its own savepoint (a write that fails — name taken, quota reached, address invalid — is rolled
//! back alone and only its caller gets the error), commits once (one `fsync` with
//! `synchronous=FULL`), and only then answers every caller of the batch. While it waits for the
//! disk, new writes queue up and form the next batch.

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};

use ipnet::Ipv4Net;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::read::columns;
use super::{CreateUserError, ModifyUserError, NewUser, OverLimit, StoreError, UserRecord, sql, user_from_row};
use crate::addressing::{self, IpRejection};

/// The most writes one transaction takes (a bulk [`Job::Create`] counts as its length and is never
/// split).
pub(super) const MAX_BATCH: usize = 256;

/// Whether instance (?1, ?2) has a user named ?3.
pub(super) const NAME_EXISTS: &str = "SELECT 1 FROM users WHERE region = ?1 AND instance_id = ?2 AND user_name = ?3";
/// The instance's user count and allocation cursor.
pub(super) const INSTANCE: &str =
    "SELECT user_count, alloc_cidr, alloc_floor FROM instances WHERE region = ?1 AND instance_id = ?2";
/// Whether a user of the instance has address ?3.
pub(super) const IP_USED: &str = "SELECT 1 FROM users WHERE region = ?1 AND instance_id = ?2 AND ip_num = ?3";
/// The lowest free address after a used one in [?3, ?4]: the first used address `a >= ?3`, below
/// ?4, whose successor is free. Used with ?3 used, it is the lowest free address `>= ?3`.
pub(super) const NEXT_GAP: &str = "SELECT a.ip_num + 1 FROM users AS a WHERE a.region = ?1 AND a.instance_id = ?2 \
     AND a.ip_num >= ?3 AND a.ip_num < ?4 AND NOT EXISTS (SELECT 1 FROM users AS b WHERE b.region = ?1 AND \
     b.instance_id = ?2 AND b.ip_num = a.ip_num + 1) ORDER BY a.ip_num LIMIT 1";
/// A new user, numbered after the instance's last.
pub(super) const INSERT: &str = "INSERT INTO users (region, instance_id, seq, user_name, user_mail, bandwidth, \
     password_hash, client_ip, ip_num, is_static_ip) VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM users \
     WHERE region = ?1 AND instance_id = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
/// Moves the allocation cursor (the row exists: the insert trigger made it).
const SET_FLOOR: &str = "UPDATE instances SET alloc_cidr = ?3, alloc_floor = ?4 WHERE region = ?1 AND instance_id = ?2";
/// Sets bandwidth (and e-mail address) of a user.
pub(super) const MODIFY: &str = concat!(
    "UPDATE users SET bandwidth = ?1, user_mail = COALESCE(?2, user_mail) WHERE region = ?3 AND instance_id = ?4 \
     AND user_name = ?5 RETURNING ",
    columns!()
);

/// A change to a user (see [`super::Store::modify_user`]).
pub(super) struct Modify {
    pub(super) region: String,
    pub(super) instance_id: String,
    pub(super) user_name: String,
    pub(super) bandwidth: i64,
    pub(super) user_mail: Option<String>,
}

/// One caller's write.
pub(super) enum Job {
    /// Users to create, in order (one for [`super::Store::create_user`]).
    Create { users: Vec<NewUser>, reply: SyncSender<Vec<Result<UserRecord, CreateUserError>>> },
    /// A user to change.
    Modify { change: Modify, reply: SyncSender<Result<UserRecord, ModifyUserError>> },
}

impl Job {
    fn size(&self) -> usize {
        match self {
            Job::Create { users, .. } => users.len().max(1),
            Job::Modify { .. } => 1,
        }
    }
}

/// A job's answer, sent once its batch is committed.
enum Outcome {
    Create(SyncSender<Vec<Result<UserRecord, CreateUserError>>>, Vec<Result<UserRecord, CreateUserError>>),
    Modify(SyncSender<Result<UserRecord, ModifyUserError>>, Result<UserRecord, ModifyUserError>),
}

impl Outcome {
    fn send(self) {
        // A caller that went away does not need its answer.
        match self {
            Outcome::Create(reply, results) => {
                let _ = reply.send(results);
            }
            Outcome::Modify(reply, result) => {
                let _ = reply.send(result);
            }
        }
    }

    /// Every write of the job failed with `error` (the batch's transaction failed).
    fn fail(self, context: &'static str, error: &Arc<rusqlite::Error>) {
        let failed = || StoreError::Batch { context, source: Arc::clone(error) };
        match self {
            Outcome::Create(reply, results) => {
                let _ = reply.send(results.iter().map(|_| Err(failed().into())).collect());
            }
            Outcome::Modify(reply, _) => {
                let _ = reply.send(Err(failed().into()));
            }
        }
    }
}

/// The writer's counters (see [`super::WriterStats`]).
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) submitted: AtomicU64,
    committed: AtomicU64,
    transactions: AtomicU64,
}

impl Counters {
    pub(super) fn snapshot(&self) -> super::WriterStats {
        super::WriterStats {
            submitted: self.submitted.load(Ordering::Relaxed),
            committed: self.committed.load(Ordering::Relaxed),
            transactions: self.transactions.load(Ordering::Relaxed),
        }
    }
}

/// The writer thread's loop: until every sender is gone, take the waiting jobs and commit them as
/// one transaction.
pub(super) fn run(mut connection: Connection, jobs: Receiver<Job>, counters: &Counters) {
    while let Ok(first) = jobs.recv() {
        let mut size = first.size();
        let mut batch = vec![first];
        while size < MAX_BATCH {
            let Ok(job) = jobs.try_recv() else { break };
            size += job.size();
            batch.push(job);
        }
        commit(&mut connection, batch, counters);
    }
}

/// Runs `batch` in one transaction and answers its callers after the commit.
fn commit(connection: &mut Connection, batch: Vec<Job>, counters: &Counters) {
    let tx = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => {
            let error = Arc::new(error);
            for job in batch {
                outcome_of_failed(job).fail("starting a write transaction", &error);
            }
            return;
        }
    };
    let outcomes: Vec<Outcome> = batch
        .into_iter()
        .map(|job| match job {
            Job::Create { users, reply } => {
                let results = users.into_iter().map(|user| in_savepoint(&tx, |c| create(c, user))).collect();
                Outcome::Create(reply, results)
            }
            // One statement: atomic by itself.
            Job::Modify { change, reply } => Outcome::Modify(reply, modify(&tx, &change)),
        })
        .collect();
    match tx.commit() {
        Ok(()) => {
            counters.transactions.fetch_add(1, Ordering::Relaxed);
            counters.committed.fetch_add(outcomes.len() as u64, Ordering::Relaxed);
            outcomes.into_iter().for_each(Outcome::send);
        }
        Err(error) => {
            let error = Arc::new(error);
            for outcome in outcomes {
                outcome.fail("committing a batch of writes", &error);
            }
        }
    }
}

fn outcome_of_failed(job: Job) -> Outcome {
    match job {
        Job::Create { users, reply } => {
            Outcome::Create(reply, users.into_iter().map(|_| Err(StoreError::WriterGone.into())).collect())
        }
        Job::Modify { reply, .. } => Outcome::Modify(reply, Err(StoreError::WriterGone.into())),
    }
}

/// Runs `f` in a savepoint: kept when it succeeds, rolled back when it fails. The savepoint
/// statements are prepared once (cached), not parsed per write.
fn in_savepoint<T, E: From<StoreError>>(
    connection: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    let run = |statement: &str, context: &'static str| -> Result<(), StoreError> {
        connection.prepare_cached(statement).and_then(|mut s| s.execute([])).map(drop).map_err(sql(context))
    };
    run("SAVEPOINT write", "starting a savepoint")?;
    match f(connection) {
        Ok(value) => {
            run("RELEASE write", "releasing a savepoint")?;
            Ok(value)
        }
        Err(error) => {
            // If this fails the transaction is unusable and its commit fails for the whole batch.
            run("ROLLBACK TO write", "rolling back a savepoint")?;
            run("RELEASE write", "releasing a savepoint")?;
            Err(error)
        }
    }
}

fn exists(connection: &Connection, query: &'static str, params: impl rusqlite::Params) -> Result<bool, StoreError> {
    let mut statement = connection.prepare_cached(query).map_err(sql("preparing a lookup"))?;
    statement.exists(params).map_err(sql("looking up"))
}

/// Creates `user` (the checks of [`super::Store::create_user`], in its order).
fn create(connection: &Connection, user: NewUser) -> Result<UserRecord, CreateUserError> {
    let NewUser { region, instance, user_name, user_mail, bandwidth, password_hash, static_ip } = user;
    let Some(cidr) = instance.cidr else {
        return Err(CreateUserError::CidrEmpty { instance_id: instance.id });
    };
    if exists(connection, NAME_EXISTS, params![region, instance.id, user_name])? {
        return Err(CreateUserError::UserExist { instance_id: instance.id, user_name });
    }
    let (count, cursor) = {
        let mut statement = connection.prepare_cached(INSTANCE).map_err(sql("reading the instance"))?;
        let row: Option<(i64, Option<String>, Option<i64>)> = statement
            .query_row(params![region, instance.id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()
            .map_err(sql("reading the instance"))?;
        match row {
            Some((count, Some(alloc_cidr), Some(floor))) if alloc_cidr == cidr.to_string() => (count, Some(floor)),
            Some((count, _, _)) => (count, None),
            None => (0, None),
        }
    };
    if let Err(reason) = instance.quota(count) {
        return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
    }
    let client_ip = match static_ip {
        Some(ip) => {
            addressing::check_static_ip(cidr, ip).map_err(CreateUserError::IpInvalid)?;
            if exists(connection, IP_USED, params![region, instance.id, i64::from(u32::from(ip))])? {
                return Err(CreateUserError::IpInvalid(IpRejection::InUse { ip }));
            }
            ip
        }
        None => match lowest_free(connection, &region, &instance.id, cidr, cursor)? {
            Some(ip) => ip,
            None => {
                let reason = OverLimit::AddressesExhausted { cidr };
                return Err(CreateUserError::UserOverLimit { instance_id: instance.id, reason });
            }
        },
    };
    let ip_num = i64::from(u32::from(client_ip));
    let mut insert = connection.prepare_cached(INSERT).map_err(sql("preparing the insert"))?;
    let inserted = insert.execute(params![
        region,
        instance.id,
        user_name,
        user_mail,
        bandwidth,
        password_hash,
        client_ip.to_string(),
        ip_num,
        static_ip.is_some()
    ]);
    drop(insert);
    if let Err(error) = inserted {
        // Unreachable while every writer takes the write lock first; the constraints still have the
        // last word.
        return Err(match unique_violation(&error) {
            Some(UniqueColumn::UserName) => CreateUserError::UserExist { instance_id: instance.id, user_name },
            Some(UniqueColumn::ClientIp) => CreateUserError::IpInvalid(IpRejection::InUse { ip: client_ip }),
            None => StoreError::Sqlite { context: "inserting the user", source: error }.into(),
        });
    }
    if static_ip.is_none() {
        // Every client address of the block up to the one just allocated is in use.
        let mut statement = connection.prepare_cached(SET_FLOOR).map_err(sql("preparing the cursor update"))?;
        statement
            .execute(params![region, instance.id, cidr.to_string(), ip_num + 1])
            .map_err(sql("moving the allocation cursor"))?;
    }
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

/// The lowest client address of `cidr` no user of the instance has, searched from the cursor
/// `floor` (every client address below it is in use) when it belongs to this block.
fn lowest_free(
    connection: &Connection,
    region: &str,
    instance_id: &str,
    cidr: Ipv4Net,
    floor: Option<i64>,
) -> Result<Option<Ipv4Addr>, StoreError> {
    let Some((start, last)) = addressing::search_range(cidr, floor) else { return Ok(None) };
    let found = if !exists(connection, IP_USED, params![region, instance_id, start])? {
        Some(start)
    } else {
        let mut statement = connection.prepare_cached(NEXT_GAP).map_err(sql("preparing the address search"))?;
        statement
            .query_row(params![region, instance_id, start, last], |row| row.get::<_, i64>(0))
            .optional()
            .map_err(sql("searching for a free address"))?
    };
    if found.is_none() {
        // The whole block is in use: later searches can stop at once.
        let mut statement = connection.prepare_cached(SET_FLOOR).map_err(sql("preparing the cursor update"))?;
        statement
            .execute(params![region, instance_id, cidr.to_string(), last + 1])
            .map_err(sql("moving the allocation cursor"))?;
    }
    Ok(found.and_then(|ip| u32::try_from(ip).ok()).map(Ipv4Addr::from))
}

/// Applies `change`; the user as it now is.
fn modify(connection: &Connection, change: &Modify) -> Result<UserRecord, ModifyUserError> {
    let mut statement = connection.prepare_cached(MODIFY).map_err(sql("preparing the user update"))?;
    let updated = statement
        .query_row(
            params![change.bandwidth, change.user_mail, change.region, change.instance_id, change.user_name],
            user_from_row,
        )
        .optional()
        .map_err(sql("updating the user"))?;
    updated.ok_or_else(|| ModifyUserError::NotFound {
        region: change.region.clone(),
        instance_id: change.instance_id.clone(),
        user_name: change.user_name.clone(),
    })
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
            } else if message.contains("users.ip_num") {
                Some(UniqueColumn::ClientIp)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Opens the write connection to `path` (already migrated).
pub(super) fn connect(path: &Path) -> Result<Connection, StoreError> {
    super::schema::connect(path)
}
