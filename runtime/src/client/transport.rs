//! One attempt: signing (version 1.0 or 3), the HTTP exchange, and reading the answer.
//!
//! Both versions send `POST` to the endpoint with `accept: application/json` and the configured
//! `user-agent`; they differ in where the parameters and the protocol fields travel:
//!
//! - **Version 3** (`ACS3-HMAC-SHA256`, the default): `POST /?<query>` with an empty body, as the
//!   Python Tea SDK sends it. The query holds the operation's parameters
//!   only, in the canonical encoding and order ([`canonical_query`]), so the bytes sent are the
//!   bytes signed. The protocol fields are headers: `host` (the endpoint's `host[:port]`, set
//!   explicitly so the value signed is the value sent), `x-acs-action`, `x-acs-version`,
//!   `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` (hash of the body actually sent)
//!   and, with STS credentials, `x-acs-security-token` and `x-acs-accesskey-id` (as the Python Tea
//!   SDK sends them). **Signed: `host` and every `x-acs-*` header sent** — `accept` and
//!   `user-agent` are not (a proxy may rewrite them), and no `content-type` is sent (the body is
//!   empty). Then `authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`
//!   (`ACS3-HMAC-SM3`, with SM3 in place of SHA-256 throughout, when so configured).
//! - **Version 1.0** (`HMAC-SHA1`): every parameter, the protocol fields among them
//!   (`SecurityToken` too), travels in an `application/x-www-form-urlencoded` body in the
//!   canonical order, `Signature` last, to `POST /`. The legacy SDKs put the same pairs in the
//!   query; Alibaba Cloud (and this crate's server) merges query and form parameters and signs
//!   both alike. A body keeps the password and the signature out of URLs (and out of the logs of
//!   proxies), and spares parsing a long URL: reqwest parses every request's URL twice more.
//!
//! The `authorization` and `x-acs-security-token` header values are marked sensitive, and nothing
//! here logs a header, the query, or a signature.

use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use sm3::Sm3;

use crate::errors::{ApiError, ErrorBody};
use crate::flatten::{WireParam, as_pairs};
use crate::operation::Operation;
use crate::signature::v1::{self, common as p};
use crate::signature::v3::{self, Algorithm, headers as h};
use crate::signature::{SignatureVersion, canonical_query, new_nonce, now_timestamp};

use super::config::{ClientConfig, PrebuiltHeaders};
use super::credentials::{Credentials, CredentialsError, ProvideCredentials};
use super::error::{DecodeError, InvokeError, TransportError, TransportErrorKind};
use super::interceptor::{AfterReceive, BeforeSend};
use super::retry::server_delay;
use super::signing_key::{self, FixedKey};

/// The `content-type` of a version 1.0 request's form body.
const FORM: HeaderValue = HeaderValue::from_static(crate::encoding::FORM_URLENCODED);
/// Largest response body read; anything beyond is cut off (no API response comes near it).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Characters of a body kept in error messages.
const EXCERPT_CHARS: usize = 256;
/// The body of a version 3 request: empty (all parameters travel in the query).
const BODY: &[u8] = b"";

/// Why one attempt failed, before the retry decision.
pub(crate) enum AttemptError {
    /// An error answer, and how long the server asked to wait before retrying.
    Api {
        error: ApiError,
        retry_after: Option<Duration>,
    },
    Transport(reqwest::Error),
    Decode(DecodeError),
    Credentials(CredentialsError),
}

impl AttemptError {
    /// A short, secret-free reason for logs.
    pub(crate) fn reason(&self) -> String {
        match self {
            AttemptError::Api { error, .. } => format!("HTTP {} {}", error.status, error.code),
            AttemptError::Transport(e) => super::error::classify(e).to_string(),
            AttemptError::Decode(_) => "undecodable response".to_string(),
            AttemptError::Credentials(_) => "no credentials".to_string(),
        }
    }

    /// The `RequestId` of the answer, when one arrived with one.
    pub(crate) fn request_id(&self) -> Option<&str> {
        match self {
            AttemptError::Api { error, .. } => Some(error.request_id.as_str()).filter(|id| !id.is_empty()),
            AttemptError::Decode(e) => e.request_id(),
            AttemptError::Transport(_) | AttemptError::Credentials(_) => None,
        }
    }

    /// How long the server asked to wait before trying again.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            AttemptError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether no response arrived in time.
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, AttemptError::Transport(e) if super::error::classify(e) == TransportErrorKind::Timeout)
    }

    pub(crate) fn into_error(self, action: &'static str, attempts: u32) -> InvokeError {
        match self {
            AttemptError::Api { error, .. } => InvokeError::Api { error, attempts },
            AttemptError::Transport(e) => InvokeError::Transport(TransportError::new(action, attempts, e)),
            AttemptError::Decode(e) => InvokeError::Decode(e.with_attempts(attempts)),
            // The attempt that found no credentials was not sent.
            AttemptError::Credentials(error) => {
                InvokeError::Credentials { error, attempts: attempts.saturating_sub(1) }
            }
        }
    }
}

/// What one attempt puts on the wire besides the endpoint and the method: the encoded query or
/// form body, and the headers that carry (or are covered by) the signature.
///
/// Deliberately not `Debug`: it holds the `authorization` header and the security token.
pub(crate) struct SignedParts {
    /// The query string, already percent-encoded (empty: no query).
    pub(crate) query: String,
    /// An `application/x-www-form-urlencoded` body, already encoded (empty: no body).
    pub(crate) form: String,
    /// Headers to send, lowercase names, in the order sent.
    pub(crate) headers: Vec<WireHeader>,
}

/// One header of [`SignedParts`].
pub(crate) struct WireHeader {
    pub(crate) name: HeaderName,
    pub(crate) value: WireValue,
    /// Secret-derived (`authorization`, the security token): marked sensitive for `http`.
    pub(crate) sensitive: bool,
}

impl WireHeader {
    /// The name and the value (marked sensitive as the header is), without copying the text; when
    /// the value is not a valid header value, the name with text the request builder refuses the
    /// same way.
    fn into_pair(self) -> Result<(HeaderName, HeaderValue), (HeaderName, String)> {
        match self.value.into_header_value() {
            Ok(mut value) => {
                value.set_sensitive(self.sensitive);
                Ok((self.name, value))
            }
            Err(value) => Err((self.name, value)),
        }
    }
}

/// The value of a [`WireHeader`], kept in the form that becomes a [`HeaderValue`] without a copy.
pub(crate) enum WireValue {
    /// A constant (the action, the API version, the hash of the empty body): sent as it is.
    Static(&'static str),
    /// Made for this attempt (date, nonce, `authorization`): moved into the header.
    Owned(String),
    /// Made once for the configuration (`host`): shared, a reference count.
    Prebuilt(HeaderValue),
}

impl WireValue {
    /// The value as text (what is signed).
    pub(crate) fn as_str(&self) -> &str {
        match self {
            WireValue::Static(value) => value,
            WireValue::Owned(value) => value,
            // Prebuilt values come from checked ASCII (the endpoint's host).
            WireValue::Prebuilt(value) => value.to_str().unwrap_or_default(),
        }
    }

