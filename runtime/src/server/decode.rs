//! The request as the pipeline sees it: read once, with the body limit, into an [`Incoming`]
//! that both signature versions and the operations read from.

use std::net::SocketAddr;

use axum::body::{Body, Bytes, HttpBody as _};
use axum::extract::{ConnectInfo, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;

use super::error::ErrorReply;
use super::render::WireFormat;
use crate::errors::ProtocolErrors;
use crate::params::Params;
use crate::signature::v3::headers as h;

/// One request, read.
pub(crate) struct Incoming {
    /// GET or POST (others are refused while reading).
    pub method: Method,
    /// The headers as received.
    pub headers: HeaderMap,
    /// The URI's authority, for a request without a `Host` header (HTTP/2).
    authority: Option<String>,
    /// Every parameter: the query's, then a form body's.
    pub params: Params,
    /// How many of `params` come from the query string (what version 3 signs).
    query_len: usize,
    /// The body bytes exactly as received (what `x-acs-content-sha256` hashes).
    pub body: Bytes,
    /// The peer, when the router is served with connect info.
    pub remote_addr: Option<SocketAddr>,
}

/// The headers the pipeline reads, in the order of [`Sent`]'s slots.
const KNOWN: [&str; 9] = h::PROTOCOL;

/// The slot of header `name` (lowercase, as `HeaderName`s are) in [`KNOWN`].
fn slot(name: &str) -> Option<usize> {
    match name {
        h::AUTHORIZATION => Some(0),
        h::HOST => Some(1),
        h::ACTION => Some(2),
        h::VERSION => Some(3),
        h::DATE => Some(4),
        h::SIGNATURE_NONCE => Some(5),
        h::CONTENT_SHA256 => Some(6),
        h::SECURITY_TOKEN => Some(7),
        h::ACCESS_KEY_ID => Some(8),
        _ => None,
    }
}

/// The headers of [`KNOWN`] as one request sent them, found in one pass over its headers (the
/// pipeline asks for them a dozen times; a `HeaderMap` lookup hashes the name each time).
pub(crate) struct Sent<'r> {
    /// The first value of each, when it is text.
    first: [Option<&'r str>; KNOWN.len()],
    /// How many values of each were sent.
    count: [u8; KNOWN.len()],
    /// `host` for a request without a `Host` header (HTTP/2): the URI's authority.
    authority: Option<&'r str>,
    /// Every header, for a name not in [`KNOWN`].
    headers: &'r HeaderMap,
}

impl<'r> Sent<'r> {
    /// The first value of header `name` (lowercase) that is valid text.
    pub(crate) fn get(&self, name: &str) -> Option<&'r str> {
        match slot(name) {
            Some(i) if self.count[i] > 0 => self.first[i],
            Some(_) if name == h::HOST => self.authority,
            Some(_) => None,
            None => self.headers.get(name).and_then(|v| v.to_str().ok()),
        }
    }

    /// How many values of header `name` (lowercase) were sent.
    pub(crate) fn count(&self, name: &str) -> usize {
        match slot(name) {
            Some(i) => usize::from(self.count[i]),
            None => self.headers.get_all(name).iter().count(),
        }
    }
}

impl Incoming {
    /// The headers the pipeline reads ([`Sent`]).
    pub(crate) fn sent(&self) -> Sent<'_> {
        let mut sent = Sent {
            first: [None; KNOWN.len()],
            count: [0; KNOWN.len()],
            authority: self.authority.as_deref(),
            headers: &self.headers,
        };
        for (name, value) in &self.headers {
            if let Some(i) = slot(name.as_str()) {
                if sent.count[i] == 0 {
                    sent.first[i] = value.to_str().ok();
                }
                sent.count[i] = sent.count[i].saturating_add(1);
            }
        }
        sent
    }

    /// Every header as `(name, value)` text (values that are not text read as empty), with
    /// `host` taken from the URI when the request has no `Host` header.
    pub(crate) fn headers_with_host(&self) -> Vec<(&str, &str)> {
        let synthetic_host = match (self.headers.contains_key(header::HOST), &self.authority) {
            (false, Some(authority)) => Some(("host", authority.as_str())),
            _ => None,
        };
        self.headers.iter().map(|(n, v)| (n.as_str(), v.to_str().unwrap_or(""))).chain(synthetic_host).collect()
    }

    /// The parameters of the query string alone (what version 3 signs).
    pub(crate) fn query(&self) -> impl Iterator<Item = (&str, &str)> + Clone + '_ {
        self.params.iter().take(self.query_len)
    }

    /// The first parameter that appears more than once (in the query, the body or both).
    pub(crate) fn repeated_param(&self) -> Option<&str> {
        if self.params.len() <= 32 {
            // Requests have a dozen parameters: comparing pairs beats sorting, and needs no list.
            return self
                .params
                .iter()
                .enumerate()
                .find(|(i, (name, _))| self.params.iter().take(*i).any(|(earlier, _)| earlier == *name))
                .map(|(_, (name, _))| name);
        }
        let mut sorted: Vec<&str> = self.params.iter().map(|(n, _)| n).collect();
        sorted.sort_unstable();
        sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    }
}

