//! The whole service in-process, for an application's tests: on an ephemeral loopback port, with a
//! temporary database (removed when dropped), a fresh random access key, and the admin endpoints
//! on a second loopback port. It stops when dropped.
//!
//! ```no_run
//! use smartag_service::faults::{FaultError, FaultSpec};
//! use smartag_service::local::LocalService;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let service = LocalService::start().await?;
//! // Point the client under test at it:
//! let (endpoint, key_id, secret) = (service.endpoint(), service.access_key_id(), service.access_key_secret());
//! // Make the next Create fail with Throttling (x-acs-retry-after: 1000):
//! service.add_fault(FaultSpec::error("CreateSmartAccessGatewayClientUser", FaultError::Throttling).count(1))?;
//! // … exercise the application …
//! service.reset().await?; // every user gone, for the next test
//! # let _ = (endpoint, key_id, secret);
//! # Ok(()) }
//! ```
//!
//! [`LocalService::builder`] sets the instances (and any other configuration, as TOML) instead of
//! the demo's three.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use alibaba_rpc_runtime::secret::Secret;
use rand::distr::{Alphanumeric, SampleString as _};

use crate::app;
use crate::config::{Config, ConfigError};
use crate::faults::{ActiveRule, FaultSpec, Faults};
use crate::store::postgres::DatabaseUrl;
use crate::store::{AnyStore, StoreError, UserStore};

/// The instances of [`LocalService::start`]: those of the demo configuration.
pub const DEFAULT_INSTANCES: &str = crate::config::DEMO_INSTANCES_TOML;

/// Why a [`LocalService`] did not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The configuration given to the builder does not check.
    #[error("the local service's configuration is invalid:\n{0}")]
    Config(#[from] ConfigError),
    /// The temporary data folder or a loopback port could not be had.
    #[error("cannot set up the local service: {0}")]
    Io(#[from] std::io::Error),
    /// The service could not be built (database or outbox).
    #[error("cannot start the local service: {0}")]
    Start(String),
}

/// Sets up a [`LocalService`]: the instances and other configuration.
#[derive(Debug, Default, Clone)]
pub struct LocalServiceBuilder {
    toml: Option<String>,
    instances: Vec<String>,
    seed: Option<std::path::PathBuf>,
    database_url: Option<DatabaseUrl>,
}

impl LocalServiceBuilder {
    /// Keeps the users in the PostgreSQL database of `url` (migrated at start) instead of a
    /// temporary SQLite file; the outbox stays in the temporary folder. Several local services
    /// on one database behave as replicas of one service.
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(DatabaseUrl::new(url));
        self
    }

    /// Configuration in the service's TOML format (`[[instances]]`, `[limits]`, `[[faults]]`; see
    /// the README) used instead of [`DEFAULT_INSTANCES`]. Access keys may be given too; the
    /// service's own random key is always added.
    pub fn config_toml(mut self, toml: impl Into<String>) -> Self {
        self.toml = Some(toml.into());
        self
    }

    /// Adds instance `id` in `region` with client CIDR block `cidr` (e.g. `10.0.0.0/24`) and the
    /// default quota of 100 users; with any instance added, [`DEFAULT_INSTANCES`] are not.
    pub fn instance(mut self, region: &str, id: &str, cidr: &str) -> Self {
        self.instances.push(format!(
            "[[instances]]\nregion = {}\nid = {}\ncidr = {}\n",
            toml_string(region),
            toml_string(id),
            toml_string(cidr)
        ));
        self
    }

    /// A seed file (JSON or YAML, as `--seed` takes: instances and users, see
    /// [`crate::seed`]) applied at start: its instances are added, its users created.
    pub fn seed_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.seed = Some(path.into());
        self
    }

    /// Starts the service on `127.0.0.1` ports chosen by the system.
    ///
    /// # Errors
    /// An invalid configuration, or a database, folder or port that cannot be had.
    pub async fn start(self) -> Result<LocalService, LocalError> {
        let access_key_id = format!("LTAItest{}", Alphanumeric.sample_string(&mut rand::rng(), 16));
        let secret = Alphanumeric.sample_string(&mut rand::rng(), 30);
        let mut text = match (self.toml, self.instances.is_empty()) {
            (Some(toml), _) => toml,
            (None, true) => DEFAULT_INSTANCES.to_owned(),
            (None, false) => String::new(),
        };
        for instance in &self.instances {
            text.push('\n');
            text.push_str(instance);
        }
        text.push_str(&format!("\n[[access_keys]]\nid = \"{access_key_id}\"\nsecret = \"{secret}\"\n"));
        let config = Config::parse(&text, "<local service configuration>")?;

        let dir = tempfile::Builder::new().prefix("smartag-local-").tempdir()?;
        let data = dir.path().join("smartag.db");
        let seed = match &self.seed {
            Some(path) => Some(crate::seed::Seed::load(path).map_err(|e| LocalError::Start(e.to_string()))?),
            None => None,
        };
        let service = match &self.database_url {
            Some(url) => app::build_service_postgres(config, url, &data, seed.as_ref()).await,
            None => app::build_service(config, &data, seed.as_ref()),
        }
        .map_err(|e| LocalError::Start(format!("{e:#}")))?;
        let api = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let admin = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let (api_addr, admin_addr) = (api.local_addr()?, admin.local_addr()?);
        let (faults, store, config) =
            (Arc::clone(&service.admin.faults), service.admin.store.clone(), Arc::clone(&service.admin.config));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = app::serve(api, Some(admin), service, None, shutdown).await {
                tracing::error!(error = %format!("{e:#}"), "the local service stopped");
            }
        });
        tracing::debug!(api = %api_addr, admin = %admin_addr, "local service started");
        Ok(LocalService {
            api: api_addr,
            admin: admin_addr,
            endpoint: format!("http://{api_addr}"),
            admin_endpoint: format!("http://{admin_addr}"),
            access_key_id,
            access_key_secret: Secret::new(secret),
            faults,
            store,
            config,
            stop: Some(stop),
            task: Some(task),
            dir,
        })
    }
}

