//! Service scaling (issue 12, item 4): the real `smartag-service` router over SQLite with an
//! instance pre-filled to 1k, 10k and 100k users, measured over loopback HTTP, plus in-process
//! baselines (argon2id hashing alone, store creates with the hash ready, raw SQLite inserts with
//! the same `synchronous` setting).
//!
//! The fixtures are filled through [`Store::create_users`] (the store's own checks, one
//! transaction per chunk), not over HTTP.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use alibaba_rpc_runtime::signature::v3::headers as h;
use anyhow::{Context, Result, bail};
use hyper::StatusCode;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use smartag_service::store::postgres::PgStore;
use smartag_service::store::{AnyStore, InstanceLimits, NewUser, Store, UserStore};

use crate::driver::{Caller, Connection, Step};

/// The instance sizes measured.
pub const SIZES: [usize; 3] = [1_000, 10_000, 100_000];
/// Concurrent callers of every service window.
pub const CALLERS: usize = 8;
/// The region of the measured instance.
pub const REGION: &str = "cn-shanghai";
/// The measured instance (one per database file).
pub const INSTANCE: &str = "sag-scale";
/// Its client block: room for a million users.
pub const CIDR: &str = "10.0.0.0/12";
/// Its quota.
pub const MAX_USERS: u32 = 1_000_000;
/// Users per page in the Describe rows.
pub const PAGE_SIZE: usize = 10;
/// A syntactically valid argon2id PHC string for users created without hashing.
pub const HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2cuG0vJ4Ck/qOVMQ5oJeTTyWRXAPzJ3FXq0pTIAbFhI";
const VERSION: &str = "2018-03-13";

/// The configuration file of the service children: the measured instance, no access key needed
/// (authentication is off) but one is required by the format.
pub fn config_toml() -> String {
    format!(
        "[[access_keys]]\nid = \"benchid\"\nsecret = \"benchsecret\"\n\n[[instances]]\nregion = \"{REGION}\"\nid = \
         \"{INSTANCE}\"\ncidr = \"{CIDR}\"\nmax_users = {MAX_USERS}\n"
    )
}

/// The name of fixture user `i`.
pub fn user_name(i: usize) -> String {
    format!("user-{i:07}")
}

/// The e-mail address of fixture user `i`.
pub fn user_mail(i: usize) -> String {
    format!("user-{i:07}@example.com")
}

fn limits() -> Result<InstanceLimits> {
    Ok(InstanceLimits { id: INSTANCE.to_owned(), cidr: Some(CIDR.parse().context("CIDR")?), max_users: MAX_USERS })
}

/// A user of the measured instance with the ready-made [`HASH`].
///
/// # Errors
/// Never in practice (the CIDR constant parses).
pub fn new_user(name: String, mail: String) -> Result<NewUser> {
    Ok(NewUser {
        region: REGION.to_owned(),
        instance: limits()?,
        user_name: name,
        user_mail: mail,
        bandwidth: 20,
        password_hash: HASH.to_owned(),
        static_ip: None,
    })
}

/// Creates the database `path` with `users` fixture users in the measured instance.
///
/// # Errors
/// When the store fails or refuses a user.
pub fn fill(path: &Path, users: usize) -> Result<()> {
    let store = Store::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut next = 0;
    while next < users {
        let end = (next + 20_000).min(users);
        let batch = (next..end).map(|i| new_user(user_name(i), user_mail(i))).collect::<Result<Vec<_>>>()?;
        for result in store.create_users(batch).context("filling")? {
            result.context("creating a fixture user")?;
        }
        next = end;
    }
    Ok(())
}

/// Rows the store would write for fixture users 1.. of the measured instance, in one statement:
/// the name, mail and hash of [`new_user`], sequence numbers and addresses in allocation order after
/// user 0 (created through the store).
const FIXTURE_ROWS: &str = "WITH first AS (SELECT client_ip, ip_num FROM users WHERE region = $1 AND instance_id = $2 \
     AND seq = 1) INSERT INTO users (region, instance_id, seq, user_name, user_mail, bandwidth, password_hash, \
     client_ip, ip_num, is_static_ip) SELECT $1, $2, g + 1, 'user-' || lpad(g::text, 7, '0'), 'user-' || \
     lpad(g::text, 7, '0') || '@example.com', 20, $3, host(first.client_ip::inet + g), first.ip_num + g, false \
     FROM first, generate_series(1, $4::bigint - 1) AS g";
