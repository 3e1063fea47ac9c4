//! The protocol errors: the codes Alibaba Cloud's RPC gateway answers for any operation of any
//! product (a missing or unreadable parameter, a signature that does not match, an unknown
//! AccessKey, throttling, a server failure), declared once for every generated API.
//!
//! A spec declares only its operations' own codes; each operation's generated code enum holds
//! these as its `Protocol(ProtocolCode)` variant. The server answers them from a
//! [`ProtocolErrors`] table, [`ProtocolErrors::STANDARD`] unless an application passes its own.

use super::{ErrorCode, ErrorSpec};

/// Declares every protocol code once: its variant, its constant, its wire code, HTTP status,
/// retryability, message template and when it is answered.
macro_rules! protocol_codes {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident => $constant:ident($code:literal, $status:literal, $new:ident, $message:literal);
    )+) => {
        $(
            $(#[doc = $doc])+
            pub const $constant: ErrorSpec = ErrorSpec::$new($code, $status, $message);
        )+

        /// The protocol errors every operation can answer (parameters, authentication,
        /// throttling, server failures). Each generated operation's code enum holds them as its
        /// `Protocol` variant.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProtocolCode {
            $(
                $(#[doc = $doc])+
                $variant,
            )+
        }

        impl ErrorCode for ProtocolCode {
            const DECLARED: &'static [Self] = &[$(Self::$variant),+];

            fn spec(&self) -> &'static ErrorSpec {
                match self {
                    $(Self::$variant => &$constant,)+
                }
            }
        }
    };
}