/// A request as far as it could be read without waiting (small: it is moved into the future
/// that answers the request).
pub(crate) enum Reading {
    /// Read: it had no body.
    Read(Box<Incoming>),
    /// Refused before its parameters were read, and the format its query asks the answer in.
    Refused(Box<ErrorReply>, WireFormat),
    /// Its body is still arriving: the rest of the reading, and the format its query asks for an
    /// answer given before the parameters are read (a timeout, a body over the limit).
    Body(BoxFuture<'static, Result<Box<Incoming>, ErrorReply>>, WireFormat),
}

/// Reads `request`: refuses methods other than GET and POST, reads the body (any transfer
/// encoding) up to `limit` bytes, and parses the query and an `application/x-www-form-urlencoded`
/// body into parameters. A request without a body is read at once; only a body is waited for.
pub(crate) fn start(request: Request, limit: usize, errors: &'static ProtocolErrors) -> Reading {
    let remote_addr = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr);
    let (parts, body) = request.into_parts();
    let refused = |spec, vars: &[(&str, &str)]| {
        Reading::Refused(Box::new(ErrorReply::from_spec(spec, vars)), WireFormat::asked_by(&parts.uri))
    };
    if parts.uri.path() == super::framing::OVERLONG_PATH {
        // Put there by `listener::guard` in place of a request line too long for hyper.
        tracing::info!(code = errors.request_too_large.code, "request line too long");
        return refused(&errors.request_too_large, &[]);
    }
    if parts.method != Method::GET && parts.method != Method::POST {
        tracing::info!(code = errors.invalid_action.code, "unsupported HTTP method");
        return refused(&errors.invalid_action, &[("param", "Action")]);
    }
    if body.is_end_stream() {
        return Reading::Read(Box::new(incoming(parts, Bytes::new(), remote_addr)));
    }
    let asked = WireFormat::asked_by(&parts.uri);
    let rest = async move {
        let body = read_body(body, &parts.headers, limit, errors).await?;
        Ok(Box::new(incoming(parts, body, remote_addr)))
    };
    Reading::Body(Box::pin(rest), asked)
}

/// The request of `parts` with `body`, its parameters parsed.
fn incoming(parts: Parts, body: Bytes, remote_addr: Option<SocketAddr>) -> Incoming {
    let mut params = Params::parse_urlencoded(parts.uri.query().unwrap_or("").as_bytes());
    let query_len = params.len();
    if is_form(&parts.headers) && !body.is_empty() {
        params.append_urlencoded(&body);
    }
    Incoming {
        method: parts.method,
        authority: parts.uri.authority().map(|a| a.as_str().to_owned()),
        headers: parts.headers,
        params,
        query_len,
        body,
        remote_addr,
    }
}

/// The body, at most `limit` bytes (by `Content-Length` or as it streams).
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    errors: &'static ProtocolErrors,
) -> Result<Bytes, ErrorReply> {
    let too_large = || {
        tracing::info!(limit, code = errors.request_too_large.code, "request body too large");
        ErrorReply::from_spec(&errors.request_too_large, &[])
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    // The common cases, no body and a body in one chunk, are kept as they arrive (no copy).
    let mut stream = body.into_data_stream();
    let mut first: Option<Bytes> = None;
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let bytes = match chunk {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::info!(error = %e, "request body could not be read");
                return Err(ErrorReply::from_spec(&errors.invalid_parameter, &[("param", "Body")]));
            }
        };
        let so_far = first.as_ref().map_or(buffer.len(), Bytes::len);
        if so_far.saturating_add(bytes.len()) > limit {
            return Err(too_large());
        }
        match first.take() {
            None if buffer.is_empty() => first = Some(bytes),
            None => buffer.extend_from_slice(&bytes),
            Some(earlier) => {
                buffer.extend_from_slice(&earlier);
                buffer.extend_from_slice(&bytes);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(buffer)))
}

/// Whether the body is `application/x-www-form-urlencoded` (parameters).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case(crate::encoding::FORM_URLENCODED))
}

#[cfg(test)]
mod tests {
    use super::{KNOWN, slot};

    #[test]
    fn every_known_header_has_its_own_slot() {
        for (at, name) in KNOWN.iter().enumerate() {
            assert_eq!(slot(name), Some(at), "{name}");
        }
        assert_eq!(slot("x-acs-something-else"), None);
    }
}
