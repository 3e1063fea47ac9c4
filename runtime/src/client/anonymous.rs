//! Anonymous operations (the spec's `auth: none`, [`Operation::ANONYMOUS`](crate::operation::Operation::ANONYMOUS)):
//! the protocol fields of the configured signature version, without credentials or signature.
//!
//! This is how the official SDKs call STS `AssumeRoleWithOIDC`, whose caller proves who it is with
//! the OIDC token in its parameters, not with an AccessKey:
//!
//! - version 1.0: `Action`, `Version`, `Format=JSON`, `SignatureNonce` and `Timestamp` in the
//!   query before the operation's parameters; no `AccessKeyId`, `Signature*` or `SecurityToken`;
//! - version 3: the operation's parameters as the canonical query, and the `host`, `x-acs-action`,
//!   `x-acs-version`, `x-acs-date`, `x-acs-signature-nonce` and `x-acs-content-sha256` headers; no
//!   `authorization`, no token.

use crate::encoding::encode_query;
use crate::flatten::{WireParam, as_pairs};
use crate::signature::v1::common as p;
use crate::signature::{SignatureVersion, canonical_query};

use super::config::ClientConfig;
use super::transport::{SignedParts, WireHeader, WireValue, empty_body_hash_value, names};

/// The unsigned parts of one attempt of anonymous `action` (empty body).
pub(crate) fn unsigned_parts(
    config: &ClientConfig,
    action: &str,
    nonce: &str,
    date: &str,
    op_params: &[WireParam<'_>],
) -> SignedParts {
    let version = config.service.version;
    match config.signature_version {
        SignatureVersion::V1 => {
            let common = [
                (p::ACTION, action),
                (p::VERSION, version),
                (p::FORMAT, "JSON"),
                (p::SIGNATURE_NONCE, nonce),
                (p::TIMESTAMP, date),
            ];
            let query = encode_query(common.into_iter().chain(as_pairs(op_params)));
            SignedParts { query, form: String::new(), headers: Vec::new() }
        }
        SignatureVersion::V3 => {
            let plain = |name, value| WireHeader { name, value, sensitive: false };
            let headers = vec![
                plain(names::HOST, WireValue::Prebuilt(config.prebuilt.host.clone())),
                plain(names::ACTION, WireValue::Owned(action.to_owned())),
                plain(names::VERSION, WireValue::Static(version)),
                plain(names::DATE, WireValue::Owned(date.to_owned())),
                plain(names::SIGNATURE_NONCE, WireValue::Owned(nonce.to_owned())),
                plain(names::CONTENT_SHA256, WireValue::Prebuilt(empty_body_hash_value(config.signature_algorithm))),
            ];
            let query = canonical_query(as_pairs(op_params));
            SignedParts { query, form: String::new(), headers }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Credentials;
    use crate::operation::ServiceInfo;

    static SERVICE: ServiceInfo =
        ServiceInfo { product: "Sts", version: "2015-04-01", endpoint_pattern: "https://sts.{region}.aliyuncs.com" };

    fn config(version: SignatureVersion) -> ClientConfig {
        ClientConfig::builder(&SERVICE)
            .region("cn-hangzhou")
            .endpoint("http://127.0.0.1:9000")
            .credentials(Credentials::new("never-sent-id", "never-sent-secret"))
            .signature_version(version)
            .build()
            .unwrap()
    }

    fn params() -> Vec<WireParam<'static>> {
        vec![("RoleArn".into(), "acs:ram::1:role/r".into()), ("OIDCToken".into(), "a.b c".into())]
    }

    #[test]
    fn version_1_sends_the_protocol_fields_and_no_credentials() {
        let parts = unsigned_parts(
            &config(SignatureVersion::V1),
            "AssumeRoleWithOIDC",
            "n1",
            "2026-01-01T00:00:00Z",
            &params(),
        );
        assert!(parts.headers.is_empty());
        assert_eq!(
            parts.query,
            "Action=AssumeRoleWithOIDC&Version=2015-04-01&Format=JSON&SignatureNonce=n1&\
             Timestamp=2026-01-01T00%3A00%3A00Z&RoleArn=acs%3Aram%3A%3A1%3Arole%2Fr&OIDCToken=a.b%20c"
        );
        assert!(!parts.query.contains("AccessKeyId") && !parts.query.contains("Signature="));
    }

    #[test]
    fn version_3_sends_the_headers_and_no_authorization() {
        let parts = unsigned_parts(
            &config(SignatureVersion::V3),
            "AssumeRoleWithOIDC",
            "n1",
            "2026-01-01T00:00:00Z",
            &params(),
        );
        let names: Vec<&str> = parts.headers.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(
            names,
            ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
        );
        assert_eq!(parts.headers[0].value.as_str(), "127.0.0.1:9000");
        assert_eq!(parts.query, "OIDCToken=a.b%20c&RoleArn=acs%3Aram%3A%3A1%3Arole%2Fr");
        assert!(parts.headers.iter().all(|h| !h.value.as_str().contains("never-sent")));
    }
}
