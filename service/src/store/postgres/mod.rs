//! The PostgreSQL store: one database shared by any number of service replicas.
//!
//! - Connections come from a [`deadpool_postgres`] pool on [`tokio_postgres`]. Waiting for a
//!   pooled connection, opening one, and every store call as a whole are bounded
//!   ([`PgOptions`]; all below the API's request timeout), so while PostgreSQL is down or
//!   restarting a call fails within seconds with [`StoreError::Unavailable`] (answered
//!   `ServiceUnavailable`, 503) instead of hanging; broken connections are dropped from the pool
//!   and new ones opened once the database is back, so the service recovers by itself.
//! - The invariants live in the database, never in process memory: `UNIQUE(region, instance_id,
//!   user_name)`, `UNIQUE(region, instance_id, ip_num)`, and a per-instance row (user count,
//!   allocation cursor, next sequence number) that every Create locks (`INSERT … ON CONFLICT DO
//!   UPDATE`, a row lock like `FOR UPDATE`) in its transaction, so creates of one instance are
//!   serialised across processes: `max_users` is never exceeded and no address is handed out
//!   twice ([`write`]).
//! - Creates are committed in groups ([`group`]): the Creates of a process waiting at the same
//!   time share one transaction and one WAL flush, each answered after that commit, so Creates
//!   into one instance are not limited to one `fsync` each.
//! - Reads are index lookups as on SQLite (keyset paging on the per-instance sequence number;
//!   [`read`]); total and page come from one snapshot.
//! - The schema is versioned in `schema_migrations` and migrated at [`PgStore::connect`] in one
//!   transaction holding an advisory lock, so replicas starting together are safe; a database of a
//!   newer build is refused ([`schema`]).
//! - `nonces` is the replay cache shared by the replicas ([`PgStore::remember_nonce`]).
//! - TLS to the database uses rustls (ring provider, the platform's trust store) when the URL
//!   asks for it (`sslmode=require`); `sslmode=prefer` (the default) uses it when the server
//!   offers it; `sslmode=disable` never. The password of the URL never appears in logs, `Debug` output or errors.

mod group;
mod nonce;
mod read;
mod schema;
mod tls;
mod transfer;
mod write;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;

pub use schema::SCHEMA_VERSION;

use super::port::{UserChange, UserQuery, UserStore};

/// Run on every new connection. Every statement the store sends is prepared once per connection
/// and looks rows up by index whatever its parameters, so its generic plan is the plan; left to
/// `auto`, PostgreSQL kept planning Describe's page statement afresh on every call (its generic
/// plan's estimate, for an unknown `LIMIT`, never beat the custom plans'), and at 100k users in
/// an instance that planning (probing the sequence index's ends for `seq > $3`) took longer than
/// running it: half the throughput of 1k users (`bench/notes/stores.md`).
const SESSION_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan";
use super::{CreateUserError, InstanceUser, ModifyUserError, NewUser, StoreError, UserRecord};

/// A pooled connection.
type Client = deadpool_postgres::Object;

/// How the PostgreSQL store bounds its waits and sizes its pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The most connections this process opens.
    pub max_connections: usize,
    /// How long a call waits for a free pooled connection.
    pub wait_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
    /// How long one store call may take in all (connection, statements, commit).
    pub call_timeout: Duration,
}

