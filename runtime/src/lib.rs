//! Hand-written Alibaba Cloud RPC protocol machinery shared by every generated client and
//! server: percent-encoding, signature version 1.0, request parameters, validation, the error
//! envelope, and (behind features) the `client` transport and the `server` router.
//!
//! The generated crates are thin and call only what `docs/runtime-contract.md` lists. Nothing
//! operation-specific lives here: codes, statuses and messages come from the spec through the
//! generated code.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod encoding;
pub mod errors;
pub mod extract;
pub mod flatten;
pub mod operation;
pub mod params;
pub mod secret;
pub mod signature;
pub mod typestate;
pub mod validate;
pub mod wire_enum;

pub use operation::wrapped_list;

#[cfg(feature = "client")]
pub mod client;

#[cfg(feature = "server")]
pub mod server;
