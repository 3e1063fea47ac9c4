//! Answers: the error envelope for a refusal, and the RequestId every answer carries.

use std::sync::Arc;

use axum::http::HeaderValue;
use axum::response::Response;

use super::REQUEST_ID_HEADER;
use super::error::ErrorReply;
use super::render::{self, WireFormat};
use crate::errors::{ErrorBody, ProtocolErrors};

/// A fresh RequestId: an uppercase UUID, as Alibaba Cloud answers them.
pub(crate) fn new_request_id() -> Arc<str> {
    let mut buffer = uuid::Uuid::encode_buffer();
    Arc::from(&*uuid::Uuid::new_v4().hyphenated().encode_upper(&mut buffer))
}

/// The error code an error envelope answered, kept on the response for the router's
/// [`super::Answered`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnsweredCode(pub(crate) &'static str);

/// The envelope answering `reply` in `format` (an internal error is the protocol's
/// `internal_error`, without details), with the reply's extra headers.
pub(crate) fn error(
    errors: &'static ProtocolErrors,
    host_id: &str,
    request_id: &str,
    format: WireFormat,
    reply: ErrorReply,
) -> Response {
    let (code, status, message, headers) = match reply {
        ErrorReply::Coded { code, status, message, headers } => (code, status, message, headers),
        ErrorReply::Internal => {
            let spec = &errors.internal_error;
            (spec.code, spec.status, spec.render(&[]), None)
        }
    };
    let envelope = ErrorBody {
        request_id: request_id.to_owned(),
        host_id: host_id.to_owned(),
        code: code.to_owned(),
        message,
        recommend: String::new(),
    };
    let mut response = render::error(format, status, &envelope);
    for (name, value) in headers.iter().flat_map(|h| h.iter()) {
        response.headers_mut().insert(name, value.clone());
    }
    response.extensions_mut().insert(AnsweredCode(code));
    response
}

/// Sets the `x-acs-request-id` header unless the answer has one.
pub(crate) fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if !response.headers().contains_key(REQUEST_ID_HEADER)
        && let Ok(value) = HeaderValue::from_str(request_id)
    {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// `s` if it is a short plain token, for logs; never logs arbitrary text.
pub(crate) fn loggable(s: &str) -> &str {
    if !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        s
    } else {
        "<invalid>"
    }
}
