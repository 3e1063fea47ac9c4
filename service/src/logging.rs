//! The service's log: text or JSON lines on standard error, and the access log line of each
//! request.
//!
//! - [`init`] installs the subscriber: the level from `RUST_LOG` (default `info`), text or one JSON
//!   object per line ([`LogFormat`]); colours (ANSI escape codes) only when standard error is a
//!   terminal, so a log redirected to a file or a pipe is plain text.
//! - [`access`] writes one line per request at info level (target `smartag_service::access`)
//!   with `request_id`, `action`, `code` (`OK` for a success), `status` and `latency_ms`. Nothing
//!   else of the request is logged there: never a parameter, a password or a signature.

use std::io::IsTerminal as _;
use std::time::Duration;

use alibaba_rpc_runtime::server::Answered;

use crate::metrics::SUCCESS_CODE;

/// The target of the access log lines.
pub const ACCESS_TARGET: &str = "smartag_service::access";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines (coloured on a terminal).
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the event's fields
    /// at the top level, and the fields of the request's span under `span`.
    Json,
}

/// Installs the process's log subscriber, writing to standard error in `format`; the filter comes
/// from `RUST_LOG` (default `info`). Does nothing if a subscriber is already installed.
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // A log line that cannot be written (a full disk) is lost, not reported with `eprintln!`,
        // which would panic on the same full disk and abort the request being logged.
        .log_internal_errors(false)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init(),
    };
}

/// Writes the access log line of one request.
pub fn access(answered: Option<&Answered>, status: u16, elapsed: Duration) {
    let request_id = answered.map_or("", |a| &a.request_id);
    let action = answered.and_then(|a| a.action.as_deref()).unwrap_or("");
    let code = answered.and_then(|a| a.code).unwrap_or(SUCCESS_CODE);
    // Microsecond resolution, in milliseconds.
    let latency_ms = (elapsed.as_micros() as f64) / 1000.0;
    tracing::info!(target: ACCESS_TARGET, request_id, action, code, status, latency_ms, "request");
}
