//! Signature version 3 (`ACS3-HMAC-SHA256`) of Alibaba Cloud's API gateway: what every current
//! Tea-generation SDK (Python, Node, Go v2, Java v2) sends by default. The same SDKs configured
//! with `signature_algorithm = 'ACS3-HMAC-SM3'` sign the same canonical request with SM3 (GB/T
//! 32905) in place of SHA-256 ([`Algorithm`]): the hashes, the HMAC and the algorithm's name
//! change, nothing else (the payload hash still travels as `x-acs-content-sha256`).
//!
//! Under version 3, `Action`, `Version`, the date, the nonce and the key are not parameters: they
//! travel as `x-acs-*` headers, and the signature as
//! `Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;…>,Signature=<hex>`.
//!
//! ```text
//! CanonicalRequest = METHOD \n / \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//! StringToSign     = ACS3-HMAC-SHA256 \n hex(SHA-256(CanonicalRequest))      (ACS3-HMAC-SM3: SM3)
//! Signature        = hex(HMAC-SHA256(key = AccessKeySecret, StringToSign))  (HMAC-SM3)
//! ```
//!
//! The client chooses which headers it signs (the Python SDK signs every header it sends, others
//! only `host`, `content-type` and `x-acs-*`), so a verifier rebuilds the canonical headers from the
//! `SignedHeaders` list it received; [`canonical_headers`] does that for both ends.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sm3::Sm3;
use subtle::ConstantTimeEq;

use super::canonical_query;
use crate::encoding::push_hex;

/// The default algorithm's name: the first word of the `Authorization` header and of the string
/// to sign ([`Algorithm::HmacSha256`]).
pub const ALGORITHM: &str = Algorithm::HmacSha256.name();

/// SHA-256 of the empty body, in lowercase hex: the `x-acs-content-sha256` of a bodiless request.
pub const EMPTY_BODY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// SM3 of the empty body, in lowercase hex: the `x-acs-content-sha256` of a bodiless request
/// signed with [`Algorithm::HmacSm3`].
pub const EMPTY_BODY_SM3: &str = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b";

/// The algorithms of version 3 that sign with an AccessKey secret: the first word of the
/// `Authorization` header and of the string to sign. They share the canonical request and every
/// header; only the hash (of the body and of the canonical request) and the HMAC differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// `ACS3-HMAC-SHA256`: SHA-256 and HMAC-SHA256, every official SDK's default.
    #[default]
    HmacSha256,
    /// `ACS3-HMAC-SM3`: SM3 (the Chinese national standard hash, GB/T 32905) and HMAC-SM3, what
    /// the Tea SDKs send when configured with `signature_algorithm = 'ACS3-HMAC-SM3'`.
    HmacSm3,
}

impl Algorithm {
    /// Every algorithm, the default first.
    pub const ALL: [Algorithm; 2] = [Algorithm::HmacSha256, Algorithm::HmacSm3];

