//! The `reqwest::Request` of one attempt, its header map copied from a per-configuration template.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::parts::WireHeader;
use crate::client::config::PrebuiltHeaders;

/// The `content-type` of a version 1.0 request's form body.
const FORM: HeaderValue = HeaderValue::from_static(crate::encoding::FORM_URLENCODED);

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
pub(super) fn build_request(
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