impl Default for PgOptions {
    /// 16 connections; 5 s to get a pooled connection, 3 s to open one, 10 s per call: well
    /// below the API's default request timeout (30 s).
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            wait_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            call_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL user store. Cheap to clone (clones share the pool).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    url: String,
    call_timeout: Duration,
    nonce_calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Group commit of Creates ([`group`]).
    creates: std::sync::Arc<group::Group>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore").field("url", &self.url).finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database of `url` (`postgres://user:password@host:port/database`, libpq's
    /// URL or key-value format) with [`PgOptions::default`] and migrates its schema.
    ///
    /// # Errors
    /// A bad URL, an unreachable database ([`StoreError::Unavailable`]), a failed migration or a
    /// schema from a newer build ([`StoreError::PgSchemaVersion`]).
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        PgStore::connect_with(url, PgOptions::default()).await
    }

    /// [`PgStore::connect`] with the pool's sizes and timeouts of `options`.
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_with(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        let redacted = redact_url(url);
        let mut config: tokio_postgres::Config = url.parse().map_err(|e: tokio_postgres::Error| {
            StoreError::DatabaseUrl { url: redacted.clone(), problem: e.to_string() }
        })?;
        config.connect_timeout(options.connect_timeout);
        config.keepalives_idle(Duration::from_secs(30));
        if config.get_application_name().is_none() {
            config.application_name("smartag-service");
        }
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = if config.get_ssl_mode() == tokio_postgres::config::SslMode::Disable {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        } else {
            let tls = tls::connector().map_err(|e| StoreError::DatabaseUrl {
                url: redacted.clone(),
                problem: format!("TLS set-up (the system's trust store; add sslmode=disable to go without TLS): {e}"),
            })?;
            Manager::from_config(config, tls, manager_config)
        };
        let pool = Pool::builder(manager)
            .post_create(Hook::async_fn(|client, _| {
                Box::pin(async move { client.batch_execute(SESSION_SETTINGS).await.map_err(HookError::Backend) })
            }))
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.wait_timeout))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| StoreError::DatabaseUrl { url: redacted.clone(), problem: e.to_string() })?;
        let creates = group::Group::new(group::Target { pool: pool.clone(), call_timeout: options.call_timeout });
        let store = PgStore {
            pool,
            url: redacted,
            call_timeout: options.call_timeout,
            nonce_calls: std::sync::Arc::default(),
            creates: std::sync::Arc::new(creates),
        };
        store.call("migrating the schema", |mut client| async move { schema::migrate(&mut client).await }).await?;
        Ok(store)
    }

    /// The database URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> &str {
        &self.url
    }

    /// Runs `f` on a pooled connection, the whole bounded by the call timeout.
    async fn call<T, E, F, Fut>(&self, context: &'static str, f: F) -> Result<T, E>
    where
        E: From<StoreError>,
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        call(&self.pool, self.call_timeout, context, f).await
    }

    /// What the writer of Creates has done so far: with group commit, fewer transactions than
    /// committed Creates under concurrency.
    pub fn writer_stats(&self) -> super::WriterStats {
        self.creates.stats()
    }
}

/// Runs `f` on a connection of `pool`, the whole bounded by `call_timeout`.
async fn call<T, E, F, Fut>(pool: &Pool, call_timeout: Duration, context: &'static str, f: F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let work = async {
        let client = pool.get().await.map_err(|e| pool_error(context, e))?;
        f(client).await
    };
    match tokio::time::timeout(call_timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable {
            context,
            detail: format!("no answer from the database within {call_timeout:?}"),
        }
        .into()),
    }
}

/// A pool error as a store error: every one of them means no connection now.
fn pool_error(context: &'static str, error: PoolError) -> StoreError {
    let detail = match error {
        PoolError::Timeout(kind) => format!("no database connection within the timeout ({kind:?})"),
        PoolError::Backend(e) => return pg_error(context, e),
        PoolError::Closed => "the connection pool is closed".to_owned(),
        other => other.to_string(),
    };
    StoreError::Unavailable { context, detail }
}

/// A statement's error as a store error: connection failures and a server shutting down or
/// starting up are [`StoreError::Unavailable`], everything else [`StoreError::Postgres`].
pub(crate) fn pg_error(context: &'static str, error: tokio_postgres::Error) -> StoreError {
    let unavailable = error.is_closed()
        || match error.code() {
            None => error.as_db_error().is_none(),
            Some(code) => {
                code.code().starts_with("08")
                    || *code == SqlState::ADMIN_SHUTDOWN
                    || *code == SqlState::CRASH_SHUTDOWN
                    || *code == SqlState::CANNOT_CONNECT_NOW
                    || *code == SqlState::TOO_MANY_CONNECTIONS
            }
        };
    if unavailable {
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        StoreError::Unavailable { context, detail }
    } else {
        StoreError::Postgres { context, source: error }
    }
}

/// `pg(context)`: maps a statement's error (for `map_err`).
pub(crate) fn pg(context: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |error| pg_error(context, error)
}

