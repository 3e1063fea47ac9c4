//! Assembling and running the service: configuration, store, outbox, router, listener and
//! graceful shutdown. `main` only parses the command line and calls [`run`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use smartag_server::{Authentication, KeyMaterial, ServerConfig};

use crate::admin::AdminState;
use crate::api::SmartagService;
use crate::config::Config;
use crate::faults::{FaultInjecting, Faults};
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::seed::{Applied, Seed, SeedError};
use crate::store::postgres::{DatabaseUrl, PgStore};
use crate::store::{AnyStore, Store};

/// What the command line decided. Each `None` falls back to the environment variable, then the
/// config file, then the default (see [`crate::config::ENV_VARS`]).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where to listen; `None` means `SMARTAG_LISTEN`, the config's `listen`, else 127.0.0.1:8080.
    pub listen: Option<SocketAddr>,
    /// The config file; `None` means the built-in demo configuration.
    pub config: Option<PathBuf>,
    /// The SQLite database file (the outbox folder is created next to it); `None` means
    /// `SMARTAG_DATA`, the config's `data`, else [`default_data_path`].
    pub data: Option<PathBuf>,
    /// The PostgreSQL database to keep the users in instead of the SQLite file; `None` means
    /// `DATABASE_URL`, the config's `database_url`, else SQLite. Its password never shows in
    /// `Debug` output or logs.
    pub database_url: Option<crate::store::postgres::DatabaseUrl>,
    /// A seed file ([`crate::seed`]); `None` means `SMARTAG_SEED`, the config's `seed`, else none.
    pub seed: Option<PathBuf>,
    /// The PEM certificate chain to serve HTTPS with (with [`Options::tls_key`]); `None` means
    /// `SMARTAG_TLS_CERT`, the config's `tls.cert`, else plain HTTP.
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of [`Options::tls_cert`].
    pub tls_key: Option<PathBuf>,
    /// Where the admin listener listens ([`crate::admin`]); `None`: no admin listener.
    pub admin: Option<SocketAddr>,
    /// Whether the admin listener may listen on a non-loopback address (it has no
    /// authentication: anyone who reaches it can delete every user).
    pub admin_allow_remote: bool,
}

/// The database file used when neither `--data`, `SMARTAG_DATA` nor the config's `data` names
/// one: `smartag.db` in the platform's data folder for the service — on Linux
/// `$XDG_DATA_HOME/smartag-service`, else `~/.local/share/smartag-service` — which no source
/// checkout sees.
///
/// # Errors
/// When the platform has no such folder (no home directory): pass `--data`.
pub fn default_data_path() -> Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "smartag-service").context(
        "there is no home directory to keep the data in: pass --data FILE (or set SMARTAG_DATA) to choose the \
         database file",
    )?;
    Ok(dirs.data_dir().join("smartag.db"))
}

/// The outbox folder of a database file: `outbox/` in the database's own folder.
pub fn outbox_dir(data: &Path) -> PathBuf {
    data.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("outbox")
}

/// The router of a service over `config`, keeping its state in `data` (see [`build_service`]).
///
/// # Errors
/// When the database or the outbox cannot be opened.
pub fn build(config: Config, data: &Path) -> Result<axum::Router> {
    Ok(build_service(config, data, None)?.api)
}

/// A service ready to serve: the API router and what the admin listener works on.
pub struct Service {
    /// The API: the protocol router over the implementation with fault injection, counted and
    /// access-logged by [`crate::metrics::observe`].
    pub api: axum::Router,
    /// The state of the admin listener ([`crate::admin::router`]), shared with the API.
    pub admin: AdminState,
}

/// A service over `config`, keeping its state in `data`, with the configuration's fault rules in
/// force; with a `seed`, its instances are added to `config` and its users created in an empty
/// database first (see [`crate::seed`]; a database with users keeps them, with an info log line).
///
/// # Errors
/// When the database or the outbox cannot be opened, or a seed the service would refuse (every
/// problem, located in the seed file).
pub fn build_service(mut config: Config, data: &Path, seed: Option<&Seed>) -> Result<Service> {
    if let Some(seed) = seed {
        seed.add_instances_to(&mut config).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(dir) = data.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the data folder {}", dir.display()))?;
    }
    let store = Store::open(data).with_context(|| format!("opening the database {}", data.display()))?;
    let outbox = Outbox::new(outbox_dir(data)).context("opening the outbox folder")?;
    if let Some(seed) = seed {
        log_seed(seed, seed.apply(&config, &store, &outbox))?;
    }
    Ok(assemble(config, store.into(), outbox))
}