/// A TOML basic string of `s`.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The service running in this process (see the module documentation). Stops when dropped (the
/// requests in flight are finished in the background) and removes its temporary data folder.
pub struct LocalService {
    api: SocketAddr,
    admin: SocketAddr,
    endpoint: String,
    admin_endpoint: String,
    access_key_id: String,
    access_key_secret: Secret,
    faults: Arc<Faults>,
    store: AnyStore,
    config: Arc<Config>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    // Last: removed after everything else let go of it.
    dir: tempfile::TempDir,
}

impl fmt::Debug for LocalService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalService")
            .field("endpoint", &self.endpoint)
            .field("admin_endpoint", &self.admin_endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &self.access_key_secret)
            .field("data", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl LocalService {
    /// Starts the service with the demo's instances ([`DEFAULT_INSTANCES`]: `sag-demo` and
    /// `sag-nocidr` in `cn-shanghai`, `sag-demo-hz` in `cn-hangzhou`) and a fresh random key.
    ///
    /// # Errors
    /// See [`LocalServiceBuilder::start`].
    pub async fn start() -> Result<LocalService, LocalError> {
        LocalServiceBuilder::default().start().await
    }

    /// A builder to choose the instances and other configuration.
    pub fn builder() -> LocalServiceBuilder {
        LocalServiceBuilder::default()
    }

    /// The API's endpoint, e.g. `http://127.0.0.1:41234` (give it to the client under test).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The API's address.
    pub fn address(&self) -> SocketAddr {
        self.api
    }

    /// The admin endpoints' base, e.g. `http://127.0.0.1:41235` (see [`crate::admin`]).
    pub fn admin_endpoint(&self) -> &str {
        &self.admin_endpoint
    }

    /// The admin listener's address.
    pub fn admin_address(&self) -> SocketAddr {
        self.admin
    }

    /// The AccessKeyId the service accepts (random, fresh for each service).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Its secret.
    pub fn access_key_secret(&self) -> &str {
        self.access_key_secret.expose()
    }

    /// The configuration in force (its instances).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The temporary folder of the database and the outbox (removed when dropped).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The fault rules in force (the same as `/_admin/faults`).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Checks `spec` and adds it as a fault rule (as `POST /_admin/faults` does).
    ///
    /// # Errors
    /// What is wrong with the rule.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<ActiveRule, String> {
        Ok(self.faults.add(spec.check()?))
    }

    /// The user store (SQLite, or PostgreSQL with [`LocalServiceBuilder::database_url`]).
    pub fn store(&self) -> &AnyStore {
        &self.store
    }

    /// Deletes every user (as `POST /_admin/reset` does); returns how many there were.
    ///
    /// # Errors
    /// When the database cannot be written.
    pub async fn reset(&self) -> Result<u64, StoreError> {
        self.store.delete_all_users().await
    }

    /// Stops the service and waits until the requests in flight are answered.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LocalService {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
