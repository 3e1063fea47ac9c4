//! `smartag-service`: the Smart Access Gateway client-user service.
//!
//! ```text
//! cargo run --release -p smartag-service -- [--listen ADDR] [--config FILE] [--data PATH]
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use smartag_service::app::{Options, run};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // A log line that cannot be written (a full disk) is lost, not reported with `eprintln!`,
        // which would panic on the same full disk and abort the request being logged.
        .log_internal_errors(false)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(Options { listen: cli.listen, config: cli.config, data: cli.data })) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
