//! What an attempt puts on the wire besides the endpoint and the method: [`SignedParts`], the
//! protocol's header names, and the headers only the protocol sets.

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};

use crate::signature::v3::{self, Algorithm, headers as h};

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
    pub(super) fn into_pair(self) -> Result<(HeaderName, HeaderValue), (HeaderName, String)> {
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
pub(super) const PROTOCOL_HEADERS: [&str; 9] = h::PROTOCOL;

/// Whether `name` is one of the headers only the protocol sets.
pub(crate) fn is_protocol_header(name: &HeaderName) -> bool {
    PROTOCOL_HEADERS.contains(&name.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