/// The instance's sequence and allocation cursor after [`FIXTURE_ROWS`] (the store's statement
/// trigger has counted the rows).
const FIXTURE_CURSOR: &str = "UPDATE instances SET next_seq = $3::bigint + 1, alloc_floor = \
     (SELECT max(ip_num) FROM users WHERE region = $1 AND instance_id = $2) WHERE region = $1 AND instance_id = $2";

/// Creates `users` fixture users in the measured instance of the PostgreSQL database `url`: user 0
/// through the store (which migrates the schema, creates the instance's row and allocates the first
/// address), the others as the same rows in one SQL statement — the store's own bulk path commits a
/// savepoint and several statements per user, minutes for 100k.
///
/// # Errors
/// When the database cannot be reached or refuses a row.
pub async fn fill_postgres(url: &str, users: usize) -> Result<()> {
    let store = PgStore::connect(url).await.context("connecting to the PostgreSQL fixture")?;
    UserStore::create_user(&store, new_user(user_name(0), user_mail(0))?).await.context("creating fixture user 0")?;
    let (client, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.context("connecting for the bulk fill")?;
    let connection = tokio::spawn(connection);
    let count = i64::try_from(users).context("fixture size")?;
    client.execute(FIXTURE_ROWS, &[&REGION, &INSTANCE, &HASH, &count]).await.context("inserting fixture users")?;
    client.execute(FIXTURE_CURSOR, &[&REGION, &INSTANCE, &count]).await.context("moving the allocation cursor")?;
    // As `import` does: plan the measured queries on what the table now holds.
    client.batch_execute("ANALYZE users").await.context("refreshing the statistics")?;
    drop(client);
    let _ = connection.await;
    let (total, _) = UserStore::list_users(
        &store,
        smartag_service::store::UserQuery {
            region: REGION.to_owned(),
            instance_id: INSTANCE.to_owned(),
            user_name: None,
            user_mail: None,
            page_number: 1,
            page_size: 1,
        },
    )
    .await
    .context("counting the fixture")?;
    anyhow::ensure!(total == count, "the fixture has {total} users, not {count}");
    Ok(())
}

/// Serves the real service router (authentication off) with `config` on `listener`, over the
/// PostgreSQL database `database_url` when given, else over the SQLite file `data` (whose folder
/// holds the outbox either way).
///
/// # Errors
/// When the configuration, the database or the outbox cannot be opened, or serving fails.
pub async fn serve(
    data: &Path,
    database_url: Option<&str>,
    config: &Path,
    listener: tokio::net::TcpListener,
) -> Result<()> {
    let config = smartag_service::config::Config::load(config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store: AnyStore = match database_url {
        Some(url) => PgStore::connect(url).await.context("connecting to PostgreSQL")?.into(),
        None => Store::open(data).context("opening the database")?.into(),
    };
    let outbox = smartag_service::outbox::Outbox::new(smartag_service::app::outbox_dir(data)).context("outbox")?;
    let server = smartag_server::ServerConfig::builder(&smartag_server::SERVICE)
        .host_id(smartag_server::HOST_ID)
        .authentication(smartag_server::Authentication::disabled())
        .build();
    let service = smartag_service::api::SmartagService::new(Arc::new(config), store, outbox);
    let app = smartag_server::router(service, server);
    // As the service serves (TCP_NODELAY included).
    let listener = alibaba_rpc_runtime::server::listener::guard(listener);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.context("serving")
}

/// A measured operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Describe, page 1.
    FirstPage,
    /// Describe, the last page of the fixture.
    LastPage,
    /// Describe filtered by UserName (a different existing user each call).
    ByName,
    /// Describe filtered by UserMail (a different existing address each call).
    ByMail,
    /// Modify the bandwidth of an existing user.
    Modify,
    /// Create without UserName and Password (the username is the mail; the service generates a
    /// password and hashes it).
    Create,
    /// Create with a Password.
    CreateWithPassword,
}

impl Op {
    /// Every operation, in the order measured (the creates last: they grow the instance).
    pub const ALL: [Op; 7] =
        [Op::FirstPage, Op::LastPage, Op::ByName, Op::ByMail, Op::Modify, Op::Create, Op::CreateWithPassword];

    /// The row label.
    pub fn label(self) -> &'static str {
        match self {
            Op::FirstPage => "Describe page 1",
            Op::LastPage => "Describe last page",
            Op::ByName => "Describe UserName filter",
            Op::ByMail => "Describe UserMail filter",
            Op::Modify => "Modify",
            Op::Create => "Create (no UserName/Password)",
            Op::CreateWithPassword => "Create (with Password)",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Op::FirstPage | Op::LastPage | Op::ByName | Op::ByMail => "DescribeSmartAccessGatewayClientUsers",
            Op::Modify => "ModifySmartAccessGatewayClientUser",
            Op::Create | Op::CreateWithPassword => "CreateSmartAccessGatewayClientUser",
        }
    }

    /// The path and query of call `k` against an instance of `size` fixture users.
    fn path_and_query(self, size: usize, k: u64) -> String {
        let pick = (k.wrapping_mul(7919) % size.max(1) as u64) as usize;
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("RegionId", REGION).append_pair("SmartAGId", INSTANCE);
        match self {
            Op::FirstPage => {
                q.append_pair("PageNumber", "1").append_pair("PageSize", &PAGE_SIZE.to_string());
            }
            Op::LastPage => {
                let last = size.div_ceil(PAGE_SIZE).max(1);
                q.append_pair("PageNumber", &last.to_string()).append_pair("PageSize", &PAGE_SIZE.to_string());
            }
            Op::ByName => {
                q.append_pair("UserName", &user_name(pick));
            }
            Op::ByMail => {
                q.append_pair("UserMail", &user_mail(pick));
            }
            Op::Modify => {
                q.append_pair("UserName", &user_name(pick)).append_pair("Bandwidth", &(1 + k % 2000).to_string());
            }
            Op::Create | Op::CreateWithPassword => {
                // UserName and Password come together; without them the username is the mail.
                let n = NEW_USERS.fetch_add(1, Ordering::Relaxed);
                q.append_pair("Bandwidth", "20");
                if self == Op::CreateWithPassword {
                    q.append_pair("UserMail", "new-user@example.com")
                        .append_pair("UserName", &format!("new-{n:09}"))
                        .append_pair("Password", "Bench-pass-1");
                } else {
                    q.append_pair("UserMail", &format!("new-{n:09}@example.com"));
                }
            }
        }
        format!("/?{}", q.finish())
    }
}

