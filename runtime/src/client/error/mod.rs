//! Errors of the client: configuration errors ([`ConfigError`]) and invocation errors — untyped
//! ([`InvokeError`]) and per operation ([`OperationError`]) — with the failures they carry.

mod config;
mod deadline;
mod decode;
mod operation;
mod transport;

use super::credentials::CredentialsError;
use crate::errors::ApiError;
use crate::validate::Violations;

pub use config::ConfigError;
pub use deadline::DeadlineError;
pub use decode::DecodeError;
pub use operation::OperationError;
pub use transport::{TransportError, TransportErrorKind};
pub(crate) use transport::{classify, redact};

/// Why an invocation failed, untyped: [`RpcClient::invoke`](super::RpcClient::invoke) answers it;
/// [`RpcClient::call`](super::RpcClient::call) answers the typed [`OperationError`].
///
/// The enum is exhaustive (exactly these six cases), so generated code can match it completely.
/// [`InvokeError::attempts`] tells how many attempts were made, [`InvokeError::request_id`] the
/// `RequestId` of the last answer.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The request breaks the API's constraints; nothing was sent. Holds every violation.
    #[error("invalid request: {0}")]
    Validation(Violations),
    /// The server answered with an error (non-2xx).
    #[error("{error}{}", after_attempts(*.attempts))]
    Api {
        /// The answer: HTTP status, `RequestId`, code, message.
        error: ApiError,
        /// Attempts made, the first included.
        attempts: u32,
    },
    /// No usable response arrived (connect failure, timeout, reset, ...), after every allowed attempt.
    #[error(transparent)]
    Transport(TransportError),
    /// The server answered 2xx but the body is not the expected response.
    #[error(transparent)]
    Decode(DecodeError),
    /// The credentials provider could not deliver credentials to sign with; nothing was sent for
    /// that attempt, and it is not retried.
    #[error("no credentials to sign with: {error}{}", sent_before(*.attempts))]
    Credentials {
        /// What the provider said.
        error: CredentialsError,
        /// Attempts sent before the credentials failed (0 when the first attempt could not be
        /// signed; more when a refresh failed before a retry).
        attempts: u32,
    },
    /// The call's deadline passed before it could succeed.
    #[error(transparent)]
    DeadlineExceeded(DeadlineError),
}

/// `, after N attempts sent` when a retry could not be signed.
pub(super) fn sent_before(attempts: u32) -> String {
    match attempts {
        0 => String::new(),
        1 => " (after 1 attempt sent)".to_owned(),
        n => format!(" (after {n} attempts sent)"),
    }
}

/// `, after N attempts` when there was more than one.
pub(super) fn after_attempts(attempts: u32) -> String {
    if attempts > 1 { format!(", after {attempts} attempts") } else { String::new() }
}

impl InvokeError {
    /// The API error the server answered with, if that is what this is.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            InvokeError::Api { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The server's error code (`Code` of the envelope), if the server answered with an error.
    pub fn code(&self) -> Option<&str> {
        self.as_api().map(|e| e.code.as_str())
    }

    /// The `RequestId` of the last answer, when it carried one (for a support ticket).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            InvokeError::Api { error, .. } if !error.request_id.is_empty() => Some(error.request_id.as_str()),
            InvokeError::Decode(e) => e.request_id(),
            InvokeError::DeadlineExceeded(e) => e.request_id(),
            _ => None,
        }
    }

    /// How many attempts were made, the first included (0 when validation refused the request;
    /// for missing credentials, the attempts sent before they failed).
    pub fn attempts(&self) -> u32 {
        match self {
            InvokeError::Validation(_) => 0,
            InvokeError::Credentials { attempts, .. } => *attempts,
            InvokeError::Api { attempts, .. } => *attempts,
            InvokeError::Transport(e) => e.attempts(),
            InvokeError::Decode(e) => e.attempts(),
            InvokeError::DeadlineExceeded(e) => e.attempts(),
        }
    }
}

impl From<Violations> for InvokeError {
    fn from(v: Violations) -> Self {
        InvokeError::Validation(v)
    }
}

impl From<ApiError> for InvokeError {
    /// An error answer to a single attempt.
    fn from(error: ApiError) -> Self {
        InvokeError::Api { error, attempts: 1 }
    }
}

impl From<TransportError> for InvokeError {
    fn from(e: TransportError) -> Self {
        InvokeError::Transport(e)
    }
}

impl From<CredentialsError> for InvokeError {
    /// Credentials missing for the first attempt (nothing sent).
    fn from(error: CredentialsError) -> Self {
        InvokeError::Credentials { error, attempts: 0 }
    }
}

impl From<DecodeError> for InvokeError {
    fn from(e: DecodeError) -> Self {
        InvokeError::Decode(e)
    }
}
