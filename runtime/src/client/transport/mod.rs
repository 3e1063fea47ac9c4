//! One attempt: signing (version 1.0 or 3), the HTTP exchange, and reading the answer.
//!
//! Both versions send `POST` to the endpoint with `accept: application/json` and the configured
//! `user-agent`; they differ in where the parameters and the protocol fields travel:
//!
//! - **Version 3** (`ACS3-HMAC-SHA256`, the default): `POST /?<query>` with an empty body, as the
//!   Python Tea SDK sends it. The query holds the operation's parameters only, in the canonical
//!   encoding and order ([`canonical_query`](crate::signature::canonical_query)), so the bytes
//!   sent are the bytes signed. The protocol fields are headers: `host` (the endpoint's
//!   `host[:port]`, set explicitly so the value signed is the value sent), `x-acs-action`,
//!   `x-acs-version`, `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` (hash of the body actually sent)
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
//!
//! An attempt ([`attempt`], here) goes through the submodules in order: [`sign`] makes the
//! [`parts`] the wire carries ([`sign_v3`] or [`sign_v1`]), [`http_request`] turns them into the
//! `reqwest::Request`, and [`reading`] reads and decodes the answer.

mod http_request;
mod parts;
mod reading;
mod sign;
mod sign_v1;
mod sign_v3;

use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderMap;

use crate::errors::ApiError;
use crate::flatten::WireParam;
use crate::operation::Operation;

use super::config::ClientConfig;
use super::credentials::{Credentials, CredentialsError, ProvideCredentials};
use super::error::{DecodeError, InvokeError, TransportError, TransportErrorKind};
use super::interceptor::{AfterReceive, BeforeSend};
use super::retry::server_delay;

use http_request::build_request;
use parts::PROTOCOL_HEADERS;
pub(crate) use parts::{
    SignedParts, WireHeader, WireValue, empty_body_hash_value, host_header, is_protocol_header, names,
};
use reading::{Exchanged, MAX_BODY_BYTES, api_error, body_request_id, decode_json, excerpt, exchange};
use sign::signed_parts;

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
