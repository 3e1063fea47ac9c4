//! The router's middleware: the request scope (RequestId, span, panics), the request timeout
//! and the body limit. Each answers its failures with the error envelope, never plain text.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::{FutureExt as _, StreamExt as _};
use tracing::Instrument as _;

use super::REQUEST_ID_HEADER;
use super::error::ErrorReply;
use super::render::WireFormat;
use super::router::{Shared, error_response};
use crate::params::Params;

/// What the request scope hands down to the layers and the handler (a request extension).
#[derive(Debug, Clone)]
pub(crate) struct RequestMeta {
    /// The `RequestId` of the answer.
    pub request_id: Arc<str>,
    /// Whether the answer is XML: from the query at first, then from all parameters once read.
    xml: Arc<AtomicBool>,
}

impl RequestMeta {
    /// A fresh RequestId, answering in `format`.
    pub(crate) fn new(format: WireFormat) -> RequestMeta {
        RequestMeta {
            request_id: Arc::from(uuid::Uuid::new_v4().to_string().to_ascii_uppercase()),
            xml: Arc::new(AtomicBool::new(format == WireFormat::Xml)),
        }
    }

    /// The format errors are answered in.
    pub(crate) fn format(&self) -> WireFormat {
        if self.xml.load(Ordering::Relaxed) { WireFormat::Xml } else { WireFormat::Json }
    }

    /// Records the format once every parameter is known.
    pub(crate) fn set_format(&self, format: WireFormat) {
        self.xml.store(format == WireFormat::Xml, Ordering::Relaxed);
    }

    /// The request's meta, or a fresh one if no scope layer ran.
    pub(crate) fn of(request: &Request) -> RequestMeta {
        request.extensions().get::<RequestMeta>().cloned().unwrap_or_else(|| RequestMeta::new(query_format(request)))
    }
}

/// The `Format` of the query (JSON when absent or not understood).
fn query_format(request: &Request) -> WireFormat {
    let query = Params::parse_urlencoded(request.uri().query().unwrap_or("").as_bytes());
    WireFormat::parse(query.get("Format")).unwrap_or_default()
}

/// `s` if it is a short plain token, for logs; never logs arbitrary text.
pub(crate) fn loggable(s: &str) -> &str {
    if !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        s
    } else {
        "<invalid>"
    }
}

/// The outermost layer: gives the request its RequestId and span, answers a panic below with the
/// protocol's `internal_error`, sets `x-acs-request-id`, and logs the outcome.
pub(crate) async fn request_scope(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let meta = RequestMeta::new(query_format(&request));
    request.extensions_mut().insert(meta.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %meta.request_id,
        method = %request.method(),
        action = tracing::field::Empty,
        access_key_id = tracing::field::Empty,
    );
    let started = Instant::now();
    let run = AssertUnwindSafe(next.run(request)).catch_unwind();
    let outcome = run.instrument(span.clone()).await;
    let _entered = span.enter();
    let mut response = match outcome {
        Ok(response) => response,
        Err(_) => {
            tracing::error!("request handling panicked");
            error_response(&shared, &meta, meta.format(), ErrorReply::Internal)
        }
    };
    if !response.headers().contains_key(REQUEST_ID_HEADER)
        && let Ok(value) = HeaderValue::from_str(&meta.request_id)
    {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "answered");
    response
}

/// Answers the protocol's `request_timeout` when the request takes longer than
/// [`ServerConfig::request_timeout`](super::ServerConfig::request_timeout) (body reading
/// included).
pub(crate) async fn timeout(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let meta = RequestMeta::of(&request);
    let limit = shared.config.request_timeout();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            let reply = ErrorReply::from_spec(&shared.errors.request_timeout, &[]);
            error_response(&shared, &meta, meta.format(), reply)
        }
    }
}

/// Reads the body into memory, at most
/// [`ServerConfig::body_limit`](super::ServerConfig::body_limit) bytes; a larger one (by
/// `Content-Length` or as it streams) is answered with the protocol's `request_too_large`.
pub(crate) async fn body_limit(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let meta = RequestMeta::of(&request);
    let limit = shared.config.body_limit();
    let too_large = || {
        tracing::info!(limit, code = shared.errors.request_too_large.code, "request body too large");
        error_response(&shared, &meta, meta.format(), ErrorReply::from_spec(&shared.errors.request_too_large, &[]))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let mut buffer: Vec<u8> = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                if buffer.len().saturating_add(bytes.len()) > limit {
                    return too_large();
                }
                buffer.extend_from_slice(&bytes);
            }
            Err(e) => {
                tracing::info!(error = %e, "request body could not be read");
                let reply = ErrorReply::from_spec(&shared.errors.invalid_parameter, &[("param", "Body")]);
                return error_response(&shared, &meta, meta.format(), reply);
            }
        }
    }
    next.run(Request::from_parts(parts, Body::from(buffer))).await
}
