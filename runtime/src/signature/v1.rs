//! Signature version 1.0 (`HMAC-SHA1`) of Alibaba Cloud's RPC protocol: every parameter travels
//! as a query or form parameter, the signature included.
//!
//! The string to sign is `METHOD&%2F&percent_encode(canonicalized_query)`, where the
//! canonicalized query holds every parameter except `Signature` (empty values included), sorted
//! by name, each name and value percent-encoded. The signature is
//! `Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))`.

use crate::encoding::{percent_encode_into, percent_encode_twice};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The common parameters of the RPC protocol, named once: what the client sends and the server
/// reads (under version 3 only `Format` stays a parameter; the rest travel as `x-acs-*` headers,
/// see [`super::v3::headers`]).
pub mod common {
    /// The operation, e.g. `DescribeRegions`.
    pub const ACTION: &str = "Action";
    /// The API version, e.g. `2014-05-26`.
    pub const VERSION: &str = "Version";
    /// The answer's format: `JSON` (the default) or `XML`.
    pub const FORMAT: &str = "Format";
    /// The AccessKey ID that signs.
    pub const ACCESS_KEY_ID: &str = "AccessKeyId";
    /// The signature itself (never part of what is signed).
    pub const SIGNATURE: &str = "Signature";
    /// The signature method; only [`SIGNATURE_METHOD_HMAC_SHA1`] exists.
    pub const SIGNATURE_METHOD: &str = "SignatureMethod";
    /// The signature version; only [`SIGNATURE_VERSION_1_0`] exists.
    pub const SIGNATURE_VERSION: &str = "SignatureVersion";
    /// Sent empty by the official SDKs.
    pub const SIGNATURE_TYPE: &str = "SignatureType";
    /// A value used once per AccessKey within the replay window.
    pub const SIGNATURE_NONCE: &str = "SignatureNonce";
    /// When the request was signed, UTC `YYYY-MM-DDThh:mm:ssZ`.
    pub const TIMESTAMP: &str = "Timestamp";
    /// The STS token of a temporary AccessKey.
    pub const SECURITY_TOKEN: &str = "SecurityToken";
    /// The region a request is for: an operation's parameter in most APIs, which the server
    /// also hands to the implementation in its request context.
    pub const REGION_ID: &str = "RegionId";
    /// The value of `SignatureMethod`.
    pub const SIGNATURE_METHOD_HMAC_SHA1: &str = "HMAC-SHA1";
    /// The value of `SignatureVersion`.
    pub const SIGNATURE_VERSION_1_0: &str = "1.0";
}

/// The name of the parameter that carries the signature (never part of what is signed).
pub const SIGNATURE_PARAM: &str = common::SIGNATURE;

/// The canonicalized query string: every parameter but `Signature`, empty values kept, sorted by
/// name in byte order (ties by value), names and values percent-encoded, joined as `k=v` by `&`.
pub fn canonicalized_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    super::canonical_query(params.into_iter().filter(|(name, _)| *name != SIGNATURE_PARAM))
}

/// The string to sign: `METHOD&%2F&percent_encode(canonicalized_query(params))`.
pub fn string_to_sign<'a>(method: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let canonical = canonicalized_query(params);
    let mut out = String::with_capacity(method.len() + 5 + canonical.len() * 5 / 4);
    out.push_str(method);
    out.push_str("&%2F&");
    percent_encode_into(&mut out, &canonical);
    out
}

/// The query of a request signed with `secret`: the canonicalized query of `params` (which is
/// also a query to send: sorted, every name and value percent-encoded), then
/// `&Signature=<percent-encoded signature>` — what [`string_to_sign`] and [`sign`] give, computed
/// with one encoding pass that writes the query and the string to sign side by side.
///
/// ```
/// use alibaba_rpc_runtime::signature::v1::{sign, signed_query, string_to_sign};
/// let params = [("Action", "DescribeRegions"), ("AccessKeyId", "testid"), ("Note", "a b")];
/// let query = signed_query("POST", "testsecret", params);
/// let signature = sign("testsecret", &string_to_sign("POST", params));
/// let encoded = alibaba_rpc_runtime::encoding::percent_encode(&signature);
/// assert_eq!(query, format!("AccessKeyId=testid&Action=DescribeRegions&Note=a%20b&Signature={encoded}"));
/// ```
pub fn signed_query<'a>(method: &str, secret: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().filter(|(name, _)| *name != SIGNATURE_PARAM).collect();
    pairs.sort_unstable();
    signed_sorted_query(method, keyed(secret).as_ref(), &pairs)
}

/// [`signed_query`] of `pairs` already in the canonical order (sorted by name, then value; no
/// `Signature`), with the HMAC already keyed by the secret ([`keyed`]; cloned, not consumed, so a
/// client keys its fixed secret once). Without a key (never: HMAC takes keys of any length) the
/// query goes unsigned.
pub(crate) fn signed_sorted_query(method: &str, key: Option<&Hmac<Sha1>>, pairs: &[(&str, &str)]) -> String {
    let mut query = String::with_capacity(384);
    let mut to_sign = Vec::with_capacity(method.len() + 5 + 448);
    to_sign.extend_from_slice(method.as_bytes());
    to_sign.extend_from_slice(b"&%2F&");
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            query.push('&');
            to_sign.extend_from_slice(b"%26");
        }
        percent_encode_twice(&mut query, &mut to_sign, name);
        query.push('=');
        to_sign.extend_from_slice(b"%3D");
        percent_encode_twice(&mut query, &mut to_sign, value);
    }
    let Some(mut mac) = key.cloned() else {
        return query;
    };
    mac.update(&to_sign);
    let signature = BASE64.encode(mac.finalize().into_bytes());
    query.reserve(SIGNATURE_PARAM.len() + 2 + signature.len() * 5 / 4);
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(SIGNATURE_PARAM);
    query.push('=');
    percent_encode_into(&mut query, &signature);
    query
}

