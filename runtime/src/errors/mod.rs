//! Error codes and the error envelope of the protocol.
//!
//! The error codes of an operation are the spec's: per-operation code enums are generated from it
//! and implement [`ErrorCode`]. The protocol errors, which every operation of every product can
//! answer (a missing parameter, a wrong signature, throttling), are a fact of the protocol and are
//! declared here once, in [`protocol`]: [`ProtocolCode`] and the server's [`ProtocolErrors`] table.

use serde::{Deserialize, Serialize};

pub mod protocol;

pub use protocol::{ProtocolCode, ProtocolErrors};

/// An error code of an operation, as the spec declares it. Implemented by the generated
/// per-operation code enums (and by [`ProtocolCode`]): an implementation lists the codes
/// it declares ([`ErrorCode::DECLARED`]) and gives each one's [`ErrorSpec`]; everything else is
/// defined here, once.
pub trait ErrorCode: Copy + Eq + std::fmt::Debug + Send + Sync + 'static {
    /// The codes the enum declares itself, in the spec's order (codes it takes from elsewhere,
    /// such as the protocol codes, are found through [`ErrorCode::shared`]).
    const DECLARED: &'static [Self];

    /// The code's wire code, HTTP status, message template and retryability.
    fn spec(&self) -> &'static ErrorSpec;

    /// The code named `code` among those the enum does not declare itself (the protocol codes
    /// every operation shares); none by default.
    fn shared(code: &str) -> Option<Self> {
        let _ = code;
        None
    }

    /// The wire code, e.g. `ClientUser.BandwidthInvalid`.
    fn code(&self) -> &'static str {
        self.spec().code
    }

    /// The HTTP status the server answers with.
    fn status(&self) -> u16 {
        self.spec().status
    }

    /// The message template; it may hold `{param}` (and `{string_to_sign}` for the signature
    /// error), filled by [`render_message`].
    fn message(&self) -> &'static str {
        self.spec().message
    }

    /// Whether the spec marks the code retryable (throttling, a temporary server failure). Whether
    /// a failed request is retried also depends on the operation: see
    /// `client::retry::is_retryable` (feature `client`).
    fn retryable(&self) -> bool {
        self.spec().retryable
    }

    /// The code named `code` on the wire, if the enum declares or shares it.
    fn from_code(code: &str) -> Option<Self> {
        Self::DECLARED.iter().copied().find(|c| c.code() == code).or_else(|| Self::shared(code))
    }
}

/// Fills a message template: every `{name}` whose name is in `vars` is replaced by its value;
/// other braces are kept as they are. Values are inserted verbatim (never re-scanned).
///
/// ```
/// use alibaba_rpc_runtime::errors::render_message;
/// assert_eq!(render_message("The \"{param}\" is {what}.", &[("param", "X")]), "The \"X\" is {what}.");
/// ```
pub fn render_message(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let replaced = after.find('}').and_then(|close| {
            let name = &after[..close];
            vars.iter().find(|(n, _)| *n == name).map(|(_, value)| (close, *value))
        });
        match replaced {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One error code as the spec declares it: code, HTTP status, message template, and whether a
/// client may retry after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorSpec {
    /// The wire code, e.g. `MissingParameter`.
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// The message template (see [`render_message`]).
    pub message: &'static str,
    /// Whether a retry may succeed (throttling, a temporary server failure).
    pub retryable: bool,
}

impl ErrorSpec {
    /// A code a retry does not cure.
    pub const fn new(code: &'static str, status: u16, message: &'static str) -> ErrorSpec {
        ErrorSpec { code, status, message, retryable: false }
    }

    /// A code a retry may cure (throttling, a temporary server failure).
    pub const fn new_retryable(code: &'static str, status: u16, message: &'static str) -> ErrorSpec {
        ErrorSpec { code, status, message, retryable: true }
    }

    /// The message with `vars` filled in.
    pub fn render(&self, vars: &[(&str, &str)]) -> String {
        render_message(self.message, vars)
    }
}

/// An error answered by a server: the HTTP status and the envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} (HTTP {status}): {message} [RequestId: {request_id}]")]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The `RequestId` of the answer.
    pub request_id: String,
    /// The `HostId` of the answer.
    pub host_id: String,
    /// The error code, e.g. `ClientUser.UserExist`.
    pub code: String,
    /// The error message.
    pub message: String,
    /// A hint (often a diagnosis URL); may be empty.
    pub recommend: String,
}

impl ApiError {
    /// The error of an envelope answered with `status`.
    pub fn from_body(status: u16, body: ErrorBody) -> ApiError {
        ApiError {
            status,
            request_id: body.request_id,
            host_id: body.host_id,
            code: body.code,
            message: body.message,
            recommend: body.recommend,
        }
    }
}

/// The error envelope as serialized:
/// `{"RequestId", "HostId", "Code", "Message", "Recommend"}`. Every field defaults to empty when
/// absent, for lenient decoding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `RequestId`.
    #[serde(rename = "RequestId", default)]
    pub request_id: String,
    /// `HostId`.
    #[serde(rename = "HostId", default)]
    pub host_id: String,
    /// `Code`.
    #[serde(rename = "Code", default)]
    pub code: String,
    /// `Message`.
    #[serde(rename = "Message", default)]
    pub message: String,
    /// `Recommend`.
    #[serde(rename = "Recommend", default)]
    pub recommend: String,
}

impl From<ApiError> for ErrorBody {
    fn from(e: ApiError) -> ErrorBody {
        ErrorBody {
            request_id: e.request_id,
            host_id: e.host_id,
            code: e.code,
            message: e.message,
            recommend: e.recommend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_templates() {
        assert_eq!(
            render_message("The input parameter \"{param}\" is missing.", &[("param", "Action")]),
            "The input parameter \"Action\" is missing."
        );
        assert_eq!(render_message("a {x} {y} {x}", &[("x", "1"), ("y", "{x}")]), "a 1 {x} 1");
        assert_eq!(render_message("{unknown} { {", &[("param", "P")]), "{unknown} { {");
        assert_eq!(render_message("tail {param", &[("param", "P")]), "tail {param");
        assert_eq!(render_message("", &[]), "");
        assert_eq!(render_message("é{param}é", &[("param", "ü")]), "éüé");
    }

    #[test]
    fn api_error_display_and_body() {
        let e = ApiError {
            status: 404,
            request_id: "rid".into(),
            host_id: "h".into(),
            code: "InvalidAccessKeyId.NotFound".into(),
            message: "Specified access key is not found.".into(),
            recommend: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "InvalidAccessKeyId.NotFound (HTTP 404): Specified access key is not found. [RequestId: rid]"
        );
        let body: ErrorBody = e.clone().into();
        let json = serde_json::to_string(&body).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"RequestId":"rid","HostId":"h","Code":"InvalidAccessKeyId.NotFound","Message":"Specified access key is not found.","Recommend":""}"#
        );
        let lenient: ErrorBody = serde_json::from_str(r#"{"Code":"X"}"#).unwrap_or_default();
        assert_eq!(lenient.code, "X");
        assert_eq!(ApiError::from_body(404, body), e);
    }
}
