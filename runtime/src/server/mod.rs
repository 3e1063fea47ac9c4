//! The axum server side of the protocol (feature `server`).
//!
//! [`router`] speaks the wire protocol for a [`Dispatch`] (implemented by the generated server
//! crate): it accepts POST with the parameters in the query (what the official SDKs send), POST
//! with an `application/x-www-form-urlencoded` body merged after the query (any transfer
//! encoding, chunked included), and GET; checks `Format`, `Action` and `Version`; authenticates
//! unless explicitly disabled — signature version 3 (`ACS3-HMAC-SHA256`, what every current
//! official SDK sends by default) or version 1.0 (`HMAC-SHA1`), the date window, STS security
//! tokens, and one nonce replay memory for both; dispatches; and renders the answer as JSON or
//! XML.
//! Every failure, including an oversized body, a timeout, an unsupported method or a panic, is
//! answered with the API's error envelope, never plain text. Every answer carries a fresh
//! `RequestId` (also in the `x-acs-request-id` header).

mod auth;
mod config;
mod context;
mod credentials;
mod decode;
mod dispatch;
mod error;
mod nonce;
mod render;
mod respond;
mod router;

pub use config::{NoAuthentication, ServerConfig, ServerConfigBuilder};
pub use context::RequestContext;
pub use credentials::{Authentication, CredentialStore, KeyMaterial};
pub use dispatch::{Dispatch, DispatchFuture, Success, invoke};
pub use error::{ErrorReply, ServerError};
pub use render::WireFormat;
pub use router::router;

/// The response header carrying the request's `RequestId`.
pub const REQUEST_ID_HEADER: &str = "x-acs-request-id";
