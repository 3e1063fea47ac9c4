//! Assembling and running the service: configuration, store, outbox, router, listener and
//! graceful shutdown. `main` only parses the command line and calls [`run`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use smartag_server::{Authentication, KeyMaterial, ServerConfig};

use crate::api::SmartagService;
use crate::config::Config;
use crate::outbox::Outbox;
use crate::seed::{Applied, Seed, SeedError};
use crate::store::Store;

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
    /// A seed file ([`crate::seed`]); `None` means `SMARTAG_SEED`, the config's `seed`, else none.
    pub seed: Option<PathBuf>,
    /// The PEM certificate chain to serve HTTPS with (with [`Options::tls_key`]); `None` means
    /// `SMARTAG_TLS_CERT`, the config's `tls.cert`, else plain HTTP.
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of [`Options::tls_cert`].
    pub tls_key: Option<PathBuf>,
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

/// The router of a service over `config`, keeping its state in `data`.
///
/// # Errors
/// When the database or the outbox cannot be opened.
pub fn build(config: Config, data: &Path) -> Result<axum::Router> {
    build_seeded(config, data, None)
}

/// As [`build`], first adding the instances of `seed` to `config` and creating its users in an
/// empty database (see [`crate::seed`]; a database with users keeps them, with an info log line).
///
/// # Errors
/// As [`build`], and a seed the service would refuse (every problem, located in the seed file).
pub fn build_seeded(mut config: Config, data: &Path, seed: Option<&Seed>) -> Result<axum::Router> {
    if let Some(seed) = seed {
        seed.add_instances_to(&mut config).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(dir) = data.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the data folder {}", dir.display()))?;
    }
    let store = Store::open(data).with_context(|| format!("opening the database {}", data.display()))?;
    let outbox = Outbox::new(outbox_dir(data)).context("opening the outbox folder")?;
    if let Some(seed) = seed {
        apply_seed(seed, &config, &store, &outbox)?;
    }
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
    let server = server.build();
    Ok(smartag_server::router(SmartagService::new(Arc::new(config), store, outbox), server))
}

fn apply_seed(seed: &Seed, config: &Config, store: &Store, outbox: &Outbox) -> Result<()> {
    let file = seed.path().display();
    match seed.apply(config, store, outbox) {
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

/// Serves `app` on `listener`, with TLS when `tls` is given, until SIGINT or SIGTERM; requests in
/// flight are finished before it returns.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<()> {
    let Some(tls) = tls else {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving")?;
        return Ok(());
    };
    let handle = axum_server::Handle::<SocketAddr>::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopper.graceful_shutdown(None);
    });
    let listener = listener.into_std().context("handing the listener to the TLS server")?;
    axum_server::tls_rustls::from_tcp_rustls(listener, axum_server::tls_rustls::RustlsConfig::from_config(tls))
        .context("starting the TLS server")?
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<SocketAddr>())
        .await
        .context("serving")
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
    tracing::info!(database = %data.display(), outbox = %outbox_dir(&data).display(), "data location");
    let app = build_seeded(config, &data, seed.as_ref())?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %local, data = %data.display(), tls = tls.is_some(), "smartag-service listening");
    println!("smartag-service listening on {scheme}://{local} (data: {})", data.display());
    serve(listener, app, tls).await?;
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
