//! `smartag-service`: the Smart Access Gateway client-user service.
//!
//! ```text
//! cargo run --release -p smartag-service -- [serve] [--listen ADDR] [--config FILE] [--data PATH]
//!     [--database-url URL] [--seed FILE] [--tls-cert FILE --tls-key FILE]
//!     [--admin-listen ADDR [--admin-allow-remote]] [--log-format text|json]
//! smartag-service backup [--data DB] --to FILE [--force]
//! smartag-service restore --from FILE [--data DB] [--force]
//! smartag-service export [--data DB | --database-url URL] --to FILE [--force]
//! smartag-service import --from FILE [--data DB | --database-url URL]
//! smartag-service healthcheck [--url URL]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use smartag_service::app::{Options, default_data_path, run};
use smartag_service::logging::{self, LogFormat};

/// The Smart Access Gateway client-user service: the Create, Modify and Describe client-user
/// operations of Alibaba Cloud's Smartag API (2018-03-13), served to the official SDKs.
///
/// Without --config it uses a built-in demo configuration (access key testid/testsecret, instances
/// sag-demo and sag-nocidr in cn-shanghai, sag-demo-hz in cn-hangzhou), which only listens on
/// loopback addresses.
///
/// Every option can also be given by an environment variable (SMARTAG_LISTEN, SMARTAG_DATA, …; see
/// the README): a flag wins over the variable, the variable over the config file.
#[derive(Parser)]
#[command(name = "smartag-service", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (what runs without a command).
    Serve(ServeArgs),
    /// Copy the database to a file while the service keeps running (SQLite's online backup).
    Backup {
        /// The database [default: SMARTAG_DATA, else the platform data folder's smartag.db].
        #[arg(long, value_name = "DB")]
        data: Option<PathBuf>,
        /// The backup file to write (checked, then renamed into place).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the database with a backup (checked first; refused while a service uses the
    /// database).
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The database to replace or create [default: SMARTAG_DATA, else the platform data
        /// folder's smartag.db].
        #[arg(long, value_name = "DB")]
        data: Option<PathBuf>,
        /// Replace the database if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Write every user (password hashes included) to a JSON-lines file, e.g. to move from SQLite
    /// to PostgreSQL with `import`. The file is created with mode 0600.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Load the users of an `export` file into a database without users (all or none).
    Import {
        /// The file written by `export`.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Exit 0 when a health endpoint answers 2xx (for a container's HEALTHCHECK).
    Healthcheck {
        /// The health endpoint (plain http).
        #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9090/_admin/health")]
        url: String,
    },
}

/// The database of `export` / `import`.
#[derive(Args)]
struct StoreArgs {
    /// The SQLite database [default: SMARTAG_DATA, else the platform data folder's smartag.db].
    #[arg(long, value_name = "DB", conflicts_with = "database_url")]
    data: Option<PathBuf>,
    /// A PostgreSQL database instead [default: DATABASE_URL].
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

impl StoreArgs {
    /// Opens the store: PostgreSQL with --database-url (or DATABASE_URL without --data), else
    /// the SQLite file.
    async fn open(self) -> anyhow::Result<smartag_service::store::AnyStore> {
        use anyhow::Context as _;
        use smartag_service::store::postgres::{DatabaseUrl, PgStore};
        let url = match (self.database_url, &self.data) {
            (Some(url), _) => Some(url),
            (None, None) => std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
            (None, Some(_)) => None,
        };
        if let Some(url) = url.map(DatabaseUrl::new) {
            let store = PgStore::connect(url.expose()).await.with_context(|| format!("opening the database {url}"))?;
            return Ok(store.into());
        }
        let data = data_path(self.data)?;
        let store = smartag_service::store::Store::open(&data)
            .with_context(|| format!("opening the database {}", data.display()))?;
        Ok(store.into())
    }
}

/// Runs `export` or `import` on a runtime of its own.
fn transfer(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match command {
            Command::Export { store, to, force } => {
                let store = store.open().await?;
                let count = smartag_service::transfer::export(&store, &to, force).await?;
                println!("exported {count} users to {}", to.display());
            }
            Command::Import { from, store } => {
                let store = store.open().await?;
                let count = smartag_service::transfer::import(&store, &from).await?;
                println!("imported {count} users from {}", from.display());
            }
            _ => {}
        }
        Ok(())
    })
}

#[derive(Args)]
struct ServeArgs {
    /// The address to listen on [default: SMARTAG_LISTEN, the config's `listen`, else
    /// 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// A TOML configuration file (access keys and instances) [default: SMARTAG_CONFIG, else the
    /// built-in demo configuration]; see the README.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The SQLite database file; account e-mails go to an `outbox/` folder beside it [default:
    /// SMARTAG_DATA, the config's `data`, else smartag.db in the platform data folder, e.g.
    /// ~/.local/share/smartag-service].
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// Keep the users in this PostgreSQL database instead of the SQLite file (any number of
    /// replicas may share it), e.g. postgres://user:password@host:5432/smartag [default:
    /// DATABASE_URL, the config's `database_url`, else SQLite]. The outbox stays beside --data.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// A seed file (JSON or YAML: instances and users) applied at start to a database without
    /// users [default: SMARTAG_SEED, the config's `seed`].
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key) [default: SMARTAG_TLS_CERT,
    /// the config's tls.cert].
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert [default: SMARTAG_TLS_KEY, the config's tls.key].
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve the admin endpoints (/_admin/health, reset, state, faults; /metrics) on this address,
    /// loopback only unless --admin-allow-remote [default: no admin endpoints].
    #[arg(long, value_name = "ADDR")]
    admin_listen: Option<SocketAddr>,
    /// Allow --admin-listen on a non-loopback address (the admin endpoints have no authentication).
    #[arg(long, requires = "admin_listen")]
    admin_allow_remote: bool,
    /// The log format on standard error: text (coloured only on a terminal) or JSON lines.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    log_format: LogFormat,
}

impl ServeArgs {
    fn into_options(self) -> Options {
        let config = self.config.or_else(|| env_path("SMARTAG_CONFIG"));
        Options {
            listen: self.listen,
            config,
            data: self.data,
            database_url: self.database_url.map(smartag_service::store::postgres::DatabaseUrl::new),
            seed: self.seed,
            tls_cert: self.tls_cert,
            tls_key: self.tls_key,
            admin: self.admin_listen,
            admin_allow_remote: self.admin_allow_remote,
        }
    }
}

/// A path from environment variable `name` (unset or empty: `None`).
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The database of `backup`/`restore`: `--data`, else `SMARTAG_DATA`, else the default. Refused
/// when only `DATABASE_URL` names a database: these commands copy SQLite files.
fn data_path(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let data = flag.or_else(|| env_path("SMARTAG_DATA"));
    if data.is_none() && env_path("DATABASE_URL").is_some() {
        anyhow::bail!(
            "backup and restore copy the SQLite database file, and DATABASE_URL selects PostgreSQL: back up a \
             PostgreSQL database with its own tools (pg_dump / pg_restore), or pass --data FILE for a SQLite database"
        );
    }
    match data {
        Some(path) => Ok(path),
        None => default_data_path(),
    }
}

/// Runs a command other than `serve`.
fn run_tool(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => unreachable!("serve is handled by main"),
        Command::Backup { data, to, force } => {
            let data = data_path(data)?;
            let copied = smartag_service::backup::backup(&data, &to, force)?;
            println!(
                "backed up {} ({} users, {} bytes) to {}",
                data.display(),
                copied.users,
                copied.bytes,
                copied.path.display()
            );
        }
        Command::Restore { from, data, force } => {
            let data = data_path(data)?;
            let copied = smartag_service::backup::restore(&from, &data, force)?;
            println!("restored {} ({} users) into {}", from.display(), copied.users, copied.path.display());
        }
        command @ (Command::Export { .. } | Command::Import { .. }) => transfer(command)?,
        Command::Healthcheck { url } => {
            let status = smartag_service::probe::probe(&url, Duration::from_secs(5))?;
            anyhow::ensure!((200..300).contains(&status), "{url} answered HTTP {status}");
            println!("{url}: HTTP {status}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serve = match cli.command {
        None => cli.serve,
        Some(Command::Serve(args)) => args,
        Some(tool) => {
            return match run_tool(tool) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    logging::init(serve.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(serve.into_options())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
