//! The requests of the measurements, built (and, with authentication on, signed with a fresh
//! nonce each) before any timed window, so that the driver's cost is the same for both sides.
//!
//! Every request is `POST /?PageNumber=1&PageSize=10&RegionId=…&SmartAGId=…` with an empty body
//! and the version 3 protocol headers (`host`, `x-acs-action`, `x-acs-version`); signed ones add
//! `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` and `authorization`, exactly as
//! the generated client sends them. The client rows' version 1.0 requests are `POST /` with every
//! parameter in a form body, as the generated client sends those.

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

/// Which signature the client rows use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signing {
    /// Version 1.0 (`HMAC-SHA1`): every protocol field in the query, the signature last.
    V1,
    /// Version 3 (`ACS3-HMAC-SHA256`): protocol fields in `x-acs-*` headers.
    V3,
}

impl Signing {
    /// `v1` or `v3`.
    pub fn label(self) -> &'static str {
        match self {
            Signing::V1 => "v1",
            Signing::V3 => "v3",
        }
    }
}

/// One request signed before the window: its whole URL, its headers and its body (under version
/// 1.0 the parameters and the signature are a form body).
#[derive(Debug, Clone)]
pub struct Presigned {
    /// `http://host:port/?…` (version 3) or `http://host:port/` (version 1.0).
    pub url: reqwest::Url,
    /// The headers to send.
    pub headers: HeaderMap,
    /// The form body (version 1.0), or `None`.
    pub body: Option<String>,
}

/// The parameters of a request signed with version 1.0 now, with a fresh nonce, encoded as a
/// query or form body: the common parameters, then the operation's, then `Signature`, through the
/// documented steps (string to sign, then signature) rather than the client's own code.
pub fn signed_v1_query() -> String {
    use alibaba_rpc_runtime::encoding::encode_query;
    use alibaba_rpc_runtime::signature::v1::common as p;
    use alibaba_rpc_runtime::signature::{sign, string_to_sign};

    let (timestamp, nonce) = (now_timestamp(), new_nonce());
    let mut params: Vec<(&str, &str)> = vec![
        (p::ACTION, fixture::ACTION),
        (p::VERSION, fixture::VERSION),
        (p::FORMAT, "JSON"),
        (p::ACCESS_KEY_ID, fixture::ACCESS_KEY_ID),
        (p::SIGNATURE_METHOD, p::SIGNATURE_METHOD_HMAC_SHA1),
        (p::SIGNATURE_TYPE, ""),
        (p::SIGNATURE_VERSION, p::SIGNATURE_VERSION_1_0),
        (p::SIGNATURE_NONCE, &nonce),
        (p::TIMESTAMP, &timestamp),
    ];
    params.extend(fixture::QUERY);
    let signature = sign(fixture::ACCESS_KEY_SECRET, &string_to_sign("POST", params.iter().copied()));
    encode_query(params.iter().copied().chain(std::iter::once((p::SIGNATURE, signature.as_str()))))
}

/// `count` requests to `host` (`host:port`), each signed with `signing` and a nonce of its own.
///
/// # Errors
/// When `host` is not a valid header value or URL authority.
pub fn presigned_batch(host: &str, signing: Signing, count: usize) -> Result<Vec<Presigned>> {
    let v3_url: reqwest::Url = format!("http://{host}{}", path_and_query()).parse().context("URL")?;
    let v1_url: reqwest::Url = format!("http://{host}/").parse().context("URL")?;
    let mut form = HeaderMap::with_capacity(1);
    form.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static(alibaba_rpc_runtime::encoding::FORM_URLENCODED),
    );
    (0..count)
        .map(|_| match signing {
            Signing::V3 => Ok(Presigned { url: v3_url.clone(), headers: signed_headers(host)?, body: None }),
            Signing::V1 => Ok(Presigned { url: v1_url.clone(), headers: form.clone(), body: Some(signed_v1_query()) }),
        })
        .collect()
}