    /// The header value, without copying the text; when it is not a valid header value (a
    /// credential with control characters), text the request builder refuses the same way.
    fn into_header_value(self) -> Result<HeaderValue, String> {
        match self {
            WireValue::Static(value) if value.bytes().all(|b| (32..127).contains(&b) || b == b'\t') => {
                // `from_static` accepts exactly these bytes (checked just above).
                Ok(HeaderValue::from_static(value))
            }
            WireValue::Static(value) => HeaderValue::from_str(value).map_err(|_| value.to_owned()),
            // Checked once, by `HeaderValue`; what is handed back on failure is a stand-in the
            // request builder rejects just the same (the value itself is never shown).
            WireValue::Owned(value) => HeaderValue::try_from(value).map_err(|_| "\n".to_owned()),
            WireValue::Prebuilt(value) => Ok(value),
        }
    }
}

/// The protocol's header names ([`v3::headers`]) as [`HeaderName`]s, made at compile time: an
/// attempt moves them into its request without parsing or matching text.
pub(crate) mod names {
    use crate::signature::v3::headers as h;
    use reqwest::header::HeaderName;

    /// `host`.
    pub(crate) const HOST: HeaderName = reqwest::header::HOST;
    /// `authorization`.
    pub(crate) const AUTHORIZATION: HeaderName = reqwest::header::AUTHORIZATION;
    /// `x-acs-action`.
    pub(crate) const ACTION: HeaderName = HeaderName::from_static(h::ACTION);
    /// `x-acs-version`.
    pub(crate) const VERSION: HeaderName = HeaderName::from_static(h::VERSION);
    /// `x-acs-date`.
    pub(crate) const DATE: HeaderName = HeaderName::from_static(h::DATE);
    /// `x-acs-signature-nonce`.
    pub(crate) const SIGNATURE_NONCE: HeaderName = HeaderName::from_static(h::SIGNATURE_NONCE);
    /// `x-acs-content-sha256`.
    pub(crate) const CONTENT_SHA256: HeaderName = HeaderName::from_static(h::CONTENT_SHA256);
    /// `x-acs-security-token`.
    pub(crate) const SECURITY_TOKEN: HeaderName = HeaderName::from_static(h::SECURITY_TOKEN);
    /// `x-acs-accesskey-id`.
    pub(crate) const ACCESS_KEY_ID: HeaderName = HeaderName::from_static(h::ACCESS_KEY_ID);
    /// `x-acs-request-id`, of an answer.
    pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static(h::REQUEST_ID);
}

/// The `x-acs-content-sha256` header value of an empty body under `algorithm`
/// ([`Algorithm::empty_body_hash`]), a constant.
pub(crate) const fn empty_body_hash_value(algorithm: Algorithm) -> HeaderValue {
    match algorithm {
        Algorithm::HmacSha256 => HeaderValue::from_static(v3::EMPTY_BODY_SHA256),
        Algorithm::HmacSm3 => HeaderValue::from_static(v3::EMPTY_BODY_SM3),
    }
}

/// Headers only the protocol sets: a call's or an interceptor's header of one of these names is
/// dropped (the client's own value is sent).
const PROTOCOL_HEADERS: [&str; 9] = h::PROTOCOL;

/// Whether `name` is one of the headers only the protocol sets.
pub(crate) fn is_protocol_header(name: &HeaderName) -> bool {
    PROTOCOL_HEADERS.contains(&name.as_str())
}

/// The signed parts of one attempt of `action`, with a fresh nonce and the current UTC time,
/// signed with `credentials`; without them (an anonymous operation) the same protocol fields,
/// unsigned. Under version 3 the `x-acs-*` headers among `extra` (the call's and the
/// interceptors' headers, protocol names already removed) are signed too.
pub(crate) fn signed_parts(
    config: &ClientConfig,
    credentials: Option<&Credentials>,
    action: &'static str,
    op_params: &[WireParam<'_>],
    extra: &HeaderMap,
) -> SignedParts {
    let (nonce, now) = (new_nonce(), now_timestamp());
    let Some(credentials) = credentials else {
        return super::anonymous::unsigned_parts(config, action, &nonce, &now, op_params);
    };
    match config.signature_version {
        SignatureVersion::V1 => {
            let key = signing_key::v1_key(config.fixed_key.as_ref(), &credentials.access_key_secret);
            SignedParts {
                query: String::new(),
                form: build_v1_with(
                    action,
                    config.service.version,
                    credentials,
                    key.as_deref(),
                    &nonce,
                    &now,
                    op_params,
                ),
                headers: Vec::new(),
            }
        }
        SignatureVersion::V3 => {
            let extra_signed: Vec<(&str, &str)> = extra
                .iter()
                .filter(|(name, _)| name.as_str().starts_with("x-acs-"))
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
                .collect();
            let request = V3Request {
                action,
                version: config.service.version,
                creds: credentials,
                host: &config.prebuilt.host,
                nonce,
                date: now,
                op_params,
                body: BODY,
                extra_signed: &extra_signed,
            };
            sign_v3(config.signature_algorithm, config.fixed_key.as_ref(), request)
        }
    }
}

/// The `host` header reqwest (hyper) would derive from `url`: the host, and `:port` unless the
/// port is the scheme's default (which [`Url::port`] never reports). IPv6 hosts keep their brackets.
pub(crate) fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// [`build_v3_with`] without extra headers, with `ACS3-HMAC-SHA256`.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
fn build_v3(
    action: &'static str,
    version: &'static str,
    creds: &Credentials,
    host: &str,
    nonce: &str,
    date: &str,
    op_params: &[WireParam<'_>],
    body: &[u8],
) -> SignedParts {
    build_v3_as(Algorithm::HmacSha256, action, version, creds, host, nonce, date, op_params, body)
}

/// [`build_v3_with`] without extra headers, with `algorithm`.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
fn build_v3_as(
    algorithm: Algorithm,
    action: &'static str,
    version: &'static str,
    creds: &Credentials,
    host: &str,
    nonce: &str,
    date: &str,
    op_params: &[WireParam<'_>],
    body: &[u8],
) -> SignedParts {
    let host = HeaderValue::from_str(host).expect("a valid host in tests");
    let request = V3Request {
        action,
        version,
        creds,
        host: &host,
        nonce: nonce.to_owned(),
        date: date.to_owned(),
        op_params,
        body,
        extra_signed: &[],
    };
    sign_v3(algorithm, None, request)
}

/// Version 3 signed with `algorithm`: with `fixed`'s keyed HMAC when it was keyed with the
/// request's secret, otherwise with one keyed now ([`build_v3_with`]).
fn sign_v3(algorithm: Algorithm, fixed: Option<&FixedKey>, request: V3Request<'_>) -> SignedParts {
    let secret = &request.creds.access_key_secret;
    match algorithm {
        Algorithm::HmacSha256 => {
            let key = signing_key::v3_key(fixed, secret);
            build_v3_with::<Sha256, _>(key.as_deref(), request)
        }
        Algorithm::HmacSm3 => {
            let key = signing_key::v3_sm3_key(fixed, secret);
            build_v3_with::<Sm3, _>(key.as_deref(), request)
        }
    }
}

/// What a version 3 attempt signs, whatever the algorithm.
struct V3Request<'a> {
    action: &'static str,
    version: &'static str,
    creds: &'a Credentials,
    /// `host`, made once per configuration.
    host: &'a HeaderValue,
    nonce: String,
    date: String,
    op_params: &'a [WireParam<'a>],
    body: &'a [u8],
    /// The call's and interceptors' `x-acs-*` headers: signed, and sent by the caller (not
    /// returned here).
    extra_signed: &'a [(&'a str, &'a str)],
}

/// The hash of a version 3 algorithm, tied to it: the signer is instantiated per hash, and the
/// algorithm's name and body hash come from the same type.
trait V3Digest: Digest {
    /// The algorithm whose hash this is.
    const ALGORITHM: Algorithm;
}

impl V3Digest for Sha256 {
    const ALGORITHM: Algorithm = Algorithm::HmacSha256;
}

impl V3Digest for Sm3 {
    const ALGORITHM: Algorithm = Algorithm::HmacSm3;
}

/// Version 3 with the algorithm of `D`: the canonical query of the operation's parameters, the
/// `host` and `x-acs-*` headers (all signed, the request's `extra_signed` among them), and the
/// `authorization` header, for `POST` with the request's body, signed with `key` (the HMAC of
/// `D` keyed by the secret of the request's credentials).
fn build_v3_with<D: V3Digest, M: Mac + Clone>(key: Option<&M>, request: V3Request<'_>) -> SignedParts {
    let algorithm = D::ALGORITHM;
    let V3Request { action, version, creds, host, nonce, date, op_params, body, extra_signed } = request;
    let content_sha256 = if body.is_empty() {
        WireValue::Prebuilt(empty_body_hash_value(algorithm))
    } else {
        WireValue::Owned(algorithm.hash_payload(body))
    };
    let plain = |name, value| WireHeader { name, value, sensitive: false };
    let mut headers: Vec<WireHeader> = Vec::with_capacity(9);
    headers.extend([
        plain(names::HOST, WireValue::Prebuilt(host.clone())),
        plain(names::ACTION, WireValue::Static(action)),
        plain(names::VERSION, WireValue::Static(version)),
        plain(names::DATE, WireValue::Owned(date)),
        plain(names::SIGNATURE_NONCE, WireValue::Owned(nonce)),
        plain(names::CONTENT_SHA256, content_sha256),
    ]);
    if let Some(token) = &creds.security_token {
        headers.push(WireHeader {
            name: names::SECURITY_TOKEN,
            value: WireValue::Owned(token.expose().to_owned()),
            sensitive: true,
        });
        headers.push(plain(names::ACCESS_KEY_ID, WireValue::Owned(creds.access_key_id.clone())));
    }
    let query = canonical_query(as_pairs(op_params));
    let authorization = {
        let mut signed: Vec<(&str, &str)> = Vec::with_capacity(headers.len() + extra_signed.len());
        signed.extend(headers.iter().map(|header| (header.name.as_str(), header.value.as_str())));
        signed.extend_from_slice(extra_signed);
        let hashed_payload = headers
            .iter()
            .find(|header| header.name == names::CONTENT_SHA256)
            .map_or("", |header| header.value.as_str());
        v3_authorization::<D, M>(&creds.access_key_id, key, &query, &mut signed, hashed_payload)
    };
    headers.push(WireHeader { name: names::AUTHORIZATION, value: WireValue::Owned(authorization), sensitive: true });
    SignedParts { query, form: String::new(), headers }
}

/// The version 3 `authorization` value of `POST /?<canonical_query>` with the `signed` headers
/// (lowercase names, each name's values in the order sent), hashed with `D` and signed with `key`
/// (the HMAC keyed by the secret; without one — never, HMAC takes any key — the value has no
/// signature), under `D`'s algorithm: what [`v3::sign_request_with`] computes, hashed as it is
/// written instead of building the canonical request and the string to sign as strings first.
fn v3_authorization<D: V3Digest, M: Mac + Clone>(
    access_key_id: &str,
    key: Option<&M>,
    canonical_query: &str,
    signed: &mut [(&str, &str)],
    hashed_payload: &str,
) -> String {
    let algorithm = D::ALGORITHM;
    // Stable: a repeated header keeps its values in the order sent.
    signed.sort_by(|a, b| a.0.cmp(b.0));
    // The authorization value is written up to its signed header names, which the canonical
    // request needs too: it hashes them from there. It is sized exactly, so the header value takes
    // the text over without another allocation.
    const CREDENTIAL: &str = " Credential=";
    const SIGNED_HEADERS: &str = ",SignedHeaders=";
    const SIGNATURE: &str = ",Signature=";
    // A repeated header is one name (its values a run of the sorted list), `;` between names.
    let same_name = |a: &(&str, &str), b: &(&str, &str)| a.0 == b.0;
    let names_len = signed.chunk_by(same_name).map(|run| run[0].0.len() + 1).sum::<usize>().saturating_sub(1);
    let mut authorization = String::with_capacity(
        algorithm.name().len()
            + CREDENTIAL.len()
            + access_key_id.len()
            + SIGNED_HEADERS.len()
            + names_len
            + SIGNATURE.len()
            + 64,
    );
    authorization.push_str(algorithm.name());
    authorization.push_str(CREDENTIAL);
    authorization.push_str(access_key_id);
    authorization.push_str(SIGNED_HEADERS);
    let names_start = authorization.len();
    let mut canonical = D::new();
    canonical.update(b"POST\n/\n");
    canonical.update(canonical_query.as_bytes());
    canonical.update(b"\n");
    for run in signed.chunk_by(same_name) {
        let name = run[0].0;
        canonical.update(name.as_bytes());
        canonical.update(b":");
        for (i, (_, value)) in run.iter().enumerate() {
            if i > 0 {
                canonical.update(b",");
            }
            canonical.update(value.trim().as_bytes());
        }
        canonical.update(b"\n");
        if authorization.len() > names_start {
            authorization.push(';');
        }
        authorization.push_str(name);
    }
    canonical.update(b"\n");
    canonical.update(&authorization.as_bytes()[names_start..]);
    canonical.update(b"\n");
    canonical.update(hashed_payload.as_bytes());
    let mut hashed_request = [0u8; 64];
    // 32 bytes always fit 64 hex digits.
    let _ = hex::encode_to_slice(canonical.finalize(), &mut hashed_request);

    authorization.push_str(SIGNATURE);
    if let Some(mut mac) = key.cloned() {
        mac.update(algorithm.name().as_bytes());
        mac.update(b"\n");
        mac.update(&hashed_request);
        crate::encoding::push_hex(&mut authorization, &mac.finalize().into_bytes());
    }
    authorization
}

/// [`build_v1_with`], keyed here.
#[cfg(test)]
fn build_v1(
    action: &str,
    version: &str,
    creds: &Credentials,
    nonce: &str,
    timestamp: &str,
    op_params: &[WireParam<'_>],
) -> String {
    let key = v1::keyed(creds.access_key_secret.expose());
    build_v1_with(action, version, creds, key.as_ref(), nonce, timestamp, op_params)
}

/// Version 1.0: common parameters, the operation's parameters, and the signature over all of them
/// for `POST`, sent in the canonical order ([`v1::signed_query`]): the bytes sent are the bytes
/// signed, encoded once. The common parameters are listed in that order already, so only the
/// operation's few are sorted, then merged in.
/// `key` is the HMAC keyed by the secret of `creds`.
fn build_v1_with(
    action: &str,
    version: &str,
    creds: &Credentials,
    key: Option<&Hmac<Sha1>>,
    nonce: &str,
    timestamp: &str,
    op_params: &[WireParam<'_>],
) -> String {
    let token = creds.security_token.as_ref().map(|token| (p::SECURITY_TOKEN, token.expose()));
    let common = [
        Some((p::ACCESS_KEY_ID, creds.access_key_id.as_str())),
        Some((p::ACTION, action)),
        Some((p::FORMAT, "JSON")),
        token,
        Some((p::SIGNATURE_METHOD, p::SIGNATURE_METHOD_HMAC_SHA1)),
        Some((p::SIGNATURE_NONCE, nonce)),
        Some((p::SIGNATURE_TYPE, "")),
        Some((p::SIGNATURE_VERSION, p::SIGNATURE_VERSION_1_0)),
        Some((p::TIMESTAMP, timestamp)),
        Some((p::VERSION, version)),
    ];
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(common.len() + op_params.len());
    pairs.extend(as_pairs(op_params).filter(|(name, _)| *name != v1::SIGNATURE_PARAM));
    pairs.sort_unstable();
    // Merged from the back, in place: `pairs[..own]` holds the operation's pairs not yet moved.
    let mut own = pairs.len();
    pairs.resize(own + common.iter().flatten().count(), ("", ""));
    let mut slot = pairs.len();
    for &pair in common.iter().rev().flatten() {
        while own > 0 && pairs[own - 1] > pair {
            own -= 1;
            slot -= 1;
            pairs[slot] = pairs[own];
        }
        slot -= 1;
        pairs[slot] = pair;
    }
    v1::signed_sorted_query("POST", key, &pairs)
}

/// What the caller asks of one attempt besides the request itself.
pub(crate) struct AttemptSpec<'a> {
    /// The attempt number, 1 for the first.
    pub(crate) attempt: u32,
    /// The call's own extra headers.
    pub(crate) headers: &'a HeaderMap,
    /// The time allowed for the whole attempt.
    pub(crate) timeout: Duration,
}

/// A successful attempt: the response and its `RequestId`, when it had one.
pub(crate) struct Answer<R> {
    pub(crate) response: R,
    pub(crate) request_id: Option<String>,
}

/// One attempt: the interceptors' `before_send`, signing, the exchange, the interceptors'
/// `after_receive`, and reading the answer.
pub(crate) async fn attempt<Op: Operation>(
    http: &reqwest::Client,
    config: &ClientConfig,
    op_params: &[WireParam<'_>],
    spec: AttemptSpec<'_>,
) -> Result<Answer<Op::Response>, AttemptError> {
    let attempt = spec.attempt;
    // Only the credentials of a provider, the exchange and nothing else are awaited: the request
    // is built in plain calls, so the future of a call does not hold it (or the credentials)
    // while the answer is awaited.
    let sending = {
        // The one place an attempt reads the credentials it is signed with: once per attempt, so
        // a refreshed value is used (fixed credentials are borrowed as they are).
        let fixed = config.credentials.fixed_credentials();
        let provided = if Op::ANONYMOUS || fixed.is_some() {
            None
        } else {
            Some(config.credentials.provide_credentials().await.map_err(|e| {
                tracing::debug!(attempt, error = %e, "no credentials to sign with");
                AttemptError::Credentials(e)
            })?)
        };
        let credentials = if Op::ANONYMOUS { None } else { fixed.or(provided.as_ref()) };
        http.execute(request::<Op>(http, config, credentials, op_params, &spec)?)
    };
    let sent = Instant::now();
    let exchange = exchange(sending).await;
    let latency = sent.elapsed();
    answer::<Op>(config, attempt, exchange, latency)
}

/// The signed request of one attempt (interceptors have seen its headers).
// An attempt's error is as large as the attempt's own (`attempt` returns it as it is).
#[allow(clippy::result_large_err)]
fn request<Op: Operation>(
    http: &reqwest::Client,
    config: &ClientConfig,
    credentials: Option<&Credentials>,
    op_params: &[WireParam<'_>],
    spec: &AttemptSpec<'_>,
) -> Result<reqwest::Request, AttemptError> {
    // The call's headers are used as they are (protocol names were refused when they were set);
    // only interceptors need a copy of their own to change.
    let intercepted;
    let extra: &HeaderMap = if config.control.interceptors.is_empty() {
        spec.headers
    } else {
        let mut headers = spec.headers.clone();
        let mut before = BeforeSend { action: Op::ACTION, attempt: spec.attempt, headers: &mut headers };
        for interceptor in &config.control.interceptors {
            interceptor.before_send(&mut before);
        }
        for name in PROTOCOL_HEADERS {
            headers.remove(name);
        }
        intercepted = headers;
        &intercepted
    };
    let parts = signed_parts(config, credentials, Op::ACTION, op_params, extra);

    // The endpoint has no query of its own (checked when configured).
    let mut url = config.endpoint.clone();
    if !parts.query.is_empty() {
        url.set_query(Some(&parts.query));
    }
    tracing::debug!(attempt = spec.attempt, signature_version = %config.signature_version, "sending request");

    // The client this runtime built has the configuration's timeout already: an attempt sets its
    // own only when it differs (a call's timeout, a deadline) or the HTTP client is the
    // application's, sparing reqwest a map of extensions per request.
    let own_timeout = config.control.http_client.is_some() || spec.timeout != config.timeout;
    let timeout = own_timeout.then_some(spec.timeout);
    match build_request(url, timeout, extra, &config.prebuilt, parts.headers, parts.form) {
        Ok(request) => Ok(request),
        // A header value that is not valid (a credential with control characters): reqwest's
        // builder reports it without sending anything or showing the value.
        Err((url, name, value)) => match http.post(url).header(name, value).build() {
            Err(e) => Err(AttemptError::Transport(super::error::redact(e))),
            Ok(request) => Ok(request),
        },
    }
}

/// What one attempt's exchange means: the decoded response, or the failure.
#[allow(clippy::result_large_err)]
fn answer<Op: Operation>(
    config: &ClientConfig,
    attempt: u32,
    exchange: Result<Exchanged, (reqwest::Error, Option<u16>)>,
    latency: Duration,
) -> Result<Answer<Op::Response>, AttemptError> {
    let (status, headers, body, truncated) = match exchange {
        Ok(parts) => parts,
        Err((e, status)) => {
            let e = super::error::redact(e);
            let kind = super::error::classify(&e);
            tracing::debug!(attempt, kind = %kind, status, error = %e, "request failed");
            let after = AfterReceive {
                action: Op::ACTION,
                attempt,
                status,
                headers: None,
                request_id: None,
                latency,
                transport_error: Some(kind),
            };
            for interceptor in &config.control.interceptors {
                interceptor.after_receive(&after);
            }
            return Err(AttemptError::Transport(e));
        }
    };

    let header_request_id = headers.get(names::REQUEST_ID).and_then(|v| v.to_str().ok());
    let request_id = header_request_id.map(str::to_owned).or_else(|| body_request_id(&body));
    let after = AfterReceive {
        action: Op::ACTION,
        attempt,
        status: Some(status.as_u16()),
        headers: Some(&headers),
        request_id: request_id.as_deref(),
        latency,
        transport_error: None,
    };
    for interceptor in &config.control.interceptors {
        interceptor.after_receive(&after);
    }

    if status.is_success() {
        if truncated {
            return Err(AttemptError::Decode(DecodeError::new(
                Op::ACTION,
                status.as_u16(),
                request_id,
                format!("the response body exceeds {MAX_BODY_BYTES} bytes"),
                excerpt(&body),
            )));
        }
        match decode_json::<Op::Response>(&body) {
            Ok(response) => {
                tracing::debug!(
                    attempt,
                    status = status.as_u16(),
                    request_id = request_id.as_deref().unwrap_or(""),
                    "success"
                );
                Ok(Answer { response, request_id })
            }
            Err(e) => {
                tracing::debug!(attempt, status = status.as_u16(), "undecodable response");
                Err(AttemptError::Decode(DecodeError::new(
                    Op::ACTION,
                    status.as_u16(),
                    request_id,
                    e.to_string(),
                    excerpt(&body),
                )))
            }
        }
    } else {
        let error = api_error(status, header_request_id.map(str::to_owned), &body);
        let retry_after = server_delay(&headers, SystemTime::now());
        tracing::debug!(
            attempt,
            status = error.status,
            code = %error.code,
            request_id = %error.request_id,
            retry_after_ms = retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            "error response"
        );
        Err(AttemptError::Api { error, retry_after })
    }
}

/// The request of one attempt: `POST url` with the `form` body (none when empty) and `timeout`
/// (none: the HTTP client's); the call's (and interceptors') headers, `accept`, `user-agent`, the
/// form's `content-type` and the protocol's headers, in that order (appended, so nothing replaces
/// what came before). The one value that is not a valid header value is handed back with its name
/// (and the URL) instead.
///
/// Without extra headers, the map is a copy of `prebuilt`'s template — the same names, in the
/// same order, with empty static values (so copying one touches no shared count) — whose values
/// are then put in place. A copy holds exactly its entries, where a map filled one header at a
/// time reserves room for more: a version 3 attempt's nine headers take a 1,248-byte block that
/// way, beyond the allocator's per-thread cache, and 936 bytes as a copy.
#[allow(clippy::result_large_err)]
fn build_request(
    url: Url,
    timeout: Option<Duration>,
    extra: &HeaderMap,
    prebuilt: &PrebuiltHeaders,
    protocol: Vec<WireHeader>,
    form: String,
) -> Result<reqwest::Request, (Url, HeaderName, String)> {
    let mut request = reqwest::Request::new(reqwest::Method::POST, url);
    if timeout.is_some() {
        *request.timeout_mut() = timeout;
    }
    let has_form = !form.is_empty();
    if has_form {
        *request.body_mut() = Some(form.into());
    }
    let own = [
        (reqwest::header::ACCEPT, HeaderValue::from_static("application/json")),
        (reqwest::header::USER_AGENT, prebuilt.user_agent.clone()),
        (reqwest::header::CONTENT_TYPE, FORM),
    ];
    let own = &own[..if has_form { 3 } else { 2 }];
    let names = || own.iter().map(|(name, _)| name).chain(protocol.iter().map(|header| &header.name));
    let template = if extra.is_empty() {
        let template = prebuilt.template.get_or_init(|| {
            let mut template = HeaderMap::with_capacity(own.len() + protocol.len() + ROOM);
            for name in names() {
                template.append(name.clone(), EMPTY_VALUE);
            }
            template
        });
        Some(template).filter(|template| template.len() == own.len() + protocol.len() && template.keys().eq(names()))
    } else {
        None
    };
    let unsendable = |(name, value): (HeaderName, String)| (request.url().clone(), name, value);
    let headers = match template {
        Some(template) => {
            let mut headers = template.clone();
            let mut slots = headers.values_mut();
            // `own` first: a zip stops at its first side's end without taking from the second.
            for ((_, value), slot) in own.iter().zip(slots.by_ref()) {
                *slot = value.clone();
            }
            for (header, slot) in protocol.into_iter().zip(slots) {
                *slot = header.into_pair().map_err(unsendable)?.1;
            }
            headers
        }
        None => {
            let mut headers = HeaderMap::with_capacity(extra.len() + own.len() + protocol.len() + ROOM);
            for (name, value) in extra.iter().chain(own.iter().map(|(name, value)| (name, value))) {
                headers.append(name.clone(), value.clone());
            }
            for header in protocol {
                let (name, value) = header.into_pair().map_err(unsendable)?;
                headers.append(name, value);
            }
            headers
        }
    };
    *request.headers_mut() = headers;
    Ok(request)
}

/// Room for one more header in every request's map. reqwest looks its default headers up with
/// `HeaderMap::entry`, which first makes room for an insert: in a map as full as its index allows
/// (three headers in an index of four, six in eight, twelve in sixteen — version 1.0's three),
/// that is a new index and a larger block of entries on every request, even though the names
/// are there and nothing is inserted. A copy keeps its original's index, so the template's room
/// carries over to every copy.
const ROOM: usize = 1;

/// The value of every header of a [`PrebuiltHeaders::template`]: each is replaced before sending.
const EMPTY_VALUE: HeaderValue = HeaderValue::from_static("");

/// A whole answer: status, headers, body (at most [`MAX_BODY_BYTES`]) and whether it was cut off.
type Exchanged = (StatusCode, HeaderMap, Bytes, bool);

/// Awaits the answer to the request `sending` sends and reads all of it; or the failure, with
/// the status when the failure came while reading the body.
async fn exchange(
    sending: impl Future<Output = reqwest::Result<reqwest::Response>>,
) -> Result<Exchanged, (reqwest::Error, Option<u16>)> {
    let mut response = sending.await.map_err(|e| (e, None))?;
    let status = response.status();
    let (body, truncated) = read_body(&mut response).await.map_err(|e| (e, Some(status.as_u16())))?;
    Ok((status, std::mem::take(response.headers_mut()), body, truncated))
}

/// Reads at most [`MAX_BODY_BYTES`]; the flag says whether the body was cut off. An answer that
/// arrives in one piece (a small one, as API answers are) is kept as it came, not copied; only a
/// body in several pieces is gathered into one buffer.
async fn read_body(response: &mut reqwest::Response) -> Result<(Bytes, bool), reqwest::Error> {
    let Some(first) = response.chunk().await? else { return Ok((Bytes::new(), false)) };
    if first.len() > MAX_BODY_BYTES {
        return Ok((first.slice(..MAX_BODY_BYTES), true));
    }
    let Some(second) = response.chunk().await? else { return Ok((first, false)) };
    let expected = response.content_length().map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut body = BytesMut::with_capacity(expected.min(64 * 1024).max(first.len() + second.len()));
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let room = MAX_BODY_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body.freeze(), true));
        }
        body.extend_from_slice(&chunk);
        next = response.chunk().await?;
    }
    Ok((body.freeze(), false))
}

/// A JSON body decoded as `T`. A body that is UTF-8 as a whole (every well-formed answer) is
/// checked once and read as text, so the parser does not check each of its strings again (a
/// Describe page holds about a hundred: a tenth of a call's instructions, callgrind); any other
/// body is handed to the byte parser, which says where the bad bytes are.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// An [`ApiError`] from a non-2xx answer: the envelope when the body is one, otherwise a synthetic
/// error with code `HTTP<status>` and the start of the body as message.
pub(crate) fn api_error(status: reqwest::StatusCode, header_request_id: Option<String>, body: &[u8]) -> ApiError {
    match decode_json::<ErrorBody>(body) {
        Ok(mut envelope) if !envelope.code.is_empty() => {
            if envelope.request_id.is_empty() {
                envelope.request_id = header_request_id.unwrap_or_default();
            }
            ApiError::from_body(status.as_u16(), envelope)
        }
        _ => {
            let reason = status.canonical_reason().unwrap_or("");
            let shown = excerpt(body);
            let message = if shown.trim().is_empty() {
                format!("HTTP {} {reason} with an empty body", status.as_u16())
            } else {
                format!("HTTP {} {reason} with a body that is not an error envelope: {shown}", status.as_u16())
            };
            ApiError {
                status: status.as_u16(),
                request_id: header_request_id.or_else(|| body_request_id(body)).unwrap_or_default(),
                host_id: String::new(),
                code: format!("HTTP{}", status.as_u16()),
                message,
                recommend: String::new(),
            }
        }
    }
}

/// `RequestId` of a JSON object body, if any (for answers without the `x-acs-request-id` header).
/// Read into a struct of that one field: the rest of the body is skipped, not built into a tree.
fn body_request_id(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct RequestIdOnly<'a> {
        #[serde(rename = "RequestId", borrow, default)]
        request_id: Option<std::borrow::Cow<'a, str>>,
    }
    // Objects only: a struct would also take its fields from an array, by position.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    let only: RequestIdOnly<'_> = serde_json::from_slice(body).ok()?;
    only.request_id.filter(|id| !id.is_empty()).map(std::borrow::Cow::into_owned)
}

