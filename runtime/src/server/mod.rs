//! The axum server side of the protocol (feature `server`).
//!
//! [`router()`] speaks the wire protocol for a [`Dispatch`] (implemented by the generated server
//! crate): it accepts POST with the parameters in the query (what the official SDKs send), POST
//! with an `application/x-www-form-urlencoded` body merged after the query (any transfer
//! encoding, chunked included), and GET; checks `Format`, `Action` and `Version`; authenticates
//! unless explicitly disabled — signature version 3 (`ACS3-HMAC-SHA256`, what every current
//! official SDK sends by default) or version 1.0 (`HMAC-SHA1`), the date window, STS security
//! tokens, and one nonce replay cache for both (each router's own in memory, or a shared
//! [`ReplayCache`] installed with [`ServerConfigBuilder::replay_cache`]); dispatches; and renders
//! the answer as JSON or XML.
//! Every failure, including an oversized body, a timeout, an unsupported method or a panic, is
//! answered with the API's error envelope, never plain text. Every answer carries a fresh
//! `RequestId` (also in the `x-acs-request-id` header).
//!
//! # Layers
//!
//! The protocol's own limits are not tower layers but steps of the one handler, because each
//! must answer with the API's envelope, code and `RequestId` (a generic layer would answer plain
//! text): the body limit ([`ServerConfigBuilder::body_limit`]), the request timeout
//! ([`ServerConfigBuilder::request_timeout`], answered `ServiceUnavailable`), and the request's
//! tracing span (`request` with `request_id`, `action`, `access_key_id`, `code`). Anything else
//! composes as ordinary tower layers on the returned `Router`, outside the protocol. Every
//! response carries an [`Answered`] extension (its RequestId, the Action asked for and the error
//! code answered), so an outer layer can write access logs or metrics without parsing the body
//! (the router itself logs each answer at debug level only):
//!
//! ```
//! use std::time::Duration;
//! use alibaba_rpc_runtime::server::{Authentication, Dispatch, ServerConfig, router};
//! use alibaba_rpc_runtime::errors::ProtocolErrors;
//! # use alibaba_rpc_runtime::operation::ServiceInfo;
//! # fn app<D: Dispatch>(dispatch: D, service: &'static ServiceInfo) -> axum::Router {
//! let config = ServerConfig::builder(service)
//!     .authentication(Authentication::disabled())
//!     .body_limit(64 * 1024)
//!     .request_timeout(Duration::from_secs(5))
//!     .build();
//! router(dispatch, config, &ProtocolErrors::STANDARD)
//!     // e.g. at most 256 requests in flight, whatever the protocol says
//!     .layer(tower::limit::ConcurrencyLimitLayer::new(256))
//! # }
//! ```

mod auth;
mod config;
mod context;
mod credentials;
mod decode;
mod dispatch;
mod error;
pub mod framing;
pub mod listener;
mod nonce;
mod outcome;
mod render;
mod reply;
mod respond;
mod router;

pub use config::{NoAuthentication, ServerConfig, ServerConfigBuilder};
pub use context::RequestContext;
pub use credentials::{Authentication, CredentialStore, KeyMaterial};
pub use dispatch::{Dispatch, DispatchFuture, Success, invoke};
pub use error::{ErrorReply, ServerError};
pub use nonce::{MemoryReplayCache, NonceOutcome, ReplayCache, ReplayCacheError};
pub use outcome::Answered;
pub use render::WireFormat;
pub use reply::Reply;
pub use router::router;

/// The response header carrying the request's `RequestId`.
pub const REQUEST_ID_HEADER: &str = crate::signature::v3::headers::REQUEST_ID;

/// The response header telling a throttled caller how long to wait before retrying, in
/// milliseconds (see [`ServerError::retry_after`]).
pub const RETRY_AFTER_HEADER: &str = crate::signature::v3::headers::RETRY_AFTER;
