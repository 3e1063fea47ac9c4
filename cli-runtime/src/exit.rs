//! Exit codes, and how each failure is told to the user (on stderr; stdout carries only the
//! answer).
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success: the answer is on stdout |
//! | 1 | configuration: no credentials (the chain says what it tried), no region, a bad endpoint, stdout not writable |
//! | 2 | usage: an unknown operation or flag, a flag without its value (clap's own code) |
//! | 3 | validation: the request breaks the spec's constraints (every violation with its code); nothing was sent |
//! | 4 | API error: the server answered an error; its Code, Message and RequestId are printed |
//! | 5 | transport: no answer (connection refused, timeout, TLS, the call's deadline), after the retries allowed |
//! | 6 | unexpected answer: a success status whose body is not the operation's response |

use std::process::ExitCode;

use alibaba_rpc_runtime::client::{DeadlineError, DecodeError, InvokeError, TransportError};
use alibaba_rpc_runtime::errors::ApiError;
use alibaba_rpc_runtime::validate::Violations;

/// Success.
pub const SUCCESS: u8 = 0;
/// A configuration problem (credentials, region, endpoint, output).
pub const CONFIG: u8 = 1;
/// A usage error, as clap reports it.
pub const USAGE: u8 = 2;
/// The request is invalid; nothing was sent.
pub const VALIDATION: u8 = 3;
/// The server answered an error.
pub const API: u8 = 4;
/// No answer arrived.
pub const TRANSPORT: u8 = 5;
/// The answer could not be read.
pub const UNEXPECTED_ANSWER: u8 = 6;

/// Why a command failed after its arguments were parsed. Never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A configuration problem, with what to do about it.
    #[error("{0}")]
    Config(String),
    /// The request breaks the spec; nothing was sent.
    #[error("the request is invalid, nothing was sent: {0}")]
    Validation(Violations),
    /// The server answered an error envelope.
    #[error("the server answered an error: {0}")]
    Api(Box<ApiError>),
    /// No usable answer arrived.
    #[error("no answer: {0}")]
    Transport(TransportError),
    /// A success status whose body is not the response.
    #[error("unexpected answer: {0}")]
    Decode(DecodeError),
    /// The call's deadline passed before an answer.
    #[error("no answer in time: {0}")]
    Deadline(DeadlineError),
}

impl Failure {
    /// The process exit code of this failure (see the [module table](self)).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_) => CONFIG,
            Failure::Validation(_) => VALIDATION,
            Failure::Api(_) => API,
            Failure::Transport(_) | Failure::Deadline(_) => TRANSPORT,
            Failure::Decode(_) => UNEXPECTED_ANSWER,
        }
    }
}

impl From<InvokeError> for Failure {
    fn from(e: InvokeError) -> Failure {
        match e {
            InvokeError::Validation(v) => Failure::Validation(v),
            InvokeError::Api { error, .. } => Failure::Api(Box::new(error)),
            InvokeError::Transport(e) => Failure::Transport(e),
            InvokeError::Decode(e) => Failure::Decode(e),
            InvokeError::DeadlineExceeded(e) => Failure::Deadline(e),
            InvokeError::Credentials { error: e, .. } => Failure::Config(format!(
                "no credentials: {e}. Pass --access-key-id and --access-key-secret, set \
                 ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or choose a profile of \
                 the aliyun CLI's configuration with --profile"
            )),
        }
    }
}

/// The lines telling `failure` to a person.
pub fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Config(message) => format!("error: {message}"),
        Failure::Validation(violations) => {
            let mut out = String::from("error: the request is invalid; nothing was sent");
            for v in violations.iter() {
                out.push_str(&format!("\n  {}: {} ({})", v.code, v.message, v.param));
            }
            out
        }
        Failure::Api(e) => {
            let mut out = format!(
                "error: the server answered {} (HTTP {})\nCode: {}\nMessage: {}\nRequestId: {}",
                e.code, e.status, e.code, e.message, e.request_id
            );
            if !e.host_id.is_empty() {
                out.push_str(&format!("\nHostId: {}", e.host_id));
            }
            if !e.recommend.is_empty() {
                out.push_str(&format!("\nRecommend: {}", e.recommend));
            }
            out
        }
        Failure::Transport(e) => {
            let mut out = format!("error: no answer from the server: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                out.push_str(&format!("\n  caused by: {s}"));
                source = s.source();
            }
            out.push_str("\n  check --endpoint / --region and the network; the request may be retried");
            out
        }
        Failure::Decode(e) => format!("error: the server's answer is not what the operation answers: {e}"),
        Failure::Deadline(e) => format!("error: no answer in time: {e}"),
    }
}

/// Prints `failure` on stderr and answers its exit code.
pub fn report(failure: &Failure) -> ExitCode {
    eprintln!("{}", describe(failure));
    ExitCode::from(failure.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let mut codes = [SUCCESS, CONFIG, USAGE, VALIDATION, API, TRANSPORT, UNEXPECTED_ANSWER];
        codes.sort_unstable();
        let before = codes.len();
        let mut unique = codes.to_vec();
        unique.dedup();
        assert_eq!(unique.len(), before);
        assert_eq!(Failure::Config(String::new()).exit_code(), CONFIG);
        assert_eq!(Failure::Validation(Violations::new()).exit_code(), VALIDATION);
    }

    #[test]
    fn api_errors_show_the_envelope() {
        let e = ApiError {
            status: 400,
            request_id: "RID-1".into(),
            host_id: String::new(),
            code: "ClientUser.UserExist".into(),
            message: "The specified user already exists.".into(),
            recommend: String::new(),
        };
        let text = describe(&Failure::Api(Box::new(e)));
        assert!(text.contains("Code: ClientUser.UserExist"), "{text}");
        assert!(text.contains("Message: The specified user already exists."), "{text}");
        assert!(text.contains("RequestId: RID-1"), "{text}");
    }
}