/// A database URL that never shows its password: `Debug` and `Display` print it redacted
/// ([`redact_url`]); [`DatabaseUrl::expose`] gives the real one to the driver.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps `url`.
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }

    /// The URL itself, password included: only for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `url` with the password replaced by `***`: in the user info of a URL
/// (`postgres://user:secret@host` becomes `postgres://user:***@host`) and as a `password=` parameter
/// (URL query or key-value form).
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..].find(['/', '?']).map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    // `password=…` up to the next separator (`&` in a query, whitespace in key-value form).
    let mut search = 0;
    while let Some(found) = out[search..].to_ascii_lowercase().find("password=") {
        let value_start = search + found + "password=".len();
        let value_end = if out[value_start..].starts_with('\'') {
            out[value_start + 1..].find('\'').map_or(out.len(), |i| value_start + i + 2)
        } else {
            out[value_start..].find(['&', ' ', '\t', '\n']).map_or(out.len(), |i| value_start + i)
        };
        out.replace_range(value_start..value_end, "***");
        search = value_start + 3;
    }
    out
}

impl UserStore for PgStore {
    async fn create_user(&self, user: NewUser) -> Result<UserRecord, CreateUserError> {
        self.creates.create(user).await
    }

    async fn create_users(&self, users: Vec<NewUser>) -> Result<Vec<Result<UserRecord, CreateUserError>>, StoreError> {
        self.call("creating users", |mut client| async move { write::create_many(&mut client, users).await }).await
    }

    async fn modify_user(&self, change: UserChange) -> Result<UserRecord, ModifyUserError> {
        self.call("modifying a user", |mut client| async move { write::modify(&mut client, &change).await }).await
    }

    async fn list_users(&self, query: UserQuery) -> Result<(i64, Vec<UserRecord>), StoreError> {
        if query.page_number < 1 || query.page_size < 1 {
            return Err(StoreError::InvalidPage { page_number: query.page_number, page_size: query.page_size });
        }
        self.call("listing users", |mut client| async move { read::list(&mut client, &query).await }).await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.call("checking whether there are users", |mut client| async move { read::is_empty(&mut client).await })
            .await
    }

    async fn probe_write(&self) -> Result<(), StoreError> {
        self.call("probing that the database can be written", |mut client| async move {
            schema::probe_write(&mut client).await
        })
        .await
    }

    async fn delete_all_users(&self) -> Result<u64, StoreError> {
        self.call("deleting every user", |mut client| async move { write::delete_all(&mut client).await }).await
    }

    async fn all_users(&self) -> Result<Vec<InstanceUser>, StoreError> {
        self.call("listing every user", |mut client| async move { read::all_users(&mut client).await }).await
    }

    async fn user_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        self.call(
            "counting the users of each instance",
            |mut client| async move { read::user_counts(&mut client).await },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::{PgStore, StoreError, pg, redact_url};

    /// Every pooled connection plans the store's prepared statements generically (see
    /// [`super::SESSION_SETTINGS`]), including connections made after the first.
    #[tokio::test]
    async fn every_connection_plans_generically() {
        let url = tokio::task::spawn_blocking(|| postgres_harness::fresh_database("plan_cache_mode"))
            .await
            .expect("harness task")
            .expect("a fresh PostgreSQL database (install the postgresql package)");
        let store = PgStore::connect(&url).await.expect("the store connects");
        let show = |client: super::Client| async move {
            let row = client.query_one("SHOW plan_cache_mode", &[]).await.map_err(pg("reading the setting"))?;
            Ok::<String, StoreError>(row.get(0))
        };
        // Two connections at once: the second is a new one.
        let (first, second) =
            tokio::join!(store.call("first", |c| async move { show(c).await }), store.call("second", show));
        assert_eq!(first.expect("first connection"), "force_generic_plan");
        assert_eq!(second.expect("second connection"), "force_generic_plan");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db?user=u&password=s3cret&x=1"), "postgres://h/db?user=u&password=***&x=1");
        assert_eq!(redact_url("host=h password=s3cret user=u"), "host=h password=*** user=u");
        assert_eq!(redact_url("host=h password='a b' user=u"), "host=h password=*** user=u");
        assert_eq!(redact_url("postgresql://u:p%40ss@h/db"), "postgresql://u:***@h/db");
    }
}