protocol_codes! {
    /// `MissingParameter` (HTTP 400): a parameter the operation requires is absent or empty.
    MissingParameter => MISSING_PARAMETER("MissingParameter", 400, new,
        "The input parameter \"{param}\" that is mandatory for processing this request is not supplied.");
    /// `InvalidParameter` (HTTP 400): a parameter cannot be read as its declared type, or violates
    /// a protocol-level rule.
    InvalidParameter => INVALID_PARAMETER("InvalidParameter", 400, new,
        "The specified parameter \"{param}\" is not valid.");
    /// `SignatureDoesNotMatch` (HTTP 400): the signature does not match the server's: under
    /// version 1.0 the `Signature` parameter is not the HMAC-SHA1 of the server's string to sign,
    /// under version 3 the `Authorization` header's `Signature` is not the HMAC-SHA256 of it (a
    /// wrong secret, most often).
    SignatureDoesNotMatch => SIGNATURE_DOES_NOT_MATCH("SignatureDoesNotMatch", 400, new,
        "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}");
    /// `IncompleteSignature` (HTTP 400): a version 3 (`ACS3-HMAC-SHA256`, `ACS3-HMAC-SM3`) request whose
    /// `Authorization` header is missing or malformed, which leaves `host` or an `x-acs-*` header
    /// the server relies on unsigned, which also carries version 1.0 signature parameters, or
    /// whose body does not hash to `x-acs-content-sha256` (the reason then ends with the server's
    /// string to sign). A well-formed version 3 signature that does not match is
    /// `SignatureDoesNotMatch`.
    IncompleteSignature => INCOMPLETE_SIGNATURE("IncompleteSignature", 400, new,
        "The request signature does not conform to Aliyun standards. {reason}");
    /// `MissingSecurityToken` (HTTP 400): an STS AccessKey signs a request without its security
    /// token (`SecurityToken` under 1.0, `x-acs-security-token` under 3).
    MissingSecurityToken => MISSING_SECURITY_TOKEN("MissingSecurityToken", 400, new,
        "The security token of the temporary AccessKey is not supplied ({param}).");
    /// `InvalidSecurityToken.MismatchWithAccessKey` (HTTP 400): the security token sent is not the
    /// one issued with the temporary AccessKey.
    InvalidSecurityTokenMismatchWithAccessKey => INVALID_SECURITY_TOKEN_MISMATCH_WITH_ACCESS_KEY(
        "InvalidSecurityToken.MismatchWithAccessKey", 400, new,
        "The security token does not belong to the AccessKey ({param}).");
    /// `InvalidAccessKeyId.NotFound` (HTTP 404): the AccessKeyId is unknown.
    InvalidAccessKeyIdNotFound => INVALID_ACCESS_KEY_ID_NOT_FOUND("InvalidAccessKeyId.NotFound", 404, new,
        "Specified access key is not found.");
    /// `SignatureNonceUsed` (HTTP 400): the `SignatureNonce` was seen from the same key in the
    /// last 15 minutes.
    SignatureNonceUsed => SIGNATURE_NONCE_USED("SignatureNonceUsed", 400, new,
        "Specified signature nonce was used already.");
    /// `InvalidTimeStamp.Expired` (HTTP 400): the `Timestamp` is more than 15 minutes away from
    /// the server's clock.
    InvalidTimeStampExpired => INVALID_TIME_STAMP_EXPIRED("InvalidTimeStamp.Expired", 400, new,
        "Specified time stamp or date value is expired.");
    /// `InvalidTimeStamp.Format` (HTTP 400): the `Timestamp` is not UTC `YYYY-MM-DDThh:mm:ssZ`.
    InvalidTimeStampFormat => INVALID_TIME_STAMP_FORMAT("InvalidTimeStamp.Format", 400, new,
        "Specified time stamp or date value is not well formatted.");
    /// `InvalidAction.NotFound` (HTTP 404): the `Action` is not an operation of the product.
    InvalidActionNotFound => INVALID_ACTION_NOT_FOUND("InvalidAction.NotFound", 404, new,
        "Specified api is not found, please check your url and method.");
    /// `InvalidVersion` (HTTP 400): the `Version` is not the product's API version.
    InvalidVersion => INVALID_VERSION("InvalidVersion", 400, new,
        "Specified parameter Version is not valid.");
    /// `RequestTooLarge` (HTTP 413): the form body exceeds the server's body limit, or the
    /// request line exceeds 65,534 bytes (when served through the runtime's `listener::guard`).
    RequestTooLarge => REQUEST_TOO_LARGE("RequestTooLarge", 413, new,
        "The request is larger than the server accepts.");
    /// `ServiceUnavailable` (HTTP 503): the server could not answer in time, or is temporarily
    /// unavailable.
    ServiceUnavailable => SERVICE_UNAVAILABLE("ServiceUnavailable", 503, new_retryable,
        "The request has failed due to a temporary failure of the server.");
    /// `Throttling` (HTTP 400): the caller sent too many requests.
    Throttling => THROTTLING("Throttling", 400, new_retryable,
        "Request was denied due to request throttling.");
    /// `Throttling.User` (HTTP 400): the caller's account exceeded its request quota (answered by
    /// Alibaba Cloud's gateway, which keeps per-account quotas).
    ThrottlingUser => THROTTLING_USER("Throttling.User", 400, new_retryable,
        "Request was denied due to user flow control.");
    /// `Forbidden.RAM` (HTTP 403): the RAM user lacks permission for the operation.
    ForbiddenRam => FORBIDDEN_RAM("Forbidden.RAM", 403, new,
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.");
    /// `InternalError` (HTTP 500): the server failed unexpectedly; no details are disclosed.
    InternalError => INTERNAL_ERROR("InternalError", 500, new_retryable,
        "The request processing has failed due to some unknown error, exception or failure.");
}

impl std::fmt::Display for ProtocolCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The code, HTTP status and message the server's protocol layer answers for each failure it
/// detects itself. [`ProtocolErrors::STANDARD`] is the gateway's; an application that must answer
/// a protocol failure differently passes its own table to `server::router`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolErrors {
    /// A required parameter is absent (`{param}` names it).
    pub missing_parameter: ErrorSpec,
    /// A parameter has a value the server does not accept (`{param}` names it).
    pub invalid_parameter: ErrorSpec,
    /// The signature does not match (`{string_to_sign}` is the server's string to sign).
    pub signature_does_not_match: ErrorSpec,
    /// A version 3 signature that does not match or does not conform (`{reason}` says which,
    /// with the server's string to sign when there is one).
    pub incomplete_signature: ErrorSpec,
    /// An STS AccessKey used without its security token (`{param}` names where it belongs).
    pub missing_security_token: ErrorSpec,
    /// A security token that is not the one issued with the AccessKey (`{param}` names it).
    pub invalid_security_token: ErrorSpec,
    /// The `AccessKeyId` is unknown.
    pub invalid_access_key_id: ErrorSpec,
    /// The `SignatureNonce` was used already.
    pub signature_nonce_used: ErrorSpec,
    /// The `Timestamp` is outside the accepted window.
    pub invalid_timestamp_expired: ErrorSpec,
    /// The `Timestamp` is not `YYYY-MM-DDThh:mm:ssZ`.
    pub invalid_timestamp_format: ErrorSpec,
    /// The `Action` is not an operation of the API.
    pub invalid_action: ErrorSpec,
    /// The `Version` is not the API's.
    pub invalid_version: ErrorSpec,
    /// The request body is over the server's limit.
    pub request_too_large: ErrorSpec,
    /// The server did not answer in time.
    pub request_timeout: ErrorSpec,
    /// The request was refused for load reasons.
    pub throttling: ErrorSpec,
    /// An unexpected server failure (no details disclosed).
    pub internal_error: ErrorSpec,
}

