//! [`OperationError`]: why a typed call of one operation failed.

use std::fmt;

use super::{DeadlineError, DecodeError, InvokeError, TransportError, after_attempts, sent_before};
use crate::client::credentials::CredentialsError;
use crate::client::retry::{self, Failure};
use crate::errors::{ApiError, ErrorCode};
use crate::operation::Operation;
use crate::validate::Violations;

/// Why operation `Op` failed: the error type of every generated client method
/// (`pub type CreateUserError = OperationError<CreateUserRequest>`).
///
/// An error answer with one of the operation's codes is [`OperationError::Api`], its `code`
/// matchable as the operation's own code enum (which holds only the codes the operation
/// declares, and the protocol codes every operation shares):
///
/// ```ignore
/// match client.create_user(&request).await {
///     Err(CreateUserError::Api { code: CreateUserErrorCode::UserExist, .. }) => { /* taken */ }
///     Err(e) if e.is_retryable() => { /* try again later */ }
///     Err(e) => return Err(e.into()),
///     Ok(created) => { /* ... */ }
/// }
/// ```
///
/// Every case tells how many attempts were made ([`OperationError::attempts`]) and, when an
/// answer carried one, the last `RequestId` ([`OperationError::request_id`]).
///
/// `Debug` and `Display` never show a secret: the request is not kept, violations never hold
/// parameter values, and transport errors drop the URL's query.
pub enum OperationError<Op: Operation> {
    /// The server answered one of the operation's codes; `error` is the whole answer.
    Api {
        /// The code, as the operation's code enum.
        code: Op::ErrorCode,
        /// The answer: HTTP status, `RequestId`, code, message.
        error: ApiError,
        /// Attempts made, the first included.
        attempts: u32,
    },
    /// The server answered a code the operation does not declare; code and message are kept.
    Unknown {
        /// The answer: HTTP status, `RequestId`, code, message.
        error: ApiError,
        /// Attempts made, the first included.
        attempts: u32,
    },
    /// The request breaks the spec's constraints; nothing was sent. Every violation is listed.
    Validation(Violations),
    /// No usable response arrived (connection, timeout, TLS), after every allowed attempt.
    Transport(TransportError),
    /// The server answered success, but not with the response the spec describes.
    Decode(DecodeError),
    /// The credentials provider could not deliver credentials to sign with; nothing was sent for
    /// that attempt, and it is not retried.
    Credentials {
        /// What the provider said.
        error: CredentialsError,
        /// Attempts sent before the credentials failed (0 when the first attempt could not be
        /// signed; more when a refresh failed before a retry).
        attempts: u32,
    },
    /// The call's deadline ([`Call::deadline`](crate::client::Call::deadline) or the configuration's
    /// `operation_timeout`) passed before it could succeed: the attempt in flight was cut off at
    /// the deadline, or the next wait would have ended after it.
    DeadlineExceeded(DeadlineError),
}

impl<Op: Operation> From<InvokeError> for OperationError<Op> {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Api { error, attempts } => match <Op::ErrorCode as ErrorCode>::from_code(&error.code) {
                Some(code) => OperationError::Api { code, error, attempts },
                None => OperationError::Unknown { error, attempts },
            },
            InvokeError::Validation(v) => OperationError::Validation(v),
            InvokeError::Transport(t) => OperationError::Transport(t),
            InvokeError::Decode(d) => OperationError::Decode(d),
            InvokeError::Credentials { error, attempts } => OperationError::Credentials { error, attempts },
            InvokeError::DeadlineExceeded(d) => OperationError::DeadlineExceeded(d),
        }
    }
}

