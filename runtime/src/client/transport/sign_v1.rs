//! Version 1.0 (`HMAC-SHA1`): every parameter, the protocol's among them, and the signature, in
//! the canonical order, as a form body.

use hmac::Hmac;
use sha1::Sha1;

use crate::flatten::{WireParam, as_pairs};
use crate::signature::v1::{self, common as p};

use super::parts::SignedParts;
use crate::client::config::ClientConfig;
use crate::client::credentials::Credentials;
use crate::client::signing_key;

/// The version 1.0 parts of one attempt of `action` with `nonce` and `timestamp`, signed with
/// `credentials` (with the configuration's keyed secret when it is theirs): a form body only.
pub(super) fn attempt_parts(
    config: &ClientConfig,
    credentials: &Credentials,
    action: &str,
    nonce: &str,
    timestamp: &str,
    op_params: &[WireParam<'_>],
) -> SignedParts {
    let key = signing_key::v1_key(config.fixed_key.as_ref(), &credentials.access_key_secret);
    let form = build_v1_with(action, config.service.version, credentials, key.as_deref(), nonce, timestamp, op_params);
    SignedParts { query: String::new(), form, headers: Vec::new() }
}

/// [`build_v1_with`], keyed here.
#[cfg(test)]
fn build_v1(
    action: &str,
    version: &str,
    creds: &Credentials,
    nonce: &str,
    timestamp: &str,
    op_params: &[WireParam<'_>],
) -> String {
    let key = v1::keyed(creds.access_key_secret.expose());
    build_v1_with(action, version, creds, key.as_ref(), nonce, timestamp, op_params)
}

/// Version 1.0: common parameters, the operation's parameters, and the signature over all of them
/// for `POST`, sent in the canonical order ([`v1::signed_query`]): the bytes sent are the bytes
/// signed, encoded once. The common parameters are listed in that order already, so only the
/// operation's few are sorted, then merged in.
/// `key` is the HMAC keyed by the secret of `creds`.
fn build_v1_with(
    action: &str,
    version: &str,
    creds: &Credentials,
    key: Option<&Hmac<Sha1>>,
    nonce: &str,
    timestamp: &str,
    op_params: &[WireParam<'_>],
) -> String {
    let token = creds.security_token.as_ref().map(|token| (p::SECURITY_TOKEN, token.expose()));
    let common = [
        Some((p::ACCESS_KEY_ID, creds.access_key_id.as_str())),
        Some((p::ACTION, action)),
        Some((p::FORMAT, "JSON")),
        token,
        Some((p::SIGNATURE_METHOD, p::SIGNATURE_METHOD_HMAC_SHA1)),
        Some((p::SIGNATURE_NONCE, nonce)),
        Some((p::SIGNATURE_TYPE, "")),
        Some((p::SIGNATURE_VERSION, p::SIGNATURE_VERSION_1_0)),
        Some((p::TIMESTAMP, timestamp)),
        Some((p::VERSION, version)),
    ];
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(common.len() + op_params.len());
    pairs.extend(as_pairs(op_params).filter(|(name, _)| *name != v1::SIGNATURE_PARAM));
    pairs.sort_unstable();
    // Merged from the back, in place: `pairs[..own]` holds the operation's pairs not yet moved.
    let mut own = pairs.len();
    pairs.resize(own + common.iter().flatten().count(), ("", ""));
    let mut slot = pairs.len();
    for &pair in common.iter().rev().flatten() {
        while own > 0 && pairs[own - 1] > pair {
            own -= 1;
            slot -= 1;
            pairs[slot] = pairs[own];
        }
        slot -= 1;
        pairs[slot] = pair;
    }
    v1::signed_sorted_query("POST", key, &pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::transport::sign::test_support::vector_params;

    /// Version 1.0 queries: every parameter in the canonical order, then the signature, which is
    /// the one the client computed before version 3 existed (recorded from that code), with and
    /// without a security token.
    #[test]
    fn v1_query_is_the_canonical_query_and_the_recorded_signature() {
        let nonce = "be0f3689699f7df44d827051f09f5be2";
        let ts = "2026-11-23T01:09:05Z";
        let with_token = build_v1(
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret").with_security_token("tok/en+="),
            nonce,
            ts,
            &[
                ("RegionId".into(), "cn-shanghai".into()),
                ("UserName".into(), "space user*~".into()),
                ("Password".into(), "p@ss w+rd/&=Zz9".into()),
            ],
        );
        assert_eq!(
            with_token,
            "AccessKeyId=testid&Action=CreateSmartAccessGatewayClientUser&Format=JSON\
&Password=p%40ss%20w%2Brd%2F%26%3DZz9&RegionId=cn-shanghai&SecurityToken=tok%2Fen%2B%3D&SignatureMethod=HMAC-SHA1\
&SignatureNonce=be0f3689699f7df44d827051f09f5be2&SignatureType=&SignatureVersion=1.0\
&Timestamp=2026-11-23T01%3A09%3A05Z&UserName=space%20user%2A~&Version=2018-03-13\
&Signature=G1MQ%2FP2CA0wvGAJo20yRGfwxb5U%3D"
        );
        let mut params = vector_params();
        params.rotate_left(1); // the order `to_params` gave, RegionId last
        let plain = build_v1(
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret"),
            nonce,
            ts,
            &params,
        );
        assert_eq!(
            plain,
            "AccessKeyId=testid&Action=CreateSmartAccessGatewayClientUser&Bandwidth=20&Format=JSON\
&RegionId=cn-shanghai&SignatureMethod=HMAC-SHA1&SignatureNonce=be0f3689699f7df44d827051f09f5be2&SignatureType=\
&SignatureVersion=1.0&SmartAGId=sag-1&Timestamp=2026-11-23T01%3A09%3A05Z&UserMail=a%40b.c\
&UserName=space%20user%2A~&Version=2018-03-13&Signature=Szk4BM%2BDeJ9LpcoUG51spfu2Xpw%3D"
        );
    }

    /// The merge of the (pre-sorted) common parameters with the operation's gives exactly the
    /// canonical order a full sort gives, whatever the operation's names: before, between and
    /// after the common ones, repeated, equal to one of them, with and without a security token.
    #[test]
    fn v1_merge_is_the_full_sort() {
        use proptest::prelude::*;
        let check = |params: &[(String, String)], token: bool| {
            let mut creds = Credentials::new("id", "s3cr&t");
            if token {
                creds = creds.with_security_token("tok");
            }
            let op: Vec<WireParam<'_>> = params.iter().map(|(n, v)| (n.clone().into(), v.as_str().into())).collect();
            let merged = build_v1("Act", "2018-03-13", &creds, "nonce", "2026-01-01T00:00:00Z", &op);
            let mut all = vec![
                ("Action", "Act"),
                ("Version", "2018-03-13"),
                ("Format", "JSON"),
                ("AccessKeyId", "id"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureType", ""),
                ("SignatureVersion", "1.0"),
                ("SignatureNonce", "nonce"),
                ("Timestamp", "2026-01-01T00:00:00Z"),
            ];
            if token {
                all.push(("SecurityToken", "tok"));
            }
            all.extend(params.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            assert_eq!(merged, v1::signed_query("POST", "s3cr&t", all), "{params:?}");
        };
        const NAMES: [&str; 10] =
            ["A", "Action", "Format", "Page", "RegionId", "Se", "SignatureZ", "Signature", "Tag.1", "Zed"];
        for token in [false, true] {
            check(&[], token);
            check(&NAMES.iter().map(|n| (n.to_string(), "v".to_string())).collect::<Vec<_>>(), token);
        }
        let name = proptest::sample::select(&NAMES[..])
            .prop_map(str::to_owned)
            .boxed()
            .prop_union("[A-Za-z.0-9]{1,12}".boxed());
        proptest!(|(params in proptest::collection::vec((name, "\\PC{0,6}"), 0..8), token: bool)| check(&params, token));
    }

    /// The request of shared/wire-protocol.md as the official Python SDK sends it.
    #[test]
    fn python_sdk_vector() {
        let query = build_v1(
            "CreateSmartAccessGatewayClientUser",
            "2018-03-13",
            &Credentials::new("testid", "testsecret"),
            "be0f3689699f7df44d827051f09f5be2",
            "2026-11-23T01:09:05Z",
            &[
                ("RegionId".into(), "cn-shanghai".into()),
                ("SmartAGId".into(), "sag-1".into()),
                ("UserMail".into(), "a@b.c".into()),
                ("Bandwidth".into(), "20".into()),
                ("UserName".into(), "space user*~".into()),
            ],
        );
        assert!(query.ends_with("&Signature=Szk4BM%2BDeJ9LpcoUG51spfu2Xpw%3D"), "{query}");
        assert!(query.contains("&SignatureType=&"), "{query}");
        assert!(query.contains("&UserName=space%20user%2A~"), "{query}");
        assert!(query.contains("&Timestamp=2026-11-23T01%3A09%3A05Z"), "{query}");
        assert!(query.contains("&UserMail=a%40b.c"), "{query}");
    }

    #[test]
    fn security_token_is_signed_and_sent() {
        let creds = Credentials::new("testid", "testsecret").with_security_token("tok/en+=");
        let query = build_v1("A", "V", &creds, "n", "t", &[]);
        assert!(query.contains("&SecurityToken=tok%2Fen%2B%3D&"), "{query}");
        let plain = build_v1("A", "V", &Credentials::new("testid", "testsecret"), "n", "t", &[]);
        let sig = |q: &str| q.rsplit_once("&Signature=").map(|(_, s)| s.to_string());
        assert_ne!(sig(&query), sig(&plain));
    }
}
