//! The signed parts of one attempt: a fresh nonce and timestamp, then the configured version's
//! signer ([`super::sign_v3`], [`super::sign_v1`]), or the unsigned fields of an anonymous operation.

use reqwest::header::HeaderMap;

use crate::flatten::WireParam;
use crate::signature::{SignatureVersion, new_nonce, now_timestamp};

use super::parts::SignedParts;
use super::{sign_v1, sign_v3};
use crate::client::config::ClientConfig;
use crate::client::credentials::Credentials;

/// The signed parts of one attempt of `action`, with a fresh nonce and the current UTC time,
/// signed with `credentials`; without them (an anonymous operation) the same protocol fields,
/// unsigned. Under version 3 the `x-acs-*` headers among `extra` (the call's and the
/// interceptors' headers, protocol names already removed) are signed too.
pub(crate) fn signed_parts(
    config: &ClientConfig,
    credentials: Option<&Credentials>,
    action: &'static str,
    op_params: &[WireParam<'_>],
    extra: &HeaderMap,
) -> SignedParts {
    let (nonce, now) = (new_nonce(), now_timestamp());
    let Some(credentials) = credentials else {
        return crate::client::anonymous::unsigned_parts(config, action, &nonce, &now, op_params);
    };
    match config.signature_version {
        SignatureVersion::V1 => sign_v1::attempt_parts(config, credentials, action, &nonce, &now, op_params),
        SignatureVersion::V3 => sign_v3::attempt_parts(config, credentials, action, nonce, now, op_params, extra),
    }
}

/// What the signers' tests share: the parameters of shared/wire-protocol.md's Smartag vector,
/// and a header's value in signed parts.
#[cfg(test)]
pub(super) mod test_support {
    use crate::flatten::WireParam;

    use super::SignedParts;

    pub(crate) fn vector_params() -> Vec<WireParam<'static>> {
        [
            ("RegionId", "cn-shanghai"),
            ("SmartAGId", "sag-1"),
            ("UserMail", "a@b.c"),
            ("Bandwidth", "20"),
            ("UserName", "space user*~"),
        ]
        .into_iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect()
    }

    pub(crate) fn header<'a>(parts: &'a SignedParts, name: &str) -> Option<&'a str> {
        parts.headers.iter().find(|h| h.name == name).map(|h| h.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{header, vector_params};
    use super::*;
    use crate::flatten::as_pairs;
    use crate::operation::ServiceInfo;
    use crate::signature::canonical_query;
    use crate::signature::v3::{self, Algorithm};

    static SERVICE: ServiceInfo = ServiceInfo {
        product: "Smartag",
        version: "2018-03-13",
        endpoint_pattern: "https://smartag.{region}.aliyuncs.com",
    };

    #[test]
    fn signed_parts_follow_the_configured_version_and_are_fresh() {
        let config = |version| {
            ClientConfig::builder(&SERVICE)
                .region("cn-shanghai")
                .endpoint("http://127.0.0.1:8080")
                .credentials(Credentials::new("id", "secret"))
                .signature_version(version)
                .build()
                .unwrap()
        };
        let params = vector_params();
        let creds = Credentials::new("id", "secret");

        let v1 = config(SignatureVersion::V1);
        let none = HeaderMap::new();
        let (a, b) = (
            signed_parts(&v1, Some(&creds), "A", &params, &none),
            signed_parts(&v1, Some(&creds), "A", &params, &none),
        );
        assert!(a.headers.is_empty());
        assert_eq!(a.query, "", "version 1.0 sends its parameters in the form body");
        assert!(a.form.starts_with("AccessKeyId=id&Action=A&"), "{}", a.form);
        assert!(a.form.contains("&Version=2018-03-13&Signature="), "{}", a.form);
        let nonce = |q: &str| q.split('&').find(|p| p.starts_with("SignatureNonce=")).map(str::to_owned);
        assert!(nonce(&a.form).is_some());
        assert_ne!(nonce(&a.form), nonce(&b.form), "a fresh nonce per attempt");

        let v3 = config(SignatureVersion::V3);
        let (a, b) = (
            signed_parts(&v3, Some(&creds), "A", &params, &none),
            signed_parts(&v3, Some(&creds), "A", &params, &none),
        );
        assert_eq!(a.query, canonical_query(as_pairs(&params)));
        assert_eq!(a.form, "", "version 3 sends an empty body");
        assert_eq!(header(&a, "host"), Some("127.0.0.1:8080"));
        assert_eq!(header(&a, "x-acs-action"), Some("A"));
        assert_eq!(header(&a, "x-acs-version"), Some("2018-03-13"));
        assert!(header(&a, "x-acs-date").and_then(crate::signature::parse_timestamp).is_some());
        assert!(header(&a, "x-acs-signature-nonce").is_some_and(|n| n.len() == 32));
        assert_ne!(header(&a, "x-acs-signature-nonce"), header(&b, "x-acs-signature-nonce"));
        assert_ne!(header(&a, "authorization"), header(&b, "authorization"));
        assert!(header(&a, "authorization").is_some_and(|v| v.starts_with("ACS3-HMAC-SHA256 Credential=id,")));
        assert_eq!(header(&a, "x-acs-content-sha256"), Some(v3::EMPTY_BODY_SHA256));

        let sm3 = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new("id", "secret"))
            .signature_algorithm(Algorithm::HmacSm3)
            .build()
            .unwrap();
        let a = signed_parts(&sm3, Some(&creds), "A", &params, &none);
        assert!(header(&a, "authorization").is_some_and(|v| v.starts_with("ACS3-HMAC-SM3 Credential=id,")));
        assert_eq!(header(&a, "x-acs-content-sha256"), Some(v3::EMPTY_BODY_SM3));
        assert_eq!(a.query, canonical_query(as_pairs(&params)));
        let refused = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new("id", "secret"))
            .signature_version(SignatureVersion::V1)
            .signature_algorithm(Algorithm::HmacSm3)
            .build()
            .unwrap_err();
        assert!(refused.to_string().contains("ACS3-HMAC-SM3 belongs to signature version 3"), "{refused}");
    }
}
