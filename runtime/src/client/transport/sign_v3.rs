//! Version 3 (`ACS3-HMAC-SHA256`, `ACS3-HMAC-SM3`): the canonical query, the `host` and
//! `x-acs-*` headers, and the `authorization` header, hashed as they are written.

use hmac::Mac;
use reqwest::header::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use sm3::Sm3;

use crate::flatten::{WireParam, as_pairs};
use crate::signature::canonical_query;
use crate::signature::v3::Algorithm;

use super::parts::{SignedParts, WireHeader, WireValue, empty_body_hash_value, names};
use crate::client::config::ClientConfig;
use crate::client::credentials::Credentials;
use crate::client::signing_key::{self, FixedKey};

/// The body of a version 3 request: empty (all parameters travel in the query).
const BODY: &[u8] = b"";

/// The version 3 parts of one attempt of `action` with `nonce` and `date`, signed with
/// `credentials` under the configured algorithm (with the configuration's keyed secret when it is
/// theirs). The `x-acs-*` headers among `extra` (the call's and the interceptors' headers, protocol
/// names already removed) are signed too; the caller sends them.
pub(super) fn attempt_parts(
    config: &ClientConfig,
    credentials: &Credentials,
    action: &'static str,
    nonce: String,
    date: String,
    op_params: &[WireParam<'_>],
    extra: &HeaderMap,
) -> SignedParts {
    let extra_signed: Vec<(&str, &str)> = extra
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-acs-"))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let request = V3Request {
        action,
        version: config.service.version,
        creds: credentials,
        host: &config.prebuilt.host,
        nonce,
        date,
        op_params,
        body: BODY,
        extra_signed: &extra_signed,
    };
    sign_v3(config.signature_algorithm, config.fixed_key.as_ref(), request)
}

/// [`build_v3_with`] without extra headers, with `algorithm`.
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
fn build_v3_as(
    algorithm: Algorithm,
    action: &'static str,
    version: &'static str,
    creds: &Credentials,
    host: &str,
    nonce: &str,
    date: &str,
    op_params: &[WireParam<'_>],
    body: &[u8],
) -> SignedParts {
    let host = HeaderValue::from_str(host).expect("a valid host in tests");
    let request = V3Request {
        action,
        version,
        creds,
        host: &host,
        nonce: nonce.to_owned(),
        date: date.to_owned(),
        op_params,
        body,
        extra_signed: &[],
    };
    sign_v3(algorithm, None, request)
}

/// Version 3 signed with `algorithm`: with `fixed`'s keyed HMAC when it was keyed with the
/// request's secret, otherwise with one keyed now ([`build_v3_with`]).
fn sign_v3(algorithm: Algorithm, fixed: Option<&FixedKey>, request: V3Request<'_>) -> SignedParts {
    let secret = &request.creds.access_key_secret;
    match algorithm {
        Algorithm::HmacSha256 => {
            let key = signing_key::v3_key(fixed, secret);
            build_v3_with::<Sha256, _>(key.as_deref(), request)
        }
        Algorithm::HmacSm3 => {
            let key = signing_key::v3_sm3_key(fixed, secret);
            build_v3_with::<Sm3, _>(key.as_deref(), request)
        }
    }
}

/// What a version 3 attempt signs, whatever the algorithm.
struct V3Request<'a> {
    action: &'static str,
    version: &'static str,
    creds: &'a Credentials,
    /// `host`, made once per configuration.
    host: &'a HeaderValue,
    nonce: String,
    date: String,
    op_params: &'a [WireParam<'a>],
    body: &'a [u8],
    /// The call's and interceptors' `x-acs-*` headers: signed, and sent by the caller (not
    /// returned here).
    extra_signed: &'a [(&'a str, &'a str)],
}

/// The hash of a version 3 algorithm, tied to it: the signer is instantiated per hash, and the
/// algorithm's name and body hash come from the same type.
trait V3Digest: Digest {
    /// The algorithm whose hash this is.
    const ALGORITHM: Algorithm;
}

impl V3Digest for Sha256 {
    const ALGORITHM: Algorithm = Algorithm::HmacSha256;
}

impl V3Digest for Sm3 {
    const ALGORITHM: Algorithm = Algorithm::HmacSm3;
}

