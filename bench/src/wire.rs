//! The requests of the measurements, built (and, with authentication on, signed with a fresh
//! nonce each) before any timed window, so that the driver's cost is the same for both sides.
//!
//! Every request is `POST /?PageNumber=1&PageSize=10&RegionId=…&SmartAGId=…` with an empty body
//! and the version 3 protocol headers (`host`, `x-acs-action`, `x-acs-version`); signed ones add
//! `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` and `authorization`, exactly as
//! the generated client sends them.

use alibaba_rpc_runtime::signature::v3::{self, EMPTY_BODY_SHA256, headers as h};
use alibaba_rpc_runtime::signature::{canonical_query, new_nonce, now_timestamp};
use anyhow::{Context, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::fixture;

/// The query string of every measured request, in canonical order and encoding (the bytes sent
/// are the bytes signed).
pub fn query_string() -> String {
    canonical_query(fixture::QUERY)
}

/// The path and query of every measured request.
pub fn path_and_query() -> String {
    format!("/?{}", query_string())
}

fn insert(map: &mut HeaderMap, name: &'static str, value: &str) -> Result<()> {
    let value = HeaderValue::from_str(value).with_context(|| format!("header {name}"))?;
    map.insert(HeaderName::from_static(name), value);
    Ok(())
}

/// The headers of an unsigned request to `host` (`host:port`).
///
/// # Errors
/// When `host` is not a valid header value.
pub fn unsigned_headers(host: &str) -> Result<HeaderMap> {
    let mut map = HeaderMap::with_capacity(4);
    insert(&mut map, h::HOST, host)?;
    insert(&mut map, h::ACTION, fixture::ACTION)?;
    insert(&mut map, h::VERSION, fixture::VERSION)?;
    Ok(map)
}

/// The headers of a request to `host` signed with version 3 now, with a fresh nonce.
///
/// # Errors
/// When `host` is not a valid header value.
pub fn signed_headers(host: &str) -> Result<HeaderMap> {
    let (date, nonce) = (now_timestamp(), new_nonce());
    let signed: [(&str, &str); 6] = [
        (h::HOST, host),
        (h::ACTION, fixture::ACTION),
        (h::VERSION, fixture::VERSION),
        (h::DATE, &date),
        (h::SIGNATURE_NONCE, &nonce),
        (h::CONTENT_SHA256, EMPTY_BODY_SHA256),
    ];
    let signature = v3::sign_request(
        fixture::ACCESS_KEY_ID,
        fixture::ACCESS_KEY_SECRET,
        "POST",
        fixture::QUERY,
        &signed,
        EMPTY_BODY_SHA256,
    );
    let mut map = HeaderMap::with_capacity(8);
    for (name, value) in [
        (h::HOST, host),
        (h::ACTION, fixture::ACTION),
        (h::VERSION, fixture::VERSION),
        (h::DATE, date.as_str()),
        (h::SIGNATURE_NONCE, nonce.as_str()),
        (h::CONTENT_SHA256, EMPTY_BODY_SHA256),
        (h::AUTHORIZATION, signature.authorization.as_str()),
    ] {
        insert(&mut map, name, value)?;
    }
    Ok(map)
}

/// `count` signed header sets for `host`, each with its own nonce.
///
/// # Errors
/// When `host` is not a valid header value.
pub fn signed_batch(host: &str, count: usize) -> Result<Vec<HeaderMap>> {
    (0..count).map(|_| signed_headers(host)).collect()
}