    /// Its name on the wire (`ACS3-HMAC-SHA256`, `ACS3-HMAC-SM3`).
    pub const fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "ACS3-HMAC-SHA256",
            Algorithm::HmacSm3 => "ACS3-HMAC-SM3",
        }
    }

    /// The algorithm named `name` (exactly, as the wire writes it).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|algorithm| algorithm.name() == name)
    }

    /// The name of its hash, for messages (`SHA-256`, `SM3`).
    pub const fn hash_name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "SHA-256",
            Algorithm::HmacSm3 => "SM3",
        }
    }

    /// The hash of the empty body, in lowercase hex.
    pub const fn empty_body_hash(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => EMPTY_BODY_SHA256,
            Algorithm::HmacSm3 => EMPTY_BODY_SM3,
        }
    }

    /// Lowercase hex hash of `data`.
    pub fn hex_digest(self, data: &[u8]) -> String {
        let mut out = String::with_capacity(64);
        match self {
            Algorithm::HmacSha256 => push_hex(&mut out, &Sha256::digest(data)),
            Algorithm::HmacSm3 => push_hex(&mut out, &Sm3::digest(data)),
        }
        out
    }

    /// Lowercase hex hash of `body`: the `x-acs-content-sha256` value and the canonical request's
    /// last line.
    pub fn hash_payload(self, body: &[u8]) -> String {
        if body.is_empty() { self.empty_body_hash().to_owned() } else { self.hex_digest(body) }
    }

    /// `<name>\n` + lowercase hex hash of the canonical request.
    pub fn string_to_sign(self, canonical_request: &str) -> String {
        format!("{}\n{}", self.name(), self.hex_digest(canonical_request.as_bytes()))
    }

    /// Lowercase hex HMAC of `string_to_sign`, keyed by the secret as is (no `&`).
    pub fn sign(self, secret: &str, string_to_sign: &str) -> String {
        hex::encode(self.mac(secret, string_to_sign))
    }

    /// Whether `signature` (hex, either case) is the signature of `string_to_sign` with `secret`,
    /// compared in constant time.
    pub fn verify(self, secret: &str, string_to_sign: &str, signature: &str) -> bool {
        let expected = self.mac(secret, string_to_sign);
        match hex::decode(signature) {
            Ok(given) => !expected.is_empty() && bool::from(expected.as_slice().ct_eq(given.as_slice())),
            Err(_) => false,
        }
    }

    /// The raw HMAC of `data` keyed by `secret`.
    fn mac(self, secret: &str, data: &str) -> Vec<u8> {
        match self {
            Algorithm::HmacSha256 => super::tag(keyed(secret), data.as_bytes()),
            Algorithm::HmacSm3 => super::tag(keyed_sm3(secret), data.as_bytes()),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The canonical URI of every RPC operation.
pub const CANONICAL_URI: &str = "/";

/// The header names of version 3, lowercase as they are signed.
pub mod headers {
    /// The `Authorization` header carrying credential, signed header list and signature.
    pub const AUTHORIZATION: &str = "authorization";
    /// The host the request was sent to; always signed.
    pub const HOST: &str = "host";
    /// The operation (`Action` under version 1.0).
    pub const ACTION: &str = "x-acs-action";
    /// The API version (`Version` under version 1.0).
    pub const VERSION: &str = "x-acs-version";
    /// The UTC time of signing, `YYYY-MM-DDThh:mm:ssZ` (`Timestamp` under version 1.0).
    pub const DATE: &str = "x-acs-date";
    /// The nonce (`SignatureNonce` under version 1.0).
    pub const SIGNATURE_NONCE: &str = "x-acs-signature-nonce";
    /// Lowercase hex SHA-256 of the body bytes.
    pub const CONTENT_SHA256: &str = "x-acs-content-sha256";
    /// The STS security token (`SecurityToken` under version 1.0).
    pub const SECURITY_TOKEN: &str = "x-acs-security-token";
    /// The AccessKeyId, sent next to a security token by the official SDKs.
    pub const ACCESS_KEY_ID: &str = "x-acs-accesskey-id";
    /// The request headers the protocol owns: the client sets them itself (a caller's value is
    /// dropped) and the server reads them. The server's one-pass header reader keeps them in
    /// this order.
    pub const PROTOCOL: [&str; 9] =
        [AUTHORIZATION, HOST, ACTION, VERSION, DATE, SIGNATURE_NONCE, CONTENT_SHA256, SECURITY_TOKEN, ACCESS_KEY_ID];
    /// The response header repeating the answer's `RequestId` (under both versions).
    pub const REQUEST_ID: &str = "x-acs-request-id";
    /// The response header of a throttled answer (under both versions): how long to wait before
    /// retrying, in milliseconds.
    pub const RETRY_AFTER: &str = "x-acs-retry-after";
}

/// Lowercase hex SHA-256 of `body` ([`Algorithm::hash_payload`] of the default algorithm).
pub fn hash_payload(body: &[u8]) -> String {
    Algorithm::HmacSha256.hash_payload(body)
}

/// The canonical headers block and the `SignedHeaders` line for the headers in `signed`
/// (lowercase names), taking their values from `headers` (name, value; names compared
/// case-insensitively): for each signed name in sorted order, `name:value\n` with the value trimmed
/// and a repeated header's values joined with `,` in the order received. A signed name that is
/// absent from `headers` gets an empty value (the verifier's mismatch then shows it).
pub fn canonical_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    signed: &[&str],
) -> (String, String) {
    let mut names: Vec<&str> = signed.to_vec();
    names.sort_unstable();
    names.dedup();
    let mut block = String::new();
    for name in &names {
        block.push_str(name);
        block.push(':');
        let mut first = true;
        for (_, value) in headers.clone().into_iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
            if !first {
                block.push(',');
            }
            block.push_str(value.trim());
            first = false;
        }
        block.push('\n');
    }
    (block, names.join(";"))
}