/// Version 3 with the algorithm of `D`: the canonical query of the operation's parameters, the
/// `host` and `x-acs-*` headers (all signed, the request's `extra_signed` among them), and the
/// `authorization` header, for `POST` with the request's body, signed with `key` (the HMAC of
/// `D` keyed by the secret of the request's credentials).
fn build_v3_with<D: V3Digest, M: Mac + Clone>(key: Option<&M>, request: V3Request<'_>) -> SignedParts {
    let algorithm = D::ALGORITHM;
    let V3Request { action, version, creds, host, nonce, date, op_params, body, extra_signed } = request;
    let content_sha256 = if body.is_empty() {
        WireValue::Prebuilt(empty_body_hash_value(algorithm))
    } else {
        WireValue::Owned(algorithm.hash_payload(body))
    };
    let plain = |name, value| WireHeader { name, value, sensitive: false };
    let mut headers: Vec<WireHeader> = Vec::with_capacity(9);
    headers.extend([
        plain(names::HOST, WireValue::Prebuilt(host.clone())),
        plain(names::ACTION, WireValue::Static(action)),
        plain(names::VERSION, WireValue::Static(version)),
        plain(names::DATE, WireValue::Owned(date)),
        plain(names::SIGNATURE_NONCE, WireValue::Owned(nonce)),
        plain(names::CONTENT_SHA256, content_sha256),
    ]);
    if let Some(token) = &creds.security_token {
        headers.push(WireHeader {
            name: names::SECURITY_TOKEN,
            value: WireValue::Owned(token.expose().to_owned()),
            sensitive: true,
        });
        headers.push(plain(names::ACCESS_KEY_ID, WireValue::Owned(creds.access_key_id.clone())));
    }
    let query = canonical_query(as_pairs(op_params));
    let authorization = {
        let mut signed: Vec<(&str, &str)> = Vec::with_capacity(headers.len() + extra_signed.len());
        signed.extend(headers.iter().map(|header| (header.name.as_str(), header.value.as_str())));
        signed.extend_from_slice(extra_signed);
        let hashed_payload = headers
            .iter()
            .find(|header| header.name == names::CONTENT_SHA256)
            .map_or("", |header| header.value.as_str());
        v3_authorization::<D, M>(&creds.access_key_id, key, &query, &mut signed, hashed_payload)
    };
    headers.push(WireHeader { name: names::AUTHORIZATION, value: WireValue::Owned(authorization), sensitive: true });
    SignedParts { query, form: String::new(), headers }
}