/// HMAC-SHA1 keyed by `secret + "&"`. HMAC takes keys of any length, so this is never `None`.
pub(crate) fn keyed(secret: &str) -> Option<Hmac<Sha1>> {
    let key = [secret.as_bytes(), b"&"].concat();
    <Hmac<Sha1> as Mac>::new_from_slice(&key).ok()
}

/// `Base64(HMAC-SHA1(key = secret + "&", string_to_sign))`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    BASE64.encode(mac(secret, string_to_sign))
}

/// Whether `signature` is the signature of `string_to_sign` with `secret`, compared in constant
/// time (only the length of `signature` may leak).
pub fn verify(secret: &str, string_to_sign: &str, signature: &str) -> bool {
    let expected = sign(secret, string_to_sign);
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
}

/// The raw HMAC-SHA1 of `data` keyed by `secret + "&"`. Empty only if the key were rejected,
/// which HMAC never does (it takes keys of any length); [`verify`] never accepts an empty MAC.
fn mac(secret: &str, data: &str) -> Vec<u8> {
    super::tag(keyed(secret), data.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe_regions() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
    }

    #[test]
    fn documented_vector_get() {
        let sts = string_to_sign("GET", describe_regions());
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1\
%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z\
%26Version%3D2014-05-26"
        );
        assert_eq!(sign("testsecret", &sts), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
        assert!(verify("testsecret", &sts, "OLeaidS1JvxuMvnyHOwuJ+uX5qY="));
        assert!(!verify("testsecret", &sts, "OLeaidS1JvxuMvnyHOwuJ+uX5qZ="));
        assert!(!verify("testsecret", &sts, ""));
        assert!(!verify("othersecret", &sts, "OLeaidS1JvxuMvnyHOwuJ+uX5qY="));
    }

    #[test]
    fn documented_vector_post() {
        let sts = string_to_sign("POST", describe_regions());
        assert_eq!(sign("testsecret", &sts), "MxbnVAM4w6sft9xjVpe/GCKueuk=");
    }

    #[test]
    fn order_of_input_does_not_matter_and_signature_is_dropped() {
        let mut params = describe_regions();
        params.reverse();
        params.push(("Signature", "whatever"));
        let sts = string_to_sign("GET", params);
        assert_eq!(sign("testsecret", &sts), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    #[test]
    fn python_sdk_vector() {
        let params = [
            ("SmartAGId", "sag-1"),
            ("UserMail", "a@b.c"),
            ("Bandwidth", "20"),
            ("UserName", "space user*~"),
            ("Version", "2018-03-13"),
            ("Action", "CreateSmartAccessGatewayClientUser"),
            ("Format", "JSON"),
            ("RegionId", "cn-shanghai"),
            ("Timestamp", "2026-11-23T01:09:05Z"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureType", ""),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", "be0f3689699f7df44d827051f09f5be2"),
            ("AccessKeyId", "testid"),
        ];
        let canonical = canonicalized_query(params);
        assert!(canonical.contains("&SignatureType=&"), "{canonical}");
        assert!(canonical.contains("UserName=space%20user%2A~"), "{canonical}");
        let sts = string_to_sign("POST", params);
        assert!(sts.contains("UserName%3Dspace%2520user%252A~"), "{sts}");
        assert_eq!(sign("testsecret", &sts), "Szk4BM+DeJ9LpcoUG51spfu2Xpw=");
    }

    /// The signed query is the canonicalized query and the signature of the string to sign, as
    /// the two steps compute them separately, whatever the parameters hold.
    #[test]
    fn signed_query_is_the_canonical_query_and_its_signature() {
        use proptest::prelude::*;
        let check = |params: &[(String, String)]| {
            let pairs = params.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            let signature = sign("s3cr&t", &string_to_sign("POST", pairs.clone()));
            let canonical = canonicalized_query(pairs.clone());
            let sep = if canonical.is_empty() { "" } else { "&" };
            let expected = format!("{canonical}{sep}Signature={}", crate::encoding::percent_encode(&signature));
            assert_eq!(signed_query("POST", "s3cr&t", pairs), expected);
        };
        check(&[]);
        check(&[("UserName".into(), "späce %20&=+/*~\u{1F600}".into()), ("Empty".into(), String::new())]);
        proptest!(|(params in proptest::collection::vec(("\\PC{0,8}", "\\PC{0,12}"), 0..8))| check(&params));
    }

    #[test]
    fn canonical_query_keeps_empty_values_and_sorts_by_bytes() {
        let q = canonicalized_query([("b", ""), ("B", "x"), ("a", "2"), ("a", "1"), ("Signature", "s")]);
        assert_eq!(q, "B=x&a=1&a=2&b=");
        assert_eq!(canonicalized_query(std::iter::empty()), "");
    }
}