/// The canonical request: method, `/`, the canonical query of `query`, the canonical headers
/// block (which ends in a newline of its own), the signed header list and the payload hash.
pub fn canonical_request<'a>(
    method: &str,
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    canonical_headers: &str,
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    canonical_request_with(method, &canonical_query(query), canonical_headers, signed_headers, hashed_payload)
}

/// [`canonical_request`] with the canonical query already built (a client sends the same text as
/// its query string, so it builds it once).
pub fn canonical_request_with(
    method: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    let mut out = String::with_capacity(
        method.len()
            + canonical_query.len()
            + canonical_headers.len()
            + signed_headers.len()
            + hashed_payload.len()
            + 8,
    );
    for (i, part) in [method, CANONICAL_URI, canonical_query, canonical_headers, signed_headers, hashed_payload]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(part);
    }
    out
}

/// `ACS3-HMAC-SHA256\n` + lowercase hex SHA-256 of the canonical request
/// ([`Algorithm::string_to_sign`] of the default algorithm).
pub fn string_to_sign(canonical_request: &str) -> String {
    Algorithm::HmacSha256.string_to_sign(canonical_request)
}

/// Lowercase hex HMAC-SHA256 of `string_to_sign`, keyed by the secret as is (no `&`)
/// ([`Algorithm::sign`] of the default algorithm).
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    Algorithm::HmacSha256.sign(secret, string_to_sign)
}

/// Whether `signature` (hex, either case) is the HMAC-SHA256 signature of `string_to_sign` with
/// `secret`, compared in constant time ([`Algorithm::verify`] of the default algorithm).
pub fn verify(secret: &str, string_to_sign: &str, signature: &str) -> bool {
    Algorithm::HmacSha256.verify(secret, string_to_sign, signature)
}

/// HMAC-SHA256 keyed by `secret`. HMAC takes keys of any length, so this is never `None`.
pub(crate) fn keyed(secret: &str) -> Option<Hmac<Sha256>> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()
}

/// HMAC-SM3 keyed by `secret` (never `None`, as [`keyed`]).
pub(crate) fn keyed_sm3(secret: &str) -> Option<Hmac<Sm3>> {
    <Hmac<Sm3> as Mac>::new_from_slice(secret.as_bytes()).ok()
}

/// The `Authorization` header value:
/// `<algorithm> Credential=<key>,SignedHeaders=<list>,Signature=<hex>`.
pub fn authorization(algorithm: Algorithm, access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    format!("{algorithm} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}")
}

/// Whether an `Authorization` header value claims version 3 (starts with an [`Algorithm`]'s name).
pub fn is_v3_authorization(value: &str) -> bool {
    value.trim_start().split_ascii_whitespace().next().and_then(Algorithm::from_name).is_some()
}

/// A parsed version 3 `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The algorithm (the first word).
    pub algorithm: Algorithm,
    /// The AccessKeyId (`Credential=`).
    pub credential: String,
    /// The signed header names, lowercase, as listed (`SignedHeaders=`, `;`-separated).
    pub signed_headers: Vec<String>,
    /// The signature in hex (`Signature=`).
    pub signature: String,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("algorithm", &self.algorithm)
            .field("credential", &self.credential)
            .field("signed_headers", &self.signed_headers)
            .finish_non_exhaustive()
    }
}