/// A service over `config` on a store already opened (SQLite or PostgreSQL), with account
/// e-mails in `outbox`; with a `seed`, as [`build_service`].
///
/// # Errors
/// A seed the service would refuse, or a store that fails while the seed is applied.
pub async fn build_service_on(
    mut config: Config,
    store: AnyStore,
    outbox: Outbox,
    seed: Option<&Seed>,
) -> Result<Service> {
    if let Some(seed) = seed {
        seed.add_instances_to(&mut config).map_err(|e| anyhow::anyhow!("{e}"))?;
        log_seed(seed, seed.apply_to(&config, &store, &outbox).await)?;
    }
    Ok(assemble(config, store, outbox))
}

/// Connects to the PostgreSQL database of `url` (migrating its schema; see
/// [`crate::store::postgres`]) and builds the service on it, account e-mails going to the outbox
/// folder beside `data`.
///
/// # Errors
/// An unreachable database or a failed migration (the URL's password redacted), an outbox folder
/// that cannot be made, or a seed the service would refuse.
pub async fn build_service_postgres(
    config: Config,
    url: &DatabaseUrl,
    data: &Path,
    seed: Option<&Seed>,
) -> Result<Service> {
    let store = PgStore::connect(url.expose()).await.with_context(|| format!("opening the database {url}"))?;
    let outbox = Outbox::new(outbox_dir(data)).context("opening the outbox folder")?;
    build_service_on(config, store.into(), outbox, seed).await
}

/// The router and admin state over an opened store.
fn assemble(config: Config, store: AnyStore, outbox: Outbox) -> Service {
    let keys: HashMap<String, KeyMaterial> = config
        .access_keys()
        .iter()
        .map(|k| (k.id.clone(), KeyMaterial { secret: k.secret.clone(), security_token: k.security_token.clone() }))
        .collect();
    let limits = config.limits();
    let mut server = ServerConfig::builder(&smartag_server::SERVICE)
        .host_id(smartag_server::HOST_ID)
        .authentication(Authentication::signature(keys));
    if let Some(timeout) = limits.request_timeout {
        server = server.request_timeout(timeout);
    }
    if let Some(bytes) = limits.body_limit {
        server = server.body_limit(bytes);
    }
    if let Some(capacity) = limits.nonce_capacity {
        server = server.nonce_capacity(capacity);
    }
    if let Some(window) = limits.timestamp_window {
        server = server.timestamp_window(window);
    }
    // On PostgreSQL the nonces live in the database, shared by every replica; on SQLite (one
    // process) in the router's memory.
    if let AnyStore::Postgres(database) = &store {
        server = server.replay_cache(database.clone());
    }
    let server = server.build();
    let faults = Arc::new(Faults::new());
    for rule in config.faults() {
        faults.add(rule.clone());
    }
    let config = Arc::new(config);
    let metrics = Metrics::new();
    let api = FaultInjecting::new(SmartagService::new(Arc::clone(&config), store.clone(), outbox), Arc::clone(&faults));
    let api = smartag_server::router(api, server)
        .layer(axum::middleware::from_fn_with_state(metrics.clone(), crate::metrics::observe));
    Service { api, admin: AdminState { config, store, faults, metrics } }
}

fn log_seed(seed: &Seed, applied: Result<Applied, SeedError>) -> Result<()> {
    let file = seed.path().display();
    match applied {
        Ok(Applied::Created(users)) => {
            tracing::info!(seed = %file, users, "seed users created");
            Ok(())
        }
        Ok(Applied::SkippedNotEmpty) => {
            tracing::info!(seed = %file, "the database already has users: the seed's users are not created");
            Ok(())
        }
        Err(e @ SeedError::Invalid(_)) => Err(anyhow::anyhow!("{e}")),
        Err(e) => Err(anyhow::Error::new(e).context(format!("applying seed file {file}"))),
    }
}

/// Refuses an admin address that is not loopback unless `allow_remote`, and warns when allowed.
///
/// # Errors
/// A non-loopback address without `allow_remote`.
pub fn check_admin_address(admin: SocketAddr, allow_remote: bool) -> Result<()> {
    if admin.ip().is_loopback() {
        return Ok(());
    }
    if !allow_remote {
        bail!(
            "refusing to serve the admin endpoints on {admin}: they have no authentication, and anyone who can \
             reach that address could delete every user or make the API fail. Use a loopback address \
             (--admin-listen 127.0.0.1:9090), or add --admin-allow-remote if the network is trusted"
        );
    }
    tracing::warn!(address = %admin, "the admin endpoints (no authentication) listen on a non-loopback address");
    Ok(())
}

