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
use crate::store::Store;

/// What the command line decided.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where to listen; `None` means the config's `listen`, else 127.0.0.1:8080.
    pub listen: Option<SocketAddr>,
    /// The config file; `None` means the built-in demo configuration.
    pub config: Option<PathBuf>,
    /// The SQLite database file; the outbox folder is created next to it.
    pub data: PathBuf,
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
    if let Some(dir) = data.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the data folder {}", dir.display()))?;
    }
    let store = Store::open(data).with_context(|| format!("opening the database {}", data.display()))?;
    let outbox = Outbox::new(outbox_dir(data)).context("opening the outbox folder")?;
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

/// Loads the configuration, refuses unsafe set-ups, and serves until SIGINT or SIGTERM; requests
/// in flight are finished before it returns.
///
/// # Errors
/// A bad config file (with its file, line and problem), a demo key on a non-loopback address, a
/// database that cannot be opened, or an address that cannot be bound.
pub async fn run(options: Options) -> Result<()> {
    let config = match &options.config {
        Some(path) => Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => Config::demo(),
    };
    let listen = options.listen.unwrap_or_else(|| config.listen_or_default());
    if config.has_demo_credentials() && !listen.ip().is_loopback() {
        bail!(
            "refusing to listen on {listen} with the demo access key (testid/testsecret): anyone who can reach \
             that address could use it. Listen on a loopback address (127.0.0.1), or pass --config FILE with \
             access keys of your own"
        );
    }
    let app = build(config, &options.data)?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    tracing::info!(address = %local, data = %options.data.display(), "smartag-service listening");
    println!("smartag-service listening on http://{local} (data: {})", options.data.display());
    axum::serve(
        alibaba_rpc_runtime::server::listener::guard(listener),
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;
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