/// Numbers the users created over HTTP (unique over the run).
static NEW_USERS: AtomicU64 = AtomicU64::new(0);

/// A caller on its own keep-alive connection sending `op`.
pub struct OpCaller {
    connection: Connection,
    headers: HeaderMap,
    op: Op,
    size: usize,
    calls: u64,
}

impl OpCaller {
    /// Connects to `addr` (TCP_NODELAY); caller `index` of a window sending `op` to an instance of
    /// `size` fixture users.
    ///
    /// # Errors
    /// When the connection or the HTTP handshake fails.
    pub async fn connect(addr: SocketAddr, op: Op, size: usize, index: usize) -> Result<OpCaller> {
        let connection = Connection::open(addr).await?;
        let mut headers = HeaderMap::with_capacity(3);
        for (name, value) in
            [(h::HOST, addr.to_string()), (h::ACTION, op.action().into()), (h::VERSION, VERSION.into())]
        {
            let value = HeaderValue::from_str(&value).with_context(|| format!("header {name}"))?;
            headers.insert(HeaderName::from_static(name), value);
        }
        Ok(OpCaller { connection, headers, op, size, calls: index as u64 * 1_000_003 })
    }
}

impl Caller for OpCaller {
    async fn call(&mut self) -> Result<Step> {
        self.calls += 1;
        let uri = self.op.path_and_query(self.size, self.calls).parse().context("request URI")?;
        let (status, body) = self.connection.post(uri, self.headers.clone()).await?;
        if status != StatusCode::OK {
            bail!("{}: HTTP {status}: {}", self.op.label(), String::from_utf8_lossy(&body[..body.len().min(400)]));
        }
        Ok(Step::Done)
    }
}

