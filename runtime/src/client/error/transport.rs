//! [`TransportError`]: a request that got no usable response, and its kind.

use std::fmt;

/// What kind of transport failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS failure, TLS handshake, connect timeout):
    /// the request cannot have reached the server.
    Connect,
    /// The request or response did not complete in time; the server may have acted on it.
    Timeout,
    /// Anything else (connection reset, broken body, ...); the server may have acted on it.
    Other,
    /// The request could not be built (an invalid URL or header): nothing was sent, and the same
    /// request fails the same way again.
    Request,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect error",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Other => "transport error",
            TransportErrorKind::Request => "invalid request",
        })
    }
}

/// A request that got no usable response.
///
/// Keeps the number of attempts made and the underlying error chain (through
/// [`std::error::Error::source`]). The chain never holds the request URL's query, so it never shows
/// the signature, the security token or parameter values.
#[derive(Debug, thiserror::Error)]
#[error("{action}: {kind} after {attempts} attempt{s}", s = if *.attempts == 1 { "" } else { "s" })]
pub struct TransportError {
    action: &'static str,
    kind: TransportErrorKind,
    attempts: u32,
    #[source]
    source: reqwest::Error,
}

impl TransportError {
    pub(crate) fn new(action: &'static str, attempts: u32, source: reqwest::Error) -> Self {
        TransportError { action, kind: classify(&source), attempts, source: redact(source) }
    }

    /// The operation's wire name (`Action`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// Connect, timeout or other.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// How many attempts were made, the first included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the request cannot have reached the server.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// Whether the request timed out (the server may have acted on it).
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }
}

/// Connect beats timeout: a connect timeout never reached the server.
pub(crate) fn classify(e: &reqwest::Error) -> TransportErrorKind {
    if e.is_builder() {
        TransportErrorKind::Request
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    }
}

/// Drops the query (signature, token, parameter values) from the URL reqwest keeps in its error.
pub(crate) fn redact(mut e: reqwest::Error) -> reqwest::Error {
    if let Some(url) = e.url_mut() {
        url.set_query(None);
        url.set_fragment(None);
    }
    e
}
