//! One attempt: common parameters, signing, the HTTP exchange, and reading the answer.

use crate::encoding::percent_encode;
use crate::errors::{ApiError, ErrorBody};
use crate::operation::Operation;
use crate::signature::{new_nonce, now_timestamp, sign, string_to_sign};

use super::config::ClientConfig;
use super::credentials::Credentials;
use super::error::{DecodeError, InvokeError, TransportError};

/// Largest response body read; anything beyond is cut off (no API response comes near it).
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Characters of a body kept in error messages.
const EXCERPT_CHARS: usize = 256;
/// Header in which Alibaba Cloud gateways repeat the request id.
const REQUEST_ID_HEADER: &str = "x-acs-request-id";

/// Why one attempt failed, before the retry decision.
pub(crate) enum Failure {
    Api(ApiError),
    Transport(reqwest::Error),
    Decode(DecodeError),
}

impl Failure {
    /// A short, secret-free reason for logs.
    pub(crate) fn reason(&self) -> String {
        match self {
            Failure::Api(e) => format!("HTTP {} {}", e.status, e.code),
            Failure::Transport(e) => super::error::classify(e).to_string(),
            Failure::Decode(_) => "undecodable response".to_string(),
        }
    }

    pub(crate) fn into_error(self, action: &'static str, attempts: u32) -> InvokeError {
        match self {
            Failure::Api(e) => InvokeError::Api(e),
            Failure::Transport(e) => InvokeError::Transport(TransportError::new(action, attempts, e)),
            Failure::Decode(e) => InvokeError::Decode(e),
        }
    }
}

/// The query of one attempt: common parameters (fresh nonce and timestamp), the operation's
/// parameters, and the signature over all of them for `POST`.
pub(crate) fn signed_query<Op: Operation>(config: &ClientConfig, op_params: &[(&'static str, String)]) -> String {
    build_query(Op::ACTION, config.service.version, &config.credentials, &new_nonce(), &now_timestamp(), op_params)
}

/// [`signed_query`] with the nonce and timestamp given. Names and values are encoded with
/// [`percent_encode`], so the bytes sent are the bytes signed.
fn build_query(
    action: &str,
    version: &str,
    creds: &Credentials,
    nonce: &str,
    timestamp: &str,
    op_params: &[(&'static str, String)],
) -> String {
    let mut params: Vec<(&str, &str)> = Vec::with_capacity(11 + op_params.len());
    params.extend([
        ("Action", action),
        ("Version", version),
        ("Format", "JSON"),
        ("AccessKeyId", creds.access_key_id.as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureType", ""),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("Timestamp", timestamp),
    ]);
    if let Some(token) = &creds.security_token {
        params.push(("SecurityToken", token.expose()));
    }
    params.extend(op_params.iter().map(|(name, value)| (*name, value.as_str())));

    let to_sign = string_to_sign("POST", params.iter().copied());
    let signature = sign(creds.access_key_secret.expose(), &to_sign);

    let mut query = String::with_capacity(512);
    for (name, value) in params.iter().copied().chain(std::iter::once(("Signature", signature.as_str()))) {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&percent_encode(name));
        query.push('=');
        query.push_str(&percent_encode(value));
    }
    query
}

/// Sends one signed attempt and interprets the answer.
pub(crate) async fn attempt<Op: Operation>(
    http: &reqwest::Client,
    config: &ClientConfig,
    op_params: &[(&'static str, String)],
    attempt: u32,
) -> Result<Op::Response, Failure> {
    let mut url = config.endpoint.clone();
    url.set_query(Some(&signed_query::<Op>(config, op_params)));
    tracing::debug!(attempt, "sending request");

    let response = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .body(reqwest::Body::from(""))
        .send()
        .await
        .map_err(|e| {
            let e = super::error::redact(e);
            tracing::debug!(attempt, kind = %super::error::classify(&e), error = %e, "request failed");
            Failure::Transport(e)
        })?;

    let status = response.status();
    let header_request_id = response.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (body, truncated) = read_body(response).await.map_err(|e| {
        let e = super::error::redact(e);
        tracing::debug!(attempt, status = status.as_u16(), error = %e, "reading the response failed");
        Failure::Transport(e)
    })?;

    if status.is_success() {
        let request_id = || header_request_id.clone().or_else(|| body_request_id(&body));
        if truncated {
            return Err(Failure::Decode(DecodeError::new(
                Op::ACTION,
                status.as_u16(),
                request_id(),
                format!("the response body exceeds {MAX_BODY_BYTES} bytes"),
                excerpt(&body),
            )));
        }
        match serde_json::from_slice::<Op::Response>(&body) {
            Ok(decoded) => {
                tracing::debug!(
                    attempt,
                    status = status.as_u16(),
                    request_id = request_id().as_deref().unwrap_or(""),
                    "success"
                );
                Ok(decoded)
            }
            Err(e) => {
                tracing::debug!(attempt, status = status.as_u16(), "undecodable response");
                Err(Failure::Decode(DecodeError::new(
                    Op::ACTION,
                    status.as_u16(),
                    request_id(),
                    e.to_string(),
                    excerpt(&body),
                )))
            }
        }
    } else {
        let error = api_error(status, header_request_id, &body);
        tracing::debug!(
            attempt,
            status = error.status,
            code = %error.code,
            request_id = %error.request_id,
            "error response"
        );
        Err(Failure::Api(error))
    }
}

/// Reads at most [`MAX_BODY_BYTES`]; the flag says whether the body was cut off.
async fn read_body(mut response: reqwest::Response) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// An [`ApiError`] from a non-2xx answer: the envelope when the body is one, otherwise a synthetic
/// error with code `HTTP<status>` and the start of the body as message.
pub(crate) fn api_error(status: reqwest::StatusCode, header_request_id: Option<String>, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<ErrorBody>(body) {
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

/// `RequestId` of a JSON object body, if any.
fn body_request_id(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("RequestId").and_then(serde_json::Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
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

    /// The request of shared/wire-protocol.md as the official Python SDK sends it.
    #[test]
    fn python_sdk_vector() {
        let query = build_query(
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret"),
            "be0f3689699f7df44d827051f09f5be2",
            "2026-11-23T01:09:05Z",
            &[
                ("RegionId", "cn-shanghai".to_string()),
                ("SmartAGId", "sag-1".to_string()),
                ("UserMail", "a@b.c".to_string()),
                ("Bandwidth", "20".to_string()),
                ("UserName", "space user*~".to_string()),
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
        let query = build_query("A", "V", &creds, "n", "t", &[]);
        assert!(query.contains("&SecurityToken=tok%2Fen%2B%3D&"), "{query}");
        let plain = build_query("A", "V", &Credentials::new("testid", "testsecret"), "n", "t", &[]);
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
    fn excerpt_is_short_and_char_safe() {
        let long = "é".repeat(1000);
        let e = excerpt(long.as_bytes());
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt(b"short"), "short");
        assert_eq!(excerpt(&[0xff, b'a']), "\u{fffd}a");
    }
}