/// What is wrong with an `Authorization` header that claims version 3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// The first word is not an [`Algorithm`]'s name.
    #[error("the Authorization header must start with `ACS3-HMAC-SHA256 ` (or `ACS3-HMAC-SM3 `)")]
    Algorithm,
    /// A required field is missing or empty.
    #[error(
        "the Authorization header has no `{0}=` field (expected `{ALGORITHM} Credential=<AccessKeyId>,SignedHeaders=<h1;h2>,Signature=<hex>`)"
    )]
    MissingField(&'static str),
    /// A field appears twice or one that does not belong.
    #[error("the Authorization header has an unexpected or repeated field `{0}`")]
    UnexpectedField(String),
    /// A signed header name is empty or not lowercase.
    #[error("SignedHeaders must list lowercase header names separated by `;`, got `{0}`")]
    SignedHeaderName(String),
    /// The signature is not 64 hex digits.
    #[error("Signature must be 64 hexadecimal digits")]
    SignatureFormat,
}

impl Authorization {
    /// Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…` (or `ACS3-HMAC-SM3 …`;
    /// fields in any order, spaces after commas tolerated).
    pub fn parse(value: &str) -> Result<Authorization, AuthorizationError> {
        let value = value.trim();
        let (algorithm, rest) = value
            .split_once(|c: char| c.is_ascii_whitespace())
            .and_then(|(name, rest)| Some((Algorithm::from_name(name)?, rest)))
            .ok_or(AuthorizationError::Algorithm)?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for field in rest.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let (name, val) = field.split_once('=').unwrap_or((field, ""));
            let slot = match name.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                other => return Err(AuthorizationError::UnexpectedField(loggable(other))),
            };
            if slot.is_some() {
                return Err(AuthorizationError::UnexpectedField(name.trim().to_owned()));
            }
            *slot = Some(val.trim());
        }
        let credential = credential.filter(|c| !c.is_empty()).ok_or(AuthorizationError::MissingField("Credential"))?;
        let signed = signed.filter(|s| !s.is_empty()).ok_or(AuthorizationError::MissingField("SignedHeaders"))?;
        let signature = signature.filter(|s| !s.is_empty()).ok_or(AuthorizationError::MissingField("Signature"))?;
        let signed_headers = signed
            .split(';')
            .map(|name| {
                let valid = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
                if valid { Ok(name.to_owned()) } else { Err(AuthorizationError::SignedHeaderName(loggable(name))) }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthorizationError::SignatureFormat);
        }
        Ok(Authorization {
            algorithm,
            credential: credential.to_owned(),
            signed_headers,
            signature: signature.to_owned(),
        })
    }

    /// Whether `name` (lowercase) is among the signed headers.
    pub fn signs(&self, name: &str) -> bool {
        self.signed_headers.iter().any(|h| h == name)
    }
}

/// `s` if short and printable ASCII, else a placeholder: error messages never echo arbitrary
/// bytes back.
fn loggable(s: &str) -> String {
    if s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic()) { s.to_owned() } else { "<invalid>".to_owned() }
}

/// Everything a signer produced for one request (what a verifier recomputes).
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    /// The canonical request.
    pub canonical_request: String,
    /// The string to sign.
    pub string_to_sign: String,
    /// The `Authorization` header value.
    pub authorization: String,
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("canonical_request", &self.canonical_request)
            .field("string_to_sign", &self.string_to_sign)
            .finish_non_exhaustive()
    }
}

