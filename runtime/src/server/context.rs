//! What a handler knows about the request besides its parameters.

use std::net::SocketAddr;

use crate::signature::SignatureVersion;

/// The request as the operation's implementation sees it, besides its parsed parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The `RequestId` answered to the caller (a fresh UUID).
    pub request_id: String,
    /// The `Action` called.
    pub action: String,
    /// The `RegionId` parameter, if sent (and not empty).
    pub region_id: Option<String>,
    /// The caller's `AccessKeyId`: verified when authentication is on; when it is disabled, the
    /// unverified `AccessKeyId` parameter, if sent.
    pub access_key_id: Option<String>,
    /// The peer address, when the router is served with
    /// `into_make_service_with_connect_info::<SocketAddr>()`.
    pub remote_addr: Option<SocketAddr>,
    /// The signature version the request was verified with; `None` when authentication is off.
    pub signature_version: Option<SignatureVersion>,
}