impl<Op: Operation> OperationError<Op> {
    /// The server's answer (RequestId, HTTP status, Code, Message), when the server answered
    /// with an error.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            OperationError::Api { error, .. } | OperationError::Unknown { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The operation's code, when the server answered one it declares (or a protocol code).
    pub fn code(&self) -> Option<Op::ErrorCode> {
        match self {
            OperationError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The `RequestId` of the last answer, when it carried one (for a support ticket).
    pub fn request_id(&self) -> Option<&str> {
        match self {
            OperationError::Api { error, .. } | OperationError::Unknown { error, .. }
                if !error.request_id.is_empty() =>
            {
                Some(error.request_id.as_str())
            }
            OperationError::Decode(e) => e.request_id(),
            OperationError::DeadlineExceeded(e) => e.request_id(),
            _ => None,
        }
    }

    /// How many attempts were made, the first included (0 when validation refused the request;
    /// for missing credentials, the attempts sent before they failed).
    pub fn attempts(&self) -> u32 {
        match self {
            OperationError::Validation(_) => 0,
            OperationError::Credentials { attempts, .. } => *attempts,
            OperationError::Api { attempts, .. } | OperationError::Unknown { attempts, .. } => *attempts,
            OperationError::Transport(e) => e.attempts(),
            OperationError::Decode(e) => e.attempts(),
            OperationError::DeadlineExceeded(e) => e.attempts(),
        }
    }

    /// The violations, when the request was refused before sending.
    pub fn violations(&self) -> Option<&Violations> {
        match self {
            OperationError::Validation(v) => Some(v),
            _ => None,
        }
    }

    /// The failure as the retry classifier sees it. A passed deadline is seen as the failure of
    /// the last attempt (as when the attempts run out), or as final when no attempt was made.
    pub fn failure(&self) -> Failure {
        match self {
            OperationError::Api { code, error, .. } => {
                Failure::Api { status: error.status, retryable_code: code.retryable() }
            }
            OperationError::Unknown { error, .. } => Failure::Api { status: error.status, retryable_code: false },
            OperationError::Transport(t) => Failure::Transport(t.kind()),
            OperationError::DeadlineExceeded(d) => d.last_failure.unwrap_or(Failure::Final),
            OperationError::Validation(_) | OperationError::Decode(_) | OperationError::Credentials { .. } => {
                Failure::Final
            }
        }
    }

    /// Whether trying the same request again may succeed, by [`retry::is_retryable`] — the very
    /// classifier the client's retry loop uses, so an error the client gave up on after retrying
    /// says `true` (the attempts, the retry budget or the deadline ran out) and one it did not retry
    /// says `false`. Considers the operation's idempotency: a timeout, or a 5xx or throttling
    /// answer, is retryable only for an idempotent operation.
    pub fn is_retryable(&self) -> bool {
        retry::is_retryable(Op::IDEMPOTENT, self.failure())
    }
}

impl<Op: Operation> fmt::Debug for OperationError<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationError::Api { code, error, attempts } => {
                f.debug_struct("Api").field("code", code).field("error", error).field("attempts", attempts).finish()
            }
            OperationError::Unknown { error, attempts } => {
                f.debug_struct("Unknown").field("error", error).field("attempts", attempts).finish()
            }
            OperationError::DeadlineExceeded(d) => f.debug_tuple("DeadlineExceeded").field(d).finish(),
            OperationError::Validation(v) => f.debug_tuple("Validation").field(v).finish(),
            OperationError::Transport(t) => f.debug_tuple("Transport").field(t).finish(),
            OperationError::Decode(d) => f.debug_tuple("Decode").field(d).finish(),
            OperationError::Credentials { error, attempts } => {
                f.debug_struct("Credentials").field("error", error).field("attempts", attempts).finish()
            }
        }
    }
}

impl<Op: Operation> fmt::Display for OperationError<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperationError::Api { error, attempts, .. } | OperationError::Unknown { error, attempts } => {
                write!(f, "{error}{}", after_attempts(*attempts))
            }
            OperationError::Validation(v) => write!(f, "{} was not sent: {v}", Op::ACTION),
            OperationError::DeadlineExceeded(d) => d.fmt(f),
            OperationError::Transport(t) => t.fmt(f),
            OperationError::Decode(d) => d.fmt(f),
            OperationError::Credentials { error, attempts: 0 } => {
                write!(f, "{} was not sent: no credentials to sign with: {error}", Op::ACTION)
            }
            OperationError::Credentials { error, attempts } => {
                write!(
                    f,
                    "{} was not retried: no credentials to sign with: {error}{}",
                    Op::ACTION,
                    sent_before(*attempts)
                )
            }
        }
    }
}

impl<Op: Operation> std::error::Error for OperationError<Op> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OperationError::Transport(t) => std::error::Error::source(t),
            OperationError::Decode(d) => std::error::Error::source(d),
            OperationError::Credentials { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl<Op: Operation> From<OperationError<Op>> for InvokeError {
    fn from(e: OperationError<Op>) -> Self {
        match e {
            OperationError::Api { error, attempts, .. } | OperationError::Unknown { error, attempts } => {
                InvokeError::Api { error, attempts }
            }
            OperationError::Validation(v) => InvokeError::Validation(v),
            OperationError::Transport(t) => InvokeError::Transport(t),
            OperationError::Decode(d) => InvokeError::Decode(d),
            OperationError::Credentials { error, attempts } => InvokeError::Credentials { error, attempts },
            OperationError::DeadlineExceeded(d) => InvokeError::DeadlineExceeded(d),
        }
    }
}
