//! Reading an answer: the exchange, the body (kept as it arrives, up to a limit), the JSON
//! decoding, and the API's error envelope.

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::errors::{ApiError, ErrorBody};

/// Largest response body read; anything beyond is cut off (no API response comes near it).
pub(super) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Characters of a body kept in error messages.
const EXCERPT_CHARS: usize = 256;

/// A whole answer: status, headers, body (at most [`MAX_BODY_BYTES`]) and whether it was cut off.
pub(super) type Exchanged = (StatusCode, HeaderMap, Bytes, bool);

/// Awaits the answer to the request `sending` sends and reads all of it; or the failure, with
/// the status when the failure came while reading the body.
pub(super) async fn exchange(
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
pub(super) fn body_request_id(body: &[u8]) -> Option<String> {
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
