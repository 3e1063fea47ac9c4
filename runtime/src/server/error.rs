//! What an operation may fail with, and what the router answers for it.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::errors::{ErrorCode, ErrorSpec};
use crate::validate::Violations;

/// The failure of an operation's implementation: one of the operation's declared codes, or an
/// internal error (answered as the protocol `internal_error`, its details only logged).
pub enum ServerError<C: ErrorCode> {
    /// A declared error code; `message` replaces the code's message when given.
    Api {
        /// The code answered.
        code: C,
        /// A message instead of the code's own (rendered template).
        message: Option<String>,
        /// Extra response headers sent with the error envelope (e.g. `x-acs-retry-after` with
        /// `Throttling`), set with [`ServerError::with_header`]; `None` for none (boxed: rare, and
        /// it keeps the error small).
        headers: Option<Box<HeaderMap>>,
    },
    /// An unexpected failure. Logged at error level; the caller gets no details.
    Internal(Box<dyn StdError + Send + Sync>),
}

impl<C: ErrorCode> ServerError<C> {
    /// The declared error `code`, with its own message.
    pub fn api(code: C) -> ServerError<C> {
        ServerError::Api { code, message: None, headers: None }
    }

    /// The declared error `code`, with `message` instead of its own.
    pub fn api_with_message(code: C, message: impl Into<String>) -> ServerError<C> {
        ServerError::Api { code, message: Some(message.into()), headers: None }
    }

    /// Adds response header `name: value` to the answer of a declared code (it replaces a header
    /// of that name set before; the envelope's own `Content-Type` and `x-acs-request-id` are set
    /// by the router and should not be given here). An internal error is answered without
    /// details, so it carries no headers: there this is a no-op.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ServerError<C> {
        if let ServerError::Api { headers, .. } = &mut self {
            headers.get_or_insert_default().insert(name, value);
        }
        self
    }

    /// Adds the `x-acs-retry-after` header ([`super::RETRY_AFTER_HEADER`]): how long the caller
    /// should wait before retrying, in whole milliseconds, as Alibaba Cloud's gateway sends it with
    /// `Throttling` (the current official SDKs wait that long before their retry).
    #[must_use]
    pub fn retry_after(self, wait: Duration) -> ServerError<C> {
        let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.with_header(HeaderName::from_static(super::RETRY_AFTER_HEADER), HeaderValue::from(millis))
    }

    /// An internal error (details logged, never answered).
    pub fn internal(error: impl Into<Box<dyn StdError + Send + Sync>>) -> ServerError<C> {
        ServerError::Internal(error.into())
    }
}

impl<C: ErrorCode> fmt::Debug for ServerError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Api { code, message, headers } => {
                f.debug_struct("Api").field("code", code).field("message", message).field("headers", headers).finish()
            }
            ServerError::Internal(e) => f.debug_tuple("Internal").field(e).finish(),
        }
    }
}

impl<C: ErrorCode> fmt::Display for ServerError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Api { code, message: Some(message), .. } => write!(f, "{}: {message}", code.code()),
            ServerError::Api { code, message: None, .. } => write!(f, "{}: {}", code.code(), code.message()),
            ServerError::Internal(e) => write!(f, "internal error: {e}"),
        }
    }
}

impl<C: ErrorCode> StdError for ServerError<C> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            ServerError::Api { .. } => None,
            ServerError::Internal(e) => Some(e.as_ref()),
        }
    }
}

/// What the router answers for a failed request: an error code with its status and message, or
/// an internal error (answered with the protocol's `internal_error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorReply {
    /// A coded error.
    Coded {
        /// The wire code.
        code: &'static str,
        /// The HTTP status.
        status: u16,
        /// The message answered.
        message: String,
        /// Extra response headers (see [`ServerError::with_header`]); usually `None`.
        headers: Option<Box<HeaderMap>>,
    },
    /// An internal error; the details were logged where it happened.
    Internal,
}

impl ErrorReply {
    /// A coded error.
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> ErrorReply {
        ErrorReply::Coded { code, status, message: message.into(), headers: None }
    }

    /// A protocol error with its message template filled from `vars`.
    pub fn from_spec(spec: &ErrorSpec, vars: &[(&str, &str)]) -> ErrorReply {
        ErrorReply::new(spec.code, spec.status, spec.render(vars))
    }

    /// An operation's declared error code with its own message (`{param}` left as is).
    pub fn from_code<C: ErrorCode>(code: C) -> ErrorReply {
        ErrorReply::new(code.code(), code.status(), code.message())
    }

    /// The wire code, `None` for [`ErrorReply::Internal`].
    pub fn code(&self) -> Option<&'static str> {
        match self {
            ErrorReply::Coded { code, .. } => Some(code),
            ErrorReply::Internal => None,
        }
    }
}

impl From<Violations> for ErrorReply {
    /// The code and status of the first violation; the message is the first one's, followed by
    /// ` Other problems: CODE (param): message; …` when there are more.
    fn from(violations: Violations) -> ErrorReply {
        let mut all = violations.into_vec().into_iter();
        let Some(first) = all.next() else {
            return ErrorReply::Internal;
        };
        let mut message = first.message;
        let others: Vec<String> = all.map(|v| v.to_string()).collect();
        if !others.is_empty() {
            message.push_str(" Other problems: ");
            message.push_str(&others.join("; "));
        }
        ErrorReply::Coded { code: first.code, status: first.status, message, headers: None }
    }
}

impl<C: ErrorCode> From<ServerError<C>> for ErrorReply {
    /// A declared code as coded error; an internal error as [`ErrorReply::Internal`] (log the
    /// details before converting: they are dropped here).
    fn from(error: ServerError<C>) -> ErrorReply {
        match error {
            ServerError::Api { code, message, headers } => ErrorReply::Coded {
                code: code.code(),
                status: code.status(),
                message: message.unwrap_or_else(|| code.message().to_owned()),
                headers,
            },
            ServerError::Internal(_) => ErrorReply::Internal,
        }
    }
}