/// Runs `work` on `threads` threads until `duration` is over; completed operations per second.
///
/// # Errors
/// The first failed operation.
pub fn threads_rate<F>(threads: usize, duration: Duration, work: F) -> Result<f64>
where
    F: Fn(usize, u64) -> Result<u64> + Send + Sync + 'static,
{
    let work = Arc::new(work);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (work, stop) = (Arc::clone(&work), Arc::clone(&stop));
            std::thread::spawn(move || -> Result<u64> {
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    done += work(t, done)?;
                }
                Ok(done)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for handle in handles {
        total += handle.join().map_err(|_| anyhow::anyhow!("a worker thread panicked"))??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// argon2id hashes per second on [`CALLERS`] threads (the service's own `hash_password`).
///
/// # Errors
/// When hashing fails.
pub fn hash_rate(duration: Duration) -> Result<f64> {
    threads_rate(CALLERS, duration, |_, _| {
        smartag_service::password::hash_password("Bench-pass-1").context("hashing")?;
        Ok(1)
    })
}

/// Store creates per second (hash ready, no HTTP) from `threads` threads into `store`; names
/// start with `prefix`. With one thread every create is committed alone (one `fsync` each).
///
/// # Errors
/// When a create fails.
pub fn store_create_rate(store: &Store, threads: usize, prefix: &str, duration: Duration) -> Result<f64> {
    let (store, prefix) = (store.clone(), prefix.to_owned());
    threads_rate(threads, duration, move |thread, done| {
        let name = format!("{prefix}-{thread}-{done:08}");
        store.create_user(new_user(name, "store@example.com".into())?).context("store create")?;
        Ok(1)
    })
}

/// PostgreSQL store Creates per second (hash ready, no HTTP) from `tasks` concurrent tasks into
/// `store`, and the Creates per committed transaction over the window (group commit: above 1 when
/// Creates waited together); names start with `prefix`.
///
/// # Errors
/// When a create fails or a task panics.
pub async fn pg_store_create_rate(
    store: &PgStore,
    tasks: usize,
    prefix: &str,
    duration: Duration,
) -> Result<(f64, f64)> {
    let before = store.writer_stats();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (store, stop, prefix) = (store.clone(), Arc::clone(&stop), prefix.to_owned());
            tokio::spawn(async move {
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let user = new_user(format!("{prefix}-{task}-{done:08}"), "store@example.com".into())?;
                    UserStore::create_user(&store, user).await.context("PostgreSQL store create")?;
                    done += 1;
                }
                Ok::<u64, anyhow::Error>(done)
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for handle in handles {
        total += handle.await.context("a create task panicked")??;
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let after = store.writer_stats();
    let transactions = after.transactions.saturating_sub(before.transactions).max(1);
    Ok((rate, after.committed.saturating_sub(before.committed) as f64 / transactions as f64))
}

/// A fresh raw SQLite database in WAL mode with `synchronous=FULL` (the store's settings) and a
/// table shaped like the users table.
///
/// # Errors
/// When SQLite fails.
pub fn raw_database(path: &Path) -> Result<rusqlite::Connection> {
    let connection = rusqlite::Connection::open(path).context("raw open")?;
    let _: String = connection.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).context("WAL")?;
    connection.pragma_update(None, "synchronous", "FULL").context("synchronous")?;
    connection
        .execute_batch(
            "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, mail TEXT NOT NULL, \
             hash TEXT NOT NULL)",
        )
        .context("raw table")?;
    Ok(connection)
}

/// Raw inserts per second into `connection` from one thread, `batch` rows per transaction (1: one
/// `fsync` per insert).
///
/// # Errors
/// When SQLite fails.
pub fn raw_insert_rate(connection: &mut rusqlite::Connection, batch: usize, duration: Duration) -> Result<f64> {
    static RAW_ROWS: AtomicU64 = AtomicU64::new(0);
    let started = Instant::now();
    let mut done = 0u64;
    while started.elapsed() < duration {
        let tx = connection.transaction().context("raw begin")?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO users (name, mail, hash) VALUES (?1, ?2, ?3)").context("raw prepare")?;
            for _ in 0..batch.max(1) {
                let n = RAW_ROWS.fetch_add(1, Ordering::Relaxed);
                insert
                    .execute(rusqlite::params![format!("raw-{n:09}"), "raw@example.com", HASH])
                    .context("raw insert")?;
            }
        }
        tx.commit().context("raw commit")?;
        done += batch.max(1) as u64;
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}

/// Where the fixture of `size` users lives in `dir`.
pub fn fixture_path(dir: &Path, size: usize) -> PathBuf {
    dir.join(format!("users-{size}")).join("users.db")
}
