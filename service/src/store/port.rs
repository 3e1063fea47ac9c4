//! The store port: what the operations, the admin endpoints, the seed and the in-process service
//! need from storage, as one trait with two implementations — [`Store`] (SQLite; its blocking calls
//! run on tokio's blocking pool here, so callers never block) and [`PgStore`] (PostgreSQL).
//!
//! The service holds an [`AnyStore`], an enum over the two: calls are dispatched statically (a
//! `match`, no boxed futures) on the hot path.

use std::future::Future;

use super::postgres::PgStore;
use super::transfer::ExportedUser;
use super::{CreateUserError, InstanceUser, ModifyUserError, NewUser, Store, StoreError, UserRecord, WriterStats};

/// A change of a user (Modify): bandwidth, and the e-mail address when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChange {
    /// The region (`RegionId`).
    pub region: String,
    /// The instance (`SmartAGId`).
    pub instance_id: String,
    /// The user to change.
    pub user_name: String,
    /// The new bandwidth in Kbit/s.
    pub bandwidth: i64,
    /// The new e-mail address, if it changes.
    pub user_mail: Option<String>,
}

/// A listing (Describe): the users of one instance, filtered by name and e-mail address (each only
/// when given), page `page_number` (from 1) of `page_size`, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    /// The region (`RegionId`).
    pub region: String,
    /// The instance (`SmartAGId`).
    pub instance_id: String,
    /// Only the user of this name.
    pub user_name: Option<String>,
    /// Only users with this e-mail address.
    pub user_mail: Option<String>,
    /// The page, from 1.
    pub page_number: i64,
    /// Users per page, at least 1.
    pub page_size: i64,
}

/// What the service needs from storage. Every method has the meaning documented on the SQLite
/// [`Store`]'s method of the same name; both implementations give the same answers and errors.
pub trait UserStore: Clone + Send + Sync + 'static {
    /// Creates a user (see [`Store::create_user`] for the checks and their order).
    fn create_user(&self, user: NewUser) -> impl Future<Output = Result<UserRecord, CreateUserError>> + Send;

    /// Creates `users` in order in one transaction, one answer each (see [`Store::create_users`]).
    fn create_users(
        &self,
        users: Vec<NewUser>,
    ) -> impl Future<Output = Result<Vec<Result<UserRecord, CreateUserError>>, StoreError>> + Send;

    /// Applies `change`; the user as it now is (see [`Store::modify_user`]).
    fn modify_user(&self, change: UserChange) -> impl Future<Output = Result<UserRecord, ModifyUserError>> + Send;

    /// The total of matching users and the page asked for, from one snapshot (see
    /// [`Store::list_users`]).
    fn list_users(&self, query: UserQuery) -> impl Future<Output = Result<(i64, Vec<UserRecord>), StoreError>> + Send;

    /// Whether there is no user at all.
    fn is_empty(&self) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Proves that the database can be written now (the admin health check).
    fn probe_write(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes every user and the instances' allocation state; how many users there were.
    fn delete_all_users(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Every user with its instance, by region, instance and creation order (no password hash).
    fn all_users(&self) -> impl Future<Output = Result<Vec<InstanceUser>, StoreError>> + Send;

    /// `(region, instance, users)` of every instance that has had users.
    fn user_counts(&self) -> impl Future<Output = Result<Vec<(String, String, i64)>, StoreError>> + Send;
}

/// Runs `f` on a clone of `store` on the blocking pool.
async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(Store) -> T + Send + 'static,
) -> Result<T, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(store)).await.map_err(|e| StoreError::Task(e.to_string()))
}

impl UserStore for Store {
    async fn create_user(&self, user: NewUser) -> Result<UserRecord, CreateUserError> {
        blocking(self, move |s| Store::create_user(&s, user)).await?
    }

    async fn create_users(&self, users: Vec<NewUser>) -> Result<Vec<Result<UserRecord, CreateUserError>>, StoreError> {
        blocking(self, move |s| Store::create_users(&s, users)).await?
    }

    async fn modify_user(&self, change: UserChange) -> Result<UserRecord, ModifyUserError> {
        blocking(self, move |s| {
            let UserChange { region, instance_id, user_name, bandwidth, user_mail } = change;
            Store::modify_user(&s, &region, &instance_id, &user_name, bandwidth, user_mail.as_deref())
        })
        .await?
    }