/// Serves `service`: the API on `api` (HTTPS when `tls` is given), the admin endpoints on `admin`
/// (if given, plain HTTP), until `shutdown` completes; then both finish the requests in flight and
/// it returns.
///
/// # Errors
/// When serving fails.
pub async fn serve(
    api: tokio::net::TcpListener,
    admin: Option<tokio::net::TcpListener>,
    service: Service,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let admin_task = admin.map(|listener| {
        let router = crate::admin::router(service.admin);
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    });
    let app = service.api.into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        None => {
            // Through the runtime's guard: an overlong request line gets the API's envelope.
            let api = alibaba_rpc_runtime::server::listener::guard(api);
            axum::serve(api, app)
                .with_graceful_shutdown(async move {
                    shutdown.await;
                    let _ = stop.send(true);
                })
                .await
                .context("serving")
        }
        Some(tls) => {
            let handle = axum_server::Handle::<SocketAddr>::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                let _ = stop.send(true);
                stopper.graceful_shutdown(None);
            });
            let listener = api.into_std().context("handing the listener to the TLS server")?;
            // TLS, then the runtime's guard on the decrypted stream (as over plain HTTP).
            axum_server::from_tcp(listener)
                .context("starting the TLS server")?
                .acceptor(crate::tls::acceptor(tls))
                .handle(handle)
                .serve(app)
                .await
                .context("serving")
        }
    };
    if let Some(task) = admin_task {
        task.await.context("the admin listener stopped")?.context("serving the admin endpoints")?;
    }
    served
}

/// Loads the configuration (file, then environment variables, then `options`), refuses unsafe
/// set-ups, applies the seed file, and serves (HTTPS with a certificate and key) until SIGINT or
/// SIGTERM; requests in flight are finished before it returns.
///
/// # Errors
/// A bad config file (with its file, line and problem) or environment variable (named), a bad seed
/// file (every problem, located), unusable TLS files (named), a demo key on a non-loopback address,
/// a database that cannot be opened, or an address that cannot be bound.
pub async fn run(options: Options) -> Result<()> {
    let config = Config::from_sources(options.config.as_deref(), |name| std::env::var_os(name))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let listen = options.listen.unwrap_or_else(|| config.listen_or_default());
    if config.has_demo_credentials() && !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} with the demo access key (testid/testsecret): anyone who can reach \
             that address could use it. Listen on a loopback address (127.0.0.1), or pass --config FILE with \
             access keys of your own (or set SMARTAG_ACCESS_KEY_ID and SMARTAG_ACCESS_KEY_SECRET)"
        );
    }
    if let Some(admin) = options.admin {
        check_admin_address(admin, options.admin_allow_remote)?;
    }
    let data = match options.data.clone().or_else(|| config.data().map(Path::to_path_buf)) {
        Some(data) => data,
        None => default_data_path()?,
    };
    let tls = match (
        options.tls_cert.clone().or_else(|| config.tls().cert.clone()),
        options.tls_key.clone().or_else(|| config.tls().key.clone()),
    ) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some(crate::tls::server_config(&cert, &key)?),
        (cert, _) => bail!(
            "HTTPS needs both a certificate and a private key (PEM files); the {} is missing: give it with {}",
            if cert.is_some() { "key" } else { "certificate" },
            if cert.is_some() {
                "--tls-key, SMARTAG_TLS_KEY or the config's tls.key"
            } else {
                "--tls-cert, SMARTAG_TLS_CERT or the config's tls.cert"
            }
        ),
    };
    let seed = match options.seed.clone().or_else(|| config.seed().map(Path::to_path_buf)) {
        Some(path) => Some(Seed::load(&path).map_err(|e| match e {
            SeedError::Invalid(_) => anyhow::anyhow!("{e}"),
            other => anyhow::Error::new(other),
        })?),
        None => None,
    };
    let database_url = options.database_url.clone().or_else(|| config.database_url().cloned());
    let service = match &database_url {
        Some(url) => {
            tracing::info!(database = %url, outbox = %outbox_dir(&data).display(), "data location (PostgreSQL)");
            build_service_postgres(config, url, &data, seed.as_ref()).await?
        }
        None => {
            tracing::info!(database = %data.display(), outbox = %outbox_dir(&data).display(), "data location");
            build_service(config, &data, seed.as_ref())?
        }
    };
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let location = match &database_url {
        Some(url) => format!("database: {url}"),
        None => format!("data: {}", data.display()),
    };
    tracing::info!(address = %local, location = %location, tls = tls.is_some(), "smartag-service listening");
    println!("smartag-service listening on {scheme}://{local} ({location})");
    let admin = match options.admin {
        Some(admin) => Some(
            tokio::net::TcpListener::bind(admin)
                .await
                .with_context(|| format!("cannot listen on {admin} (--admin-listen)"))?,
        ),
        None => None,
    };
    if let Some(admin) = &admin {
        let admin = admin.local_addr().context("reading the bound admin address")?;
        tracing::info!(address = %admin, "admin endpoints listening");
        println!("smartag-service admin listening on http://{admin}");
    }
    serve(listener, admin, service, tls, shutdown_signal()).await?;
    tracing::info!("smartag-service stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