/// Signs a request whose `headers` (lowercase names; `host`, the `x-acs-*` headers and
/// `x-acs-content-sha256` among them) are all signed, with `ACS3-HMAC-SHA256`.
pub fn sign_request<'a>(
    access_key_id: &str,
    secret: &str,
    method: &str,
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    headers: &[(&str, &str)],
    hashed_payload: &str,
) -> Signed {
    sign_request_with(
        Algorithm::HmacSha256,
        access_key_id,
        secret,
        method,
        &canonical_query(query),
        headers,
        hashed_payload,
    )
}

/// [`sign_request`] with `algorithm` and the canonical query already built.
pub fn sign_request_with(
    algorithm: Algorithm,
    access_key_id: &str,
    secret: &str,
    method: &str,
    canonical_query: &str,
    headers: &[(&str, &str)],
    hashed_payload: &str,
) -> Signed {
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let (block, signed_headers) = canonical_headers(headers.iter().copied(), &names);
    let canonical_request = canonical_request_with(method, canonical_query, &block, &signed_headers, hashed_payload);
    let string_to_sign = algorithm.string_to_sign(&canonical_request);
    let signature = algorithm.sign(secret, &string_to_sign);
    let authorization = authorization(algorithm, access_key_id, &signed_headers, &signature);
    Signed { canonical_request, string_to_sign, authorization }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_hash() {
        // The constants are the hashes computed, not just what `hash_payload` hands back.
        assert_eq!(Algorithm::HmacSha256.hex_digest(b""), EMPTY_BODY_SHA256);
        assert_eq!(Algorithm::HmacSm3.hex_digest(b""), EMPTY_BODY_SM3);
        for algorithm in Algorithm::ALL {
            assert_eq!(algorithm.hash_payload(b""), algorithm.empty_body_hash());
            assert_eq!(Algorithm::from_name(algorithm.name()), Some(algorithm));
        }
        assert_eq!(hash_payload(b""), EMPTY_BODY_SHA256);
        assert_eq!(Algorithm::from_name("ACS3-HMAC-sm3"), None, "names are exact");
    }

    /// shared/wire-protocol.md, the Smartag vector.
    #[test]
    fn smartag_vector() {
        let query = [
            ("RegionId", "cn-shanghai"),
            ("SmartAGId", "sag-1"),
            ("UserMail", "a@b.c"),
            ("Bandwidth", "20"),
            ("UserName", "space user*~"),
        ];
        let headers = [
            ("host", "smartag.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "CreateSmartAccessGatewayClientUser"),
            ("x-acs-version", "2018-03-13"),
            ("x-acs-date", "2026-11-23T01:09:05Z"),
            ("x-acs-signature-nonce", "be0f3689699f7df44d827051f09f5be2"),
            ("x-acs-content-sha256", EMPTY_BODY_SHA256),
        ];
        let signed = sign_request("testid", "testsecret", "POST", query, &headers, EMPTY_BODY_SHA256);
        assert!(
            signed.canonical_request.starts_with(
                "POST\n/\nBandwidth=20&RegionId=cn-shanghai&SmartAGId=sag-1&UserMail=a%40b.c&UserName=space%20user%2A~\nhost:"
            ),
            "{}",
            signed.canonical_request
        );
        let expected = "4411bfdbd0e192bc6e4f7284742554646a03d6c569f82c323d0308d5fff9e9dd";
        assert_eq!(
            signed.authorization,
            format!(
                "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;\
x-acs-signature-nonce;x-acs-version,Signature={expected}"
            )
        );
        assert!(verify("testsecret", &signed.string_to_sign, expected));
        assert!(verify("testsecret", &signed.string_to_sign, &expected.to_ascii_uppercase()));
        assert!(!verify("testsecret ", &signed.string_to_sign, expected));
        assert!(!verify("testsecret", &signed.string_to_sign, "zz"));
    }

    /// shared/wire-protocol.md, Alibaba's documented example.
    #[test]
    fn documented_vector() {
        let query = [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), ("RegionId", "cn-shanghai")];
        let headers = [
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-content-sha256", EMPTY_BODY_SHA256),
        ];
        let signed = sign_request("YourAccessKeyId", "YourAccessKeySecret", "POST", query, &headers, EMPTY_BODY_SHA256);
        assert_eq!(
            signed.string_to_sign,
            "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert!(
            signed
                .authorization
                .ends_with(",Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0")
        );
    }

    #[test]
    fn canonical_headers_follow_the_signed_list() {
        let headers = [("Host", " h "), ("X-Acs-Date", "d"), ("accept", "a"), ("x-acs-date", "e"), ("user-agent", "u")];
        let (block, list) = canonical_headers(headers, &["x-acs-date", "host", "absent"]);
        assert_eq!(block, "absent:\nhost:h\nx-acs-date:d,e\n");
        assert_eq!(list, "absent;host;x-acs-date");
    }

    #[test]
    fn authorization_round_trips_and_rejects_malformed() {
        let sig = "a".repeat(64);
        let value = authorization(Algorithm::HmacSha256, "id", "host;x-acs-date", &sig);
        assert!(is_v3_authorization(&value));
        assert!(!is_v3_authorization("acs testid:abc"));
        let parsed = Authorization::parse(&value).map_err(|e| e.to_string());
        assert_eq!(
            parsed,
            Ok(Authorization {
                algorithm: Algorithm::HmacSha256,
                credential: "id".into(),
                signed_headers: vec!["host".into(), "x-acs-date".into()],
                signature: sig.clone()
            })
        );
        let sm3 = authorization(Algorithm::HmacSm3, "id", "host", &sig);
        assert!(sm3.starts_with("ACS3-HMAC-SM3 Credential=id,") && is_v3_authorization(&sm3), "{sm3}");
        assert_eq!(Authorization::parse(&sm3).map(|a| a.algorithm), Ok(Algorithm::HmacSm3));
        assert_eq!(
            Authorization::parse(&format!("ACS3-RSA-SHA256 Credential=id,SignedHeaders=host,Signature={sig}")),
            Err(AuthorizationError::Algorithm),
            "an algorithm that signs without the AccessKey secret is not accepted"
        );
        let spaced = format!("ACS3-HMAC-SHA256  Signature={sig}, Credential=id, SignedHeaders=host");
        assert!(Authorization::parse(&spaced).is_ok());
        let cases = [
            ("ACS3-HMAC-SHA1 Credential=id,SignedHeaders=host,Signature=x", AuthorizationError::Algorithm),
            ("ACS3-HMAC-SHA256Credential=id", AuthorizationError::Algorithm),
            (
                &*format!("ACS3-HMAC-SHA256 SignedHeaders=host,Signature={sig}"),
                AuthorizationError::MissingField("Credential"),
            ),
            (
                &*format!("ACS3-HMAC-SHA256 Credential=id,Signature={sig}"),
                AuthorizationError::MissingField("SignedHeaders"),
            ),
            ("ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host", AuthorizationError::MissingField("Signature")),
            ("ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=abc", AuthorizationError::SignatureFormat),
            (
                &*format!("ACS3-HMAC-SHA256 Credential=id,SignedHeaders=Host,Signature={sig}"),
                AuthorizationError::SignedHeaderName("Host".into()),
            ),
            (
                &*format!("ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;;x,Signature={sig}"),
                AuthorizationError::SignedHeaderName("".into()),
            ),
            (
                &*format!("ACS3-HMAC-SHA256 Credential=id,Credential=x,SignedHeaders=host,Signature={sig}"),
                AuthorizationError::UnexpectedField("Credential".into()),
            ),
            (
                &*format!("ACS3-HMAC-SHA256 Credential=id,Region=x,SignedHeaders=host,Signature={sig}"),
                AuthorizationError::UnexpectedField("Region".into()),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(Authorization::parse(value), Err(expected), "{value}");
        }
    }

    #[test]
    fn debug_never_shows_the_signature() {
        let parsed = Authorization::parse(&authorization(Algorithm::HmacSha256, "id", "host", &"b".repeat(64)));
        assert!(parsed.is_ok_and(|a| !format!("{a:?}").contains("bbbb")));
    }
}
