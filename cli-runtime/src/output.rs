//! Writing the answer on stdout.

use std::io::Write as _;
use std::process::ExitCode;

use serde_json::Value;

use crate::exit;

/// Prints `value` as JSON, pretty (two-space indent) unless `compact`, followed by a newline.
/// A closed stdout (`| head`) is not an error.
pub fn print_json(value: &Value, compact: bool) -> ExitCode {
    let text = if compact { serde_json::to_string(value) } else { serde_json::to_string_pretty(value) };
    match text {
        Ok(text) => print_text(&format!("{text}\n")),
        Err(e) => {
            eprintln!("error: cannot print the answer as JSON: {e}");
            ExitCode::from(exit::CONFIG)
        }
    }
}

/// Prints `text` as is.
pub fn print_text(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write the answer to stdout: {e}");
            ExitCode::from(exit::CONFIG)
        }
    }
}
