//! Interceptors: application code the client runs around every attempt, for headers, logging and
//! metrics ([`Interceptor`], registered with
//! [`ClientConfigBuilder::interceptor`](super::ClientConfigBuilder::interceptor)).

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::error::TransportErrorKind;

/// Code run around every attempt of every call (retries included), in the order the
/// interceptors were registered.
///
/// - [`Interceptor::before_send`] runs **before the attempt is signed**, so a header it adds is
///   sent, and under signature version 3 every `x-acs-*` header it adds is signed with the
///   request (other headers are sent unsigned, like `user-agent`). The protocol's own headers
///   (`host`, `authorization`, `x-acs-action`, `x-acs-date`, …) cannot be replaced: the client's
///   values win.
/// - [`Interceptor::after_receive`] runs once the attempt has an outcome: the response's status,
///   headers and `RequestId`, or the transport failure, and the attempt's latency.
///
/// Both have empty defaults: implement only what you need. They must not block (they run on the
/// caller's task).
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use alibaba_rpc_runtime::client::{AfterReceive, BeforeSend, Interceptor};
/// use alibaba_rpc_runtime::client::header::HeaderValue;
///
/// /// Tags every request and counts the throttled answers.
/// #[derive(Default)]
/// struct Tracing { throttled: AtomicU64 }
///
/// impl Interceptor for Tracing {
///     fn before_send(&self, request: &mut BeforeSend<'_>) {
///         request.headers_mut().insert("x-acs-trace-id", HeaderValue::from_static("trace-123"));
///     }
///     fn after_receive(&self, response: &AfterReceive<'_>) {
///         if response.status() == Some(400) && response.request_id().is_some() {
///             self.throttled.fetch_add(1, Ordering::Relaxed);
///         }
///         tracing::info!(action = response.action(), attempt = response.attempt(),
///                        latency_ms = response.latency().as_millis() as u64, "attempt done");
///     }
/// }
/// ```
pub trait Interceptor: Send + Sync + 'static {
    /// Before an attempt is signed and sent: may add or change headers.
    fn before_send(&self, request: &mut BeforeSend<'_>) {
        let _ = request;
    }

    /// After an attempt: its response (status, headers, `RequestId`) or transport failure.
    fn after_receive(&self, response: &AfterReceive<'_>) {
        let _ = response;
    }
}

/// One attempt about to be signed, as an [`Interceptor`] sees it.
pub struct BeforeSend<'a> {
    pub(crate) action: &'static str,
    pub(crate) attempt: u32,
    pub(crate) headers: &'a mut HeaderMap,
}

impl BeforeSend<'_> {
    /// The operation's wire name (`Action`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The attempt number, 1 for the first.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The extra headers of this attempt so far (the call's own, then those of earlier
    /// interceptors); the protocol's headers are added after the interceptors have run.
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }

    /// The extra headers, to add or change: an `x-acs-*` header is signed under version 3.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers
    }

    /// Sets one header (replacing any of the same name).
    pub fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.insert(name, value);
    }
}

/// The outcome of one attempt, as an [`Interceptor`] sees it.
pub struct AfterReceive<'a> {
    pub(crate) action: &'static str,
    pub(crate) attempt: u32,
    pub(crate) status: Option<u16>,
    pub(crate) headers: Option<&'a HeaderMap>,
    pub(crate) request_id: Option<&'a str>,
    pub(crate) latency: Duration,
    pub(crate) transport_error: Option<TransportErrorKind>,
}

impl AfterReceive<'_> {
    /// The operation's wire name (`Action`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The attempt number, 1 for the first.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The response headers, when a response arrived.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.headers
    }

    /// The response's `RequestId` (the `x-acs-request-id` header, else the body's), when there is one.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id
    }

    /// From just before sending to the end of the response body (or the failure).
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// What kind of transport failure ended the attempt, when no usable response arrived.
    pub fn transport_error(&self) -> Option<TransportErrorKind> {
        self.transport_error
    }
}