/// The start of a body, lossily decoded, at most [`EXCERPT_CHARS`] characters (`…` if cut).
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::ServiceInfo;
    use crate::signature::v3::{Authorization, EMPTY_BODY_SHA256};

    static SERVICE: ServiceInfo = ServiceInfo {
        product: "Smartag",
        version: "2018-03-13",
        endpoint_pattern: "https://smartag.{region}.aliyuncs.com",
    };

    fn vector_params() -> Vec<WireParam<'static>> {
        [
            ("RegionId", "cn-shanghai"),
            ("SmartAGId", "sag-1"),
            ("UserMail", "a@b.c"),
            ("Bandwidth", "20"),
            ("UserName", "space user*~"),
        ]
        .into_iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect()
    }

    fn header<'a>(parts: &'a SignedParts, name: &str) -> Option<&'a str> {
        parts.headers.iter().find(|h| h.name == name).map(|h| h.value.as_str())
    }

    /// Version 1.0 queries: every parameter in the canonical order, then the signature, which is
    /// the one the client computed before version 3 existed (recorded from that code), with and
    /// without a security token.
    #[test]
    fn v1_query_is_the_canonical_query_and_the_recorded_signature() {
        let nonce = "be0f3689699f7df44d827051f09f5be2";
        let ts = "2026-11-23T01:09:05Z";
        let with_token = build_v1(
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret").with_security_token("tok/en+="),
            nonce,
            ts,
            &[
                ("RegionId".into(), "cn-shanghai".into()),
                ("UserName".into(), "space user*~".into()),
                ("Password".into(), "p@ss w+rd/&=Zz9".into()),
            ],
        );
        assert_eq!(
            with_token,
            "AccessKeyId=testid&Action=CreateSmartAccessGatewayClientUser&Format=JSON\
&Password=p%40ss%20w%2Brd%2F%26%3DZz9&RegionId=cn-shanghai&SecurityToken=tok%2Fen%2B%3D&SignatureMethod=HMAC-SHA1\
&SignatureNonce=be0f3689699f7df44d827051f09f5be2&SignatureType=&SignatureVersion=1.0\
&Timestamp=2026-11-23T01%3A09%3A05Z&UserName=space%20user%2A~&Version=2018-03-13\
&Signature=G1MQ%2FP2CA0wvGAJo20yRGfwxb5U%3D"
        );
        let mut params = vector_params();
        params.rotate_left(1); // the order `to_params` gave, RegionId last
        let plain = build_v1(
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret"),
            nonce,
            ts,
            &params,
        );
        assert_eq!(
            plain,
            "AccessKeyId=testid&Action=CreateSmartAccessGatewayClientUser&Bandwidth=20&Format=JSON\
&RegionId=cn-shanghai&SignatureMethod=HMAC-SHA1&SignatureNonce=be0f3689699f7df44d827051f09f5be2&SignatureType=\
&SignatureVersion=1.0&SmartAGId=sag-1&Timestamp=2026-11-23T01%3A09%3A05Z&UserMail=a%40b.c\
&UserName=space%20user%2A~&Version=2018-03-13&Signature=Szk4BM%2BDeJ9LpcoUG51spfu2Xpw%3D"
        );
    }

    /// A body read as text decodes as the byte parser decodes it; a body that is not UTF-8 still
    /// gets the byte parser's error, which says where.
    #[test]
    fn json_bodies_decode_as_text_or_report_where_they_break() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Answer {
            #[serde(rename = "Name")]
            name: String,
        }
        let body = r#"{"Name":"用户 \"q\" \u00e9"}"#.as_bytes();
        let text: Answer = decode_json(body).unwrap();
        assert_eq!(text, serde_json::from_slice::<Answer>(body).unwrap());
        assert_eq!(text.name, "用户 \"q\" é");
        let broken = b"{\"Name\":\"ab\xff\"}";
        let error = decode_json::<Answer>(broken).unwrap_err().to_string();
        assert!(error.contains("line 1 column"), "{error}");
    }

    /// The merge of the (pre-sorted) common parameters with the operation's gives exactly the
    /// canonical order a full sort gives, whatever the operation's names: before, between and
    /// after the common ones, repeated, equal to one of them, with and without a security token.
    #[test]
    fn v1_merge_is_the_full_sort() {
        use proptest::prelude::*;
        let check = |params: &[(String, String)], token: bool| {
            let mut creds = Credentials::new("id", "s3cr&t");
            if token {
                creds = creds.with_security_token("tok");
            }
            let op: Vec<WireParam<'_>> = params.iter().map(|(n, v)| (n.clone().into(), v.as_str().into())).collect();
            let merged = build_v1("Act", "2018-03-13", &creds, "nonce", "2026-01-01T00:00:00Z", &op);
            let mut all = vec![
                ("Action", "Act"),
                ("Version", "2018-03-13"),
                ("Format", "JSON"),
                ("AccessKeyId", "id"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureType", ""),
                ("SignatureVersion", "1.0"),
                ("SignatureNonce", "nonce"),
                ("Timestamp", "2026-01-01T00:00:00Z"),
            ];
            if token {
                all.push(("SecurityToken", "tok"));
            }
            all.extend(params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            assert_eq!(merged, v1::signed_query("POST", "s3cr&t", all), "{params:?}");
        };
        const NAMES: [&str; 10] =
            ["A", "Action", "Format", "Page", "RegionId", "Se", "SignatureZ", "Signature", "Tag.1", "Zed"];
        for token in [false, true] {
            check(&[], token);
            check(&NAMES.iter().map(|n| (n.to_string(), "v".to_string())).collect::<Vec<_>>(), token);
        }
        let name = proptest::sample::select(&NAMES[..])
            .prop_map(str::to_owned)
            .boxed()
            .prop_union("[A-Za-z.0-9]{1,12}".boxed());
        proptest!(|(params in proptest::collection::vec((name, "\\PC{0,6}"), 0..8), token: bool)| check(&params, token));
    }

    /// The version 3 Smartag vector of shared/wire-protocol.md, through the client's own header
    /// set: the six headers it signs without STS are exactly the vector's six.
    /// The Smartag vector signed with `ACS3-HMAC-SM3`: the expected value is what the Python Tea
    /// SDK's own signer (`alibabacloud_tea_openapi.utils.Utils.get_authorization`, 0.4.6, with
    /// `sign_type='ACS3-HMAC-SM3'` and the SM3 of the empty body as `x-acs-content-sha256`)
    /// computes for the same request.
    #[test]
    fn v3_sm3_smartag_vector_of_the_tea_sdk() {
        let parts = smartag_vector_parts(Algorithm::HmacSm3);
        assert_eq!(header(&parts, "x-acs-content-sha256"), Some(v3::EMPTY_BODY_SM3));
        assert_eq!(
            header(&parts, "authorization"),
            Some(
                "ACS3-HMAC-SM3 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;\
x-acs-signature-nonce;x-acs-version,Signature=5982ac377e1054c7028717f8e20319fdf629b5c8faebbc914efda2749165c08b"
            )
        );
        let with_body =
            build_v3_as(Algorithm::HmacSm3, "A", "V", &Credentials::new("id", "s"), "h", "n", "d", &[], b"abc");
        assert_eq!(
            header(&with_body, "x-acs-content-sha256"),
            Some("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
            "SM3(\"abc\"), GB/T 32905's first example"
        );
    }

    /// The request of shared/wire-protocol.md's Smartag vector, signed with `algorithm`.
    fn smartag_vector_parts(algorithm: Algorithm) -> SignedParts {
        build_v3_as(
            algorithm,
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret"),
            "smartag.cn-shanghai.aliyuncs.com",
            "be0f3689699f7df44d827051f09f5be2",
            "2026-11-23T01:09:05Z",
            &vector_params(),
            b"",
        )
    }

    #[test]
    fn v3_smartag_vector() {
        let parts = smartag_vector_parts(Algorithm::HmacSha256);
        assert_eq!(
            parts.query,
            "Bandwidth=20&RegionId=cn-shanghai&SmartAGId=sag-1&UserMail=a%40b.c&UserName=space%20user%2A~"
        );
        let sent: Vec<(&str, &str, bool)> =
            parts.headers.iter().map(|h| (h.name.as_str(), h.value.as_str(), h.sensitive)).collect();
        assert_eq!(
            sent,
            [
                ("host", "smartag.cn-shanghai.aliyuncs.com", false),
                ("x-acs-action", "CreateSmartAccessGatewayClientUser", false),
                ("x-acs-version", "2018-03-13", false),
                ("x-acs-date", "2026-11-23T01:09:05Z", false),
                ("x-acs-signature-nonce", "be0f3689699f7df44d827051f09f5be2", false),
                ("x-acs-content-sha256", EMPTY_BODY_SHA256, false),
                (
                    "authorization",
                    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;\
x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=4411bfdbd0e192bc6e4f7284742554646a03d6c569f82c323d0308d5fff9e9dd",
                    true
                ),
            ]
        );
    }

    #[test]
    fn v3_content_hash_is_of_the_body() {
        let parts = build_v3("A", "V", &Credentials::new("id", "s"), "h", "n", "d", &[], b"abc");
        assert_eq!(
            header(&parts, "x-acs-content-sha256"),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(parts.query, "");
    }

    #[test]
    fn v3_security_token_is_a_signed_header() {
        let creds = Credentials::new("testid", "testsecret").with_security_token("tok/en+=");
        let parts = build_v3("A", "V", &creds, "h:8080", "n", "d", &vector_params(), b"");
        assert_eq!(header(&parts, "x-acs-security-token"), Some("tok/en+="));
        assert_eq!(header(&parts, "x-acs-accesskey-id"), Some("testid"));
        assert!(!parts.query.contains("SecurityToken") && !parts.query.contains("tok"), "{}", parts.query);
        let sensitive: Vec<&str> = parts.headers.iter().filter(|h| h.sensitive).map(|h| h.name.as_str()).collect();
        assert_eq!(sensitive, ["x-acs-security-token", "authorization"]);
        let auth = Authorization::parse(header(&parts, "authorization").unwrap_or_default()).unwrap();
        assert_eq!(auth.credential, "testid");
        assert_eq!(
            auth.signed_headers,
            [
                "host",
                "x-acs-accesskey-id",
                "x-acs-action",
                "x-acs-content-sha256",
                "x-acs-date",
                "x-acs-security-token",
                "x-acs-signature-nonce",
                "x-acs-version"
            ]
        );
        // The token is covered by the signature.
        let other =
            build_v3("A", "V", &creds.clone().with_security_token("other"), "h:8080", "n", "d", &vector_params(), b"");
        assert_ne!(header(&parts, "authorization"), header(&other, "authorization"));
    }

    #[test]
    fn host_header_is_what_hyper_sends() {
        for (endpoint, host) in [
            ("https://smartag.cn-shanghai.aliyuncs.com", "smartag.cn-shanghai.aliyuncs.com"),
            ("https://smartag.cn-shanghai.aliyuncs.com:443/", "smartag.cn-shanghai.aliyuncs.com"),
            ("https://example.com:8443/smartag/", "example.com:8443"),
            ("http://127.0.0.1:80", "127.0.0.1"),
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
            ("http://127.0.0.1:443", "127.0.0.1:443"),
            ("http://[::1]:8080", "[::1]:8080"),
            ("http://EXAMPLE.com", "example.com"),
        ] {
            let url = Url::parse(endpoint).unwrap();
            assert_eq!(host_header(&url), host, "{endpoint}");
        }
    }

    #[test]
    fn signed_parts_follow_the_configured_version_and_are_fresh() {
        let config = |version| {
            ClientConfig::builder(&SERVICE)
                .region("cn-shanghai")
                .endpoint("http://127.0.0.1:8080")
                .credentials(Credentials::new("id", "secret"))
                .signature_version(version)
                .build()
                .unwrap()
        };
        let params = vector_params();
        let creds = Credentials::new("id", "secret");

        let v1 = config(SignatureVersion::V1);
        let none = HeaderMap::new();
        let (a, b) = (
            signed_parts(&v1, Some(&creds), "A", &params, &none),
            signed_parts(&v1, Some(&creds), "A", &params, &none),
        );
        assert!(a.headers.is_empty());
        assert_eq!(a.query, "", "version 1.0 sends its parameters in the form body");
        assert!(a.form.starts_with("AccessKeyId=id&Action=A&"), "{}", a.form);
        assert!(a.form.contains("&Version=2018-03-13&Signature="), "{}", a.form);
        let nonce = |q: &str| q.split('&').find(|p| p.starts_with("SignatureNonce=")).map(str::to_owned);
        assert!(nonce(&a.form).is_some());
        assert_ne!(nonce(&a.form), nonce(&b.form), "a fresh nonce per attempt");

        let v3 = config(SignatureVersion::V3);
        let (a, b) = (
            signed_parts(&v3, Some(&creds), "A", &params, &none),
            signed_parts(&v3, Some(&creds), "A", &params, &none),
        );
        assert_eq!(a.query, canonical_query(as_pairs(&params)));
        assert_eq!(a.form, "", "version 3 sends an empty body");
        assert_eq!(header(&a, "host"), Some("127.0.0.1:8080"));
        assert_eq!(header(&a, "x-acs-action"), Some("A"));
        assert_eq!(header(&a, "x-acs-version"), Some("2018-03-13"));
        assert!(header(&a, "x-acs-date").and_then(crate::signature::parse_timestamp).is_some());
        assert!(header(&a, "x-acs-signature-nonce").is_some_and(|n| n.len() == 32));
        assert_ne!(header(&a, "x-acs-signature-nonce"), header(&b, "x-acs-signature-nonce"));
        assert_ne!(header(&a, "authorization"), header(&b, "authorization"));
        assert!(header(&a, "authorization").is_some_and(|v| v.starts_with("ACS3-HMAC-SHA256 Credential=id,")));
        assert_eq!(header(&a, "x-acs-content-sha256"), Some(v3::EMPTY_BODY_SHA256));

        let sm3 = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new("id", "secret"))
            .signature_algorithm(Algorithm::HmacSm3)
            .build()
            .unwrap();
        let a = signed_parts(&sm3, Some(&creds), "A", &params, &none);
        assert!(header(&a, "authorization").is_some_and(|v| v.starts_with("ACS3-HMAC-SM3 Credential=id,")));
        assert_eq!(header(&a, "x-acs-content-sha256"), Some(v3::EMPTY_BODY_SM3));
        assert_eq!(a.query, canonical_query(as_pairs(&params)));
        let refused = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new("id", "secret"))
            .signature_version(SignatureVersion::V1)
            .signature_algorithm(Algorithm::HmacSm3)
            .build()
            .unwrap_err();
        assert!(refused.to_string().contains("ACS3-HMAC-SM3 belongs to signature version 3"), "{refused}");
    }

    /// The streaming signer gives exactly what the reference signer of `signature::v3` gives,
    /// repeated and padded extra headers included.
    #[test]
    fn streaming_v3_signature_equals_the_reference() {
        let query = canonical_query(as_pairs(&vector_params()));
        let cases: [&[(&str, &str)]; 4] = [
            &[("host", "example.com"), ("x-acs-action", "A"), ("x-acs-date", "2026-11-23T01:09:05Z")],
            &[
                ("x-acs-version", "2018-03-13"),
                ("host", "127.0.0.1:8080"),
                ("x-acs-trace", " padded "),
                ("x-acs-action", "Describe"),
                ("x-acs-trace", "second"),
                ("x-acs-security-token", "tok/en+="),
                ("x-acs-accesskey-id", "testid"),
            ],
            &[("x-acs-b", ""), ("x-acs-a", "1"), ("x-acs-b", "2"), ("x-acs-a", "3")],
            &[],
        ];
        for headers in cases {
            for algorithm in Algorithm::ALL {
                let hashed = algorithm.empty_body_hash();
                let reference =
                    v3::sign_request_with(algorithm, "testid", "testsecret", "POST", &query, headers, hashed)
                        .authorization;
                let mut signed = headers.to_vec();
                let streamed = match algorithm {
                    Algorithm::HmacSha256 => {
                        let key = v3::keyed("testsecret");
                        v3_authorization::<Sha256, _>("testid", key.as_ref(), &query, &mut signed, hashed)
                    }
                    Algorithm::HmacSm3 => {
                        let key = v3::keyed_sm3("testsecret");
                        v3_authorization::<Sm3, _>("testid", key.as_ref(), &query, &mut signed, hashed)
                    }
                };
                assert_eq!(streamed, reference, "{algorithm} {headers:?}");
                // Sized exactly: the header value takes the text over without a copy.
                assert_eq!(streamed.capacity(), streamed.len(), "{headers:?}");
            }
        }
        let body_hash = v3::hash_payload(b"body");
        let with_body =
            v3::sign_request_with(Algorithm::HmacSha256, "id", "s", "POST", "", &[("host", "h")], &body_hash)
                .authorization;
        let key = v3::keyed("s");
        let streamed = v3_authorization::<Sha256, _>("id", key.as_ref(), "", &mut [("host", "h")], &body_hash);
        assert_eq!(streamed, with_body);
    }

    /// The request of shared/wire-protocol.md as the official Python SDK sends it.
    #[test]
    fn python_sdk_vector() {
        let query = build_v1(
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret"),
            "be0f3689699f7df44d827051f09f5be2",
            "2026-11-23T01:09:05Z",
            &[
                ("RegionId".into(), "cn-shanghai".into()),
                ("SmartAGId".into(), "sag-1".into()),
                ("UserMail".into(), "a@b.c".into()),
                ("Bandwidth".into(), "20".into()),
                ("UserName".into(), "space user*~".into()),
            ],
        );
        assert!(query.ends_with("&Signature=Szk4BM%2BDeJ9LpcoUG51spfu2Xpw%3D"), "{query}");
        assert!(query.contains("&SignatureType=&"), "{query}");
        assert!(query.contains("&UserName=space%20user%2A~"), "{query}");
        assert!(query.contains("&Timestamp=2026-11-23T01%3A09%3A05Z"), "{query}");
        assert!(query.contains("&UserMail=a%40b.c"), "{query}");
    }

    #[test]
    fn security_token_is_signed_and_sent() {
        let creds = Credentials::new("testid", "testsecret").with_security_token("tok/en+=");
        let query = build_v1("A", "V", &creds, "n", "t", &[]);
        assert!(query.contains("&SecurityToken=tok%2Fen%2B%3D&"), "{query}");
        let plain = build_v1("A", "V", &Credentials::new("testid", "testsecret"), "n", "t", &[]);
        let sig = |q: &str| q.rsplit_once("&Signature=").map(|(_, s)| s.to_string());
        assert_ne!(sig(&query), sig(&plain));
    }

    #[test]
    fn envelope_becomes_api_error() {
        let body =
            br#"{"RequestId":"r-1","HostId":"h","Code":"Throttling","Message":"slow down","Recommend":"https://x"}"#;
        let e = api_error(reqwest::StatusCode::BAD_REQUEST, Some("hdr".into()), body);
        assert_eq!(e.status, 400);
        assert_eq!(e.request_id, "r-1");
        assert_eq!(e.host_id, "h");
        assert_eq!(e.code, "Throttling");
        assert_eq!(e.message, "slow down");
        assert_eq!(e.recommend, "https://x");
    }

    #[test]
    fn envelope_without_request_id_uses_header() {
        let body = br#"{"Code":"X","Message":"m"}"#;
        let e = api_error(reqwest::StatusCode::FORBIDDEN, Some("hdr".into()), body);
        assert_eq!(e.request_id, "hdr");
        assert_eq!(e.code, "X");
    }

    #[test]
    fn non_envelope_is_synthetic() {
        let e = api_error(reqwest::StatusCode::BAD_GATEWAY, None, b"<html>bad gateway</html>");
        assert_eq!(e.status, 502);
        assert_eq!(e.code, "HTTP502");
        assert!(e.message.contains("<html>bad gateway</html>"), "{}", e.message);
        assert!(e.message.contains("Bad Gateway"), "{}", e.message);

        let e = api_error(reqwest::StatusCode::SERVICE_UNAVAILABLE, None, b"");
        assert_eq!(e.code, "HTTP503");
        assert!(e.message.contains("empty body"));

        // JSON, but no Code: still not an envelope.
        let e = api_error(reqwest::StatusCode::NOT_FOUND, None, br#"{"RequestId":"r-9"}"#);
        assert_eq!(e.code, "HTTP404");
        assert_eq!(e.request_id, "r-9");
    }

    #[test]
    fn a_body_request_id_is_the_top_level_field_only() {
        let id = |body: &str| body_request_id(body.as_bytes());
        assert_eq!(
            id(r#"{"Users":{"User":[{"RequestId":"inner"}]},"RequestId":"req-1","TotalCount":3}"#).as_deref(),
            Some("req-1")
        );
        assert_eq!(id(r#" {"RequestId":"a\"b\u0041"}"#).as_deref(), Some("a\"bA"), "escapes are decoded");
        assert_eq!(id(r#"{"Users":{"RequestId":"inner"}}"#), None);
        assert_eq!(id(r#"{"RequestId":""}"#), None);
        assert_eq!(id(r#"["req-1"]"#), None, "an array is not an envelope");
        assert_eq!(id(r#"{"RequestId":7}"#), None);
        assert_eq!(id("<html>502</html>"), None);
        assert_eq!(id(""), None);
    }

    #[test]
    fn excerpt_is_short_and_char_safe() {
        let long = "é".repeat(1000);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(b"short"), "short");
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
    }
}