impl ProtocolErrors {
    /// The gateway's answers, each one a [`ProtocolCode`]'s [`ErrorSpec`].
    pub const STANDARD: ProtocolErrors = ProtocolErrors {
        missing_parameter: MISSING_PARAMETER,
        invalid_parameter: INVALID_PARAMETER,
        signature_does_not_match: SIGNATURE_DOES_NOT_MATCH,
        incomplete_signature: INCOMPLETE_SIGNATURE,
        missing_security_token: MISSING_SECURITY_TOKEN,
        invalid_security_token: INVALID_SECURITY_TOKEN_MISMATCH_WITH_ACCESS_KEY,
        invalid_access_key_id: INVALID_ACCESS_KEY_ID_NOT_FOUND,
        signature_nonce_used: SIGNATURE_NONCE_USED,
        invalid_timestamp_expired: INVALID_TIME_STAMP_EXPIRED,
        invalid_timestamp_format: INVALID_TIME_STAMP_FORMAT,
        invalid_action: INVALID_ACTION_NOT_FOUND,
        invalid_version: INVALID_VERSION,
        request_too_large: REQUEST_TOO_LARGE,
        request_timeout: SERVICE_UNAVAILABLE,
        throttling: THROTTLING,
        internal_error: INTERNAL_ERROR,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_distinct_and_found_by_its_wire_code() {
        let mut seen = HashSet::new();
        for code in ProtocolCode::DECLARED {
            assert!(seen.insert(code.code()), "{} declared twice", code.code());
            assert_eq!(ProtocolCode::from_code(code.code()), Some(*code));
            assert_eq!(code.to_string(), code.code());
            assert!((400..600).contains(&code.status()), "{code}");
        }
        assert_eq!(ProtocolCode::from_code("ClientUser.UserExist"), None);
    }

    #[test]
    fn the_standard_table_answers_declared_codes() {
        let t = ProtocolErrors::STANDARD;
        for spec in [
            t.missing_parameter,
            t.invalid_parameter,
            t.signature_does_not_match,
            t.incomplete_signature,
            t.missing_security_token,
            t.invalid_security_token,
            t.invalid_access_key_id,
            t.signature_nonce_used,
            t.invalid_timestamp_expired,
            t.invalid_timestamp_format,
            t.invalid_action,
            t.invalid_version,
            t.request_too_large,
            t.request_timeout,
            t.throttling,
            t.internal_error,
        ] {
            let code = ProtocolCode::from_code(spec.code);
            assert_eq!(code.map(|c| *c.spec()), Some(spec), "{}", spec.code);
        }
        assert!(t.request_timeout.retryable && t.throttling.retryable && t.internal_error.retryable);
        assert!(!t.missing_parameter.retryable);
    }
}