/// The version 3 `authorization` value of `POST /?<canonical_query>` with the `signed` headers
/// (lowercase names, each name's values in the order sent), hashed with `D` and signed with `key`
/// (the HMAC keyed by the secret; without one — never, HMAC takes any key — the value has no
/// signature), under `D`'s algorithm: what [`crate::signature::v3::sign_request_with`] computes,
/// hashed as it is written instead of building the canonical request and the string to sign as
/// strings first.
fn v3_authorization<D: V3Digest, M: Mac + Clone>(
    access_key_id: &str,
    key: Option<&M>,
    canonical_query: &str,
    signed: &mut [(&str, &str)],
    hashed_payload: &str,
) -> String {
    let algorithm = D::ALGORITHM;
    // Stable: a repeated header keeps its values in the order sent.
    signed.sort_by(|a, b| a.0.cmp(b.0));
    // The authorization value is written up to its signed header names, which the canonical
    // request needs too: it hashes them from there. It is sized exactly, so the header value takes
    // the text over without another allocation.
    const CREDENTIAL: &str = " Credential=";
    const SIGNED_HEADERS: &str = ",SignedHeaders=";
    const SIGNATURE: &str = ",Signature=";
    // A repeated header is one name (its values a run of the sorted list), `;` between names.
    let same_name = |a: &(&str, &str), b: &(&str, &str)| a.0 == b.0;
    let names_len = signed.chunk_by(same_name).map(|run| run[0].0.len() + 1).sum::<usize>().saturating_sub(1);
    let mut authorization = String::with_capacity(
        algorithm.name().len()
            + CREDENTIAL.len()
            + access_key_id.len()
            + SIGNED_HEADERS.len()
            + names_len
            + SIGNATURE.len()
            + 64,
    );
    authorization.push_str(algorithm.name());
    authorization.push_str(CREDENTIAL);
    authorization.push_str(access_key_id);
    authorization.push_str(SIGNED_HEADERS);
    let names_start = authorization.len();
    let mut canonical = D::new();
    canonical.update(b"POST\n/\n");
    canonical.update(canonical_query.as_bytes());
    canonical.update(b"\n");
    for run in signed.chunk_by(same_name) {
        let name = run[0].0;
        canonical.update(name.as_bytes());
        canonical.update(b":");
        for (i, (_, value)) in run.iter().enumerate() {
            if i > 0 {
                canonical.update(b",");
            }
            canonical.update(value.trim().as_bytes());
        }
        canonical.update(b"\n");
        if authorization.len() > names_start {
            authorization.push(';');
        }
        authorization.push_str(name);
    }
    canonical.update(b"\n");
    canonical.update(&authorization.as_bytes()[names_start..]);
    canonical.update(b"\n");
    canonical.update(hashed_payload.as_bytes());
    let mut hashed_request = [0u8; 64];
    // 32 bytes always fit 64 hex digits.
    let _ = hex::encode_to_slice(canonical.finalize(), &mut hashed_request);

    authorization.push_str(SIGNATURE);
    if let Some(mut mac) = key.cloned() {
        mac.update(algorithm.name().as_bytes());
        mac.update(b"\n");
        mac.update(&hashed_request);
        crate::encoding::push_hex(&mut authorization, &mac.finalize().into_bytes());
    }
    authorization
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::transport::sign::test_support::{header, vector_params};
    use crate::signature::v3::{self, Authorization, EMPTY_BODY_SHA256};

    /// The Smartag vector signed with `ACS3-HMAC-SM3`: the expected value is what the Python Tea
    /// SDK's own signer (`alibabacloud_tea_openapi.utils.Utils.get_authorization`, 0.4.6, with
    /// `sign_type='ACS3-HMAC-SM3'` and the SM3 of the empty body as `x-acs-content-sha256`)
    /// computes for the same request.
    #[test]
    fn v3_sm3_smartag_vector_of_the_tea_sdk() {
        let parts = smartag_vector_parts(Algorithm::HmacSm3);
        assert_eq!(header(&parts, "x-acs-content-sha256"), Some(v3::EMPTY_BODY_SM3));
        assert_eq!(
            header(&parts, "authorization"),
            Some(
                "ACS3-HMAC-SM3 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;\
x-acs-signature-nonce;x-acs-version,Signature=5982ac377e1054c7028717f8e20319fdf629b5c8faebbc914efda2749165c08b"
            )
        );
        let with_body =
            build_v3_as(Algorithm::HmacSm3, "A", "V", &Credentials::new("id", "s"), "h", "n", "d", &[], b"abc");
        assert_eq!(
            header(&with_body, "x-acs-content-sha256"),
            Some("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
            "SM3(\"abc\"), GB/T 32905's first example"
        );
    }

    /// The request of shared/wire-protocol.md's Smartag vector, signed with `algorithm`.
    fn smartag_vector_parts(algorithm: Algorithm) -> SignedParts {
        build_v3_as(
            algorithm,
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret"),
            "smartag.cn-shanghai.aliyuncs.com",
            "be0f3689699f7df44d827051f09f5be2",
            "2026-11-23T01:09:05Z",
            &vector_params(),
            b"",
        )
    }

    /// The version 3 Smartag vector of shared/wire-protocol.md, through the client's own header
    /// set: the six headers it signs without STS are exactly the vector's six.
    #[test]
    fn v3_smartag_vector() {
        let parts = smartag_vector_parts(Algorithm::HmacSha256);
        assert_eq!(
            parts.query,
            "Bandwidth=20&RegionId=cn-shanghai&SmartAGId=sag-1&UserMail=a%40b.c&UserName=space%20user%2A~"
        );
        let sent: Vec<(&str, &str, bool)> =
            parts.headers.iter().map(|h| (h.name.as_str(), h.value.as_str(), h.sensitive)).collect();
        assert_eq!(
            sent,
            [
                ("host", "smartag.cn-shanghai.aliyuncs.com", false),
                ("x-acs-action", "CreateSmartAccessGatewayClientUser", false),
                ("x-acs-version", "2018-03-13", false),
                ("x-acs-date", "2026-11-23T01:09:05Z", false),
                ("x-acs-signature-nonce", "be0f3689699f7df44d827051f09f5be2", false),
                ("x-acs-content-sha256", EMPTY_BODY_SHA256, false),
                (
                    "authorization",
                    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;\
x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=4411bfdbd0e192bc6e4f7284742554646a03d6c569f82c323d0308d5fff9e9dd",
                    true
                ),
            ]
        );
    }

    #[test]
    fn v3_content_hash_is_of_the_body() {
        let parts =
            build_v3_as(Algorithm::HmacSha256, "A", "V", &Credentials::new("id", "s"), "h", "n", "d", &[], b"abc");
        assert_eq!(
            header(&parts, "x-acs-content-sha256"),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(parts.query, "");
    }

    #[test]
    fn v3_security_token_is_a_signed_header() {
        let creds = Credentials::new("testid", "testsecret").with_security_token("tok/en+=");
        let parts = build_v3_as(Algorithm::HmacSha256, "A", "V", &creds, "h:8080", "n", "d", &vector_params(), b"");
        assert_eq!(header(&parts, "x-acs-security-token"), Some("tok/en+="));
        assert_eq!(header(&parts, "x-acs-accesskey-id"), Some("testid"));
        assert!(!parts.query.contains("SecurityToken") && !parts.query.contains("tok"), "{}", parts.query);
        let sensitive: Vec<&str> = parts.headers.iter().filter(|h| h.sensitive).map(|h| h.name.as_str()).collect();
        assert_eq!(sensitive, ["x-acs-security-token", "authorization"]);
        let auth = Authorization::parse(header(&parts, "authorization").unwrap_or_default()).unwrap();
        assert_eq!(auth.credential, "testid");
        assert_eq!(
            auth.signed_headers,
            [
                "host",
                "x-acs-accesskey-id",
                "x-acs-action",
                "x-acs-content-sha256",
                "x-acs-date",
                "x-acs-security-token",
                "x-acs-signature-nonce",
                "x-acs-version"
            ]
        );
        // The token is covered by the signature.
        let other = build_v3_as(
            Algorithm::HmacSha256,
            "A",
            "V",
            &creds.clone().with_security_token("other"),
            "h:8080",
            "n",
            "d",
            &vector_params(),
            b"",
        );
        assert_ne!(header(&parts, "authorization"), header(&other, "authorization"));
    }

    /// The streaming signer gives exactly what the reference signer of `signature::v3` gives,
    /// repeated and padded extra headers included.
    #[test]
    fn streaming_v3_signature_equals_the_reference() {
        let query = canonical_query(as_pairs(&vector_params()));
        let cases: [&[(&str, &str)]; 4] = [
            &[("host", "example.com"), ("x-acs-action", "A"), ("x-acs-date", "2026-11-23T01:09:05Z")],
            &[
                ("x-acs-version", "2018-03-13"),
                ("host", "127.0.0.1:8080"),
                ("x-acs-trace", " padded "),
                ("x-acs-action", "Describe"),
                ("x-acs-trace", "second"),
                ("x-acs-security-token", "tok/en+="),
                ("x-acs-accesskey-id", "testid"),
            ],
            &[("x-acs-b", ""), ("x-acs-a", "1"), ("x-acs-b", "2"), ("x-acs-a", "3")],
            &[],
        ];
        for headers in cases {
            for algorithm in Algorithm::ALL {
                let hashed = algorithm.empty_body_hash();
                let reference =
                    v3::sign_request_with(algorithm, "testid", "testsecret", "POST", &query, headers, hashed)
                        .authorization;
                let mut signed = headers.to_vec();
                let streamed = match algorithm {
                    Algorithm::HmacSha256 => {
                        let key = v3::keyed("testsecret");
                        v3_authorization::<Sha256, _>("testid", key.as_ref(), &query, &mut signed, hashed)
                    }
                    Algorithm::HmacSm3 => {
                        let key = v3::keyed_sm3("testsecret");
                        v3_authorization::<Sm3, _>("testid", key.as_ref(), &query, &mut signed, hashed)
                    }
                };
                assert_eq!(streamed, reference, "{algorithm} {headers:?}");
                // Sized exactly: the header value takes the text over without a copy.
                assert_eq!(streamed.capacity(), streamed.len(), "{headers:?}");
            }
        }
        let body_hash = v3::hash_payload(b"body");
        let with_body =
            v3::sign_request_with(Algorithm::HmacSha256, "id", "s", "POST", "", &[("host", "h")], &body_hash)
                .authorization;
        let key = v3::keyed("s");
        let streamed = v3_authorization::<Sha256, _>("id", key.as_ref(), "", &mut [("host", "h")], &body_hash);
        assert_eq!(streamed, with_body);
    }
}