    async fn list_users(&self, query: UserQuery) -> Result<(i64, Vec<UserRecord>), StoreError> {
        blocking(self, move |s| {
            let UserQuery { region, instance_id, user_name, user_mail, page_number, page_size } = query;
            Store::list_users(
                &s,
                &region,
                &instance_id,
                user_name.as_deref(),
                user_mail.as_deref(),
                page_number,
                page_size,
            )
        })
        .await?
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        blocking(self, |s| Store::is_empty(&s)).await?
    }

    async fn probe_write(&self) -> Result<(), StoreError> {
        blocking(self, |s| Store::probe_write(&s)).await?
    }

    async fn delete_all_users(&self) -> Result<u64, StoreError> {
        blocking(self, |s| Store::delete_all_users(&s)).await?
    }

    async fn all_users(&self) -> Result<Vec<InstanceUser>, StoreError> {
        blocking(self, |s| Store::all_users(&s)).await?
    }

    async fn user_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        blocking(self, |s| Store::user_counts(&s)).await?
    }
}

/// The store the service runs on: SQLite (the embedded default) or PostgreSQL (`--database-url`).
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// One SQLite file, one process.
    Sqlite(Store),
    /// A PostgreSQL database, shared by any number of replicas.
    Postgres(PgStore),
}

impl AnyStore {
    /// The writer's counters: the SQLite writer thread's (every write), or the PostgreSQL
    /// store's writer of Creates (its group commit).
    pub fn writer_stats(&self) -> WriterStats {
        match self {
            AnyStore::Sqlite(store) => store.writer_stats(),
            AnyStore::Postgres(store) => store.writer_stats(),
        }
    }

    /// A short name of the kind of store, for logs and health answers: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

impl From<Store> for AnyStore {
    fn from(store: Store) -> Self {
        AnyStore::Sqlite(store)
    }
}

impl From<PgStore> for AnyStore {
    fn from(store: PgStore) -> Self {
        AnyStore::Postgres(store)
    }
}

/// Delegates a method to the variant's store.
macro_rules! delegate {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        match $self {
            AnyStore::Sqlite(store) => UserStore::$method(store, $($arg),*).await,
            AnyStore::Postgres(store) => UserStore::$method(store, $($arg),*).await,
        }
    };
}

impl AnyStore {
    /// Every user with every stored field, password hash included (`smartag-service export`).
    ///
    /// # Errors
    /// When the database fails or cannot be reached.
    pub async fn export_users(&self) -> Result<Vec<ExportedUser>, StoreError> {
        match self {
            AnyStore::Sqlite(store) => blocking(store, |s| s.export_users()).await?,
            AnyStore::Postgres(store) => store.export_users().await,
        }
    }

    /// Inserts exported users as they are, in one transaction (`smartag-service import`).
    ///
    /// # Errors
    /// A name or address twice per instance, or a database failure.
    pub async fn import_users(&self, users: Vec<ExportedUser>) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sqlite(store) => blocking(store, move |s| s.import_users(&users)).await?,
            AnyStore::Postgres(store) => store.import_users(users).await,
        }
    }
}

impl UserStore for AnyStore {
    async fn create_user(&self, user: NewUser) -> Result<UserRecord, CreateUserError> {
        delegate!(self, create_user(user))
    }

    async fn create_users(&self, users: Vec<NewUser>) -> Result<Vec<Result<UserRecord, CreateUserError>>, StoreError> {
        delegate!(self, create_users(users))
    }

    async fn modify_user(&self, change: UserChange) -> Result<UserRecord, ModifyUserError> {
        delegate!(self, modify_user(change))
    }

    async fn list_users(&self, query: UserQuery) -> Result<(i64, Vec<UserRecord>), StoreError> {
        delegate!(self, list_users(query))
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        delegate!(self, is_empty())
    }

    async fn probe_write(&self) -> Result<(), StoreError> {
        delegate!(self, probe_write())
    }

    async fn delete_all_users(&self) -> Result<u64, StoreError> {
        delegate!(self, delete_all_users())
    }

    async fn all_users(&self) -> Result<Vec<InstanceUser>, StoreError> {
        delegate!(self, all_users())
    }

    async fn user_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        delegate!(self, user_counts())
    }
}
