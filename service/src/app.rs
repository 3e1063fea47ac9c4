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
    /// Where the admin listener listens ([`crate::admin`]); `None`: no admin listener.
    pub admin: Option<SocketAddr>,
    /// Whether the admin listener may listen on a non-loopback address (it has no
    /// authentication: anyone who reaches it can delete every user).
    pub admin_allow_remote: bool,
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
    Ok(build_service(config, data)?.api)
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
/// force.
///
/// # Errors
/// When the database or the outbox cannot be opened.
pub fn build_service(config: Config, data: &Path) -> Result<Service> {
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
    let faults = Arc::new(Faults::new());
    for rule in config.faults() {
        faults.add(rule.clone());
    }
    let config = Arc::new(config);
    let metrics = Metrics::new();
    let api = FaultInjecting::new(SmartagService::new(Arc::clone(&config), store.clone(), outbox), Arc::clone(&faults));
    let api = smartag_server::router(api, server)
        .layer(axum::middleware::from_fn_with_state(metrics.clone(), crate::metrics::observe));
    Ok(Service { api, admin: AdminState { config, store, faults, metrics } })
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

/// Serves `service`: the API on `api`, the admin endpoints on `admin` (if given), until `shutdown`
/// completes; then both finish the requests in flight and it returns.
///
/// # Errors
/// When serving fails.
pub async fn serve(
    api: tokio::net::TcpListener,
    admin: Option<tokio::net::TcpListener>,
    service: Service,
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
    // Through the runtime's guard: an overlong request line gets the API's envelope.
    let api = alibaba_rpc_runtime::server::listener::guard(api);
    let served = axum::serve(api, service.api.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await
        .context("serving");
    if let Some(task) = admin_task {
        task.await.context("the admin listener stopped")?.context("serving the admin endpoints")?;
    }
    served
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
    if let Some(admin) = options.admin {
        check_admin_address(admin, options.admin_allow_remote)?;
    }
    let service = build_service(config, &options.data)?;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    let admin = match options.admin {
        Some(admin) => Some(
            tokio::net::TcpListener::bind(admin)
                .await
                .with_context(|| format!("cannot listen on {admin} (--admin-listen)"))?,
        ),
        None => None,
    };
    tracing::info!(address = %local, data = %options.data.display(), "smartag-service listening");
    println!("smartag-service listening on http://{local} (data: {})", options.data.display());
    if let Some(admin) = &admin {
        let admin = admin.local_addr().context("reading the bound admin address")?;
        tracing::info!(address = %admin, "admin endpoints listening");
        println!("smartag-service admin listening on http://{admin}");
    }
    serve(listener, admin, service, shutdown_signal()).await?;
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
