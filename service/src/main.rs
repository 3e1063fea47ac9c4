//! `smartag-service`: the Smart Access Gateway client-user service.
//!
//! ```text
//! cargo run --release -p smartag-service -- [--listen ADDR] [--config FILE] [--data PATH]
//!     [--admin-listen ADDR [--admin-allow-remote]] [--log-format text|json]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use smartag_service::app::{Options, run};
use smartag_service::logging::{self, LogFormat};

/// The Smart Access Gateway client-user service: the Create, Modify and Describe client-user
/// operations of Alibaba Cloud's Smartag API (2018-03-13), served to the official SDKs.
///
/// Without --config it uses a built-in demo configuration (access key testid/testsecret, instances
/// sag-demo and sag-nocidr in cn-shanghai, sag-demo-hz in cn-hangzhou), which only listens on
/// loopback addresses.
#[derive(Parser)]
#[command(name = "smartag-service", version)]
struct Cli {
    /// The address to listen on [default: the config's `listen`, else 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// A TOML configuration file (access keys and instances); see the README.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The SQLite database file; account e-mails go to an `outbox/` folder beside it.
    #[arg(long, value_name = "PATH", default_value = "smartag-data/smartag.db")]
    data: PathBuf,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = Options {
        listen: cli.listen,
        config: cli.config,
        data: cli.data,
        admin: cli.admin_listen,
        admin_allow_remote: cli.admin_allow_remote,
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
