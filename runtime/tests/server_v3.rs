//! Signature version 3 (`ACS3-HMAC-SHA256`, and `ACS3-HMAC-SM3`) at the router, in process: what
//! the Tea SDKs send, and every way a request can fail to conform.
#![cfg(feature = "server")]

mod server_support;

use std::collections::HashMap;

use alibaba_rpc_runtime::server::{Authentication, KeyMaterial, ServerConfig, router};
use alibaba_rpc_runtime::signature::format_timestamp;
use alibaba_rpc_runtime::signature::v3::{Algorithm, EMPTY_BODY_SM3};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures::stream;
use server_support::*;
use time::OffsetDateTime;

fn server_sts(message: &str) -> Option<&str> {
    message.split_once("server string to sign is:").map(|(_, s)| s)
}

// ---- what the SDKs send ------------------------------------------------------------------------

#[tokio::test]
async fn python_tea_shape_signing_every_header() {
    let a =
        send(&app(), V3::echo("ctx").header("user-agent", "AlibabaCloud (Linux) Python/3.11 TeaDSL/2").request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let ctx = &a.json()["Context"];
    assert_eq!(ctx["Action"], "Echo");
    assert_eq!(ctx["AccessKeyId"], KEY_ID);
    assert_eq!(ctx["RegionId"], "cn-shanghai");
}

#[tokio::test]
async fn minimal_signed_header_set() {
    let mut r = V3::echo("x").header("user-agent", "unsigned agent");
    r.sign_only = Some(
        ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
            .map(str::to_owned)
            .to_vec(),
    );
    let a = send(&app(), r.request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

/// `signature_algorithm = 'ACS3-HMAC-SM3'` in a Tea SDK: the same request with SM3 hashes and
/// HMAC-SM3, its body's SM3 in `x-acs-content-sha256`.
#[tokio::test]
async fn sm3_signed_requests_are_verified_with_sm3() {
    let r = V3::echo("space user*~").algorithm(Algorithm::HmacSm3);
    assert!(r.all_headers().contains(&("x-acs-content-sha256".to_owned(), EMPTY_BODY_SM3.to_owned())));
    assert!(r.authorization().starts_with("ACS3-HMAC-SM3 Credential="));
    let a = send(&app(), r.request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Name"], "space user*~");

    // A form body, hashed with SM3.
    let params = vec![("Name".to_owned(), "form".to_owned())];
    let mut f = V3::echo("ignored").algorithm(Algorithm::HmacSm3).form(&params);
    f.query.clear();
    let a = send(&app(), f.request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Name"], "form");

    // A wrong secret: the string to sign the server reports is SM3's.
    let mut w = V3::echo("x").algorithm(Algorithm::HmacSm3);
    w.secret = "wrongsecret".to_owned();
    let message = send(&app(), w.request()).await.expect_error(400, "SignatureDoesNotMatch");
    assert_eq!(server_sts(&message), Some(w.string_to_sign().as_str()));
    assert!(w.string_to_sign().starts_with("ACS3-HMAC-SM3\n"));

    // The SHA-256 signature of the same request under the SM3 name, and the other way round.
    let sm3 = V3::echo("x").algorithm(Algorithm::HmacSm3);
    let sha_named_sm3 = V3 { algorithm: Algorithm::HmacSha256, ..sm3.clone() }.authorization().replacen(
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SM3",
        1,
    );
    send(&app(), sm3.request_with_authorization(Some(&sha_named_sm3))).await.expect_error(400, "SignatureDoesNotMatch");
    let sha = V3::echo("x");
    let sm3_named_sha = V3 { algorithm: Algorithm::HmacSm3, ..sha.clone() }.authorization().replacen(
        "ACS3-HMAC-SM3",
        "ACS3-HMAC-SHA256",
        1,
    );
    send(&app(), sha.request_with_authorization(Some(&sm3_named_sha))).await.expect_error(400, "SignatureDoesNotMatch");
}

/// An SM3-signed request whose `x-acs-content-sha256` is the body's SHA-256 (or that says it
/// signs with SHA-256 while hashing its body with SM3) is refused with the hash it needed.
#[tokio::test]
async fn the_body_hash_follows_the_algorithm() {
    let mut r = V3::echo("x").algorithm(Algorithm::HmacSm3);
    r = r.header("x-acs-content-sha256", alibaba_rpc_runtime::signature::v3::EMPTY_BODY_SHA256);
    let message = send(&app(), r.request()).await.expect_error(400, "IncompleteSignature");
    assert!(message.contains("send the lowercase hex SM3 of the exact body bytes (ACS3-HMAC-SM3)"), "{message}");
}

#[tokio::test]
async fn form_body_as_node_sends_it_chunked() {
    let params = vec![("Name".to_owned(), "space user*~".to_owned()), ("Count".to_owned(), "3".to_owned())];
    let mut r = V3::echo("ignored").form(&params);
    r.query.clear();
    let signed = r.request();
    // Re-send the same head with the body streamed in pieces (Transfer-Encoding: chunked).
    let (parts, _) = signed.into_parts();
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> = r.body.chunks(5).map(|c| Ok(c.to_vec())).collect();
    let mut chunked = Request::from_parts(parts, Body::from_stream(stream::iter(pieces)));
    chunked.headers_mut().insert("transfer-encoding", "chunked".parse().unwrap_or_else(|_| unreachable!()));
    let a = send(&app(), chunked).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Name"], "space user*~");
    assert_eq!(a.json()["Count"], 3);
}

#[tokio::test]
async fn xml_and_json_answers_as_under_v1() {
    let a = send(&app(), V3::echo("x").param("Format", "XML").request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.text.contains("<EchoResponse>"), "{}", a.text);
    let a = send(&app(), V3::echo("taken").param("Format", "XML").request()).await;
    assert_eq!(a.status.as_u16(), 409, "{}", a.text);
    assert!(a.text.contains("<Code>Echo.NameTaken</Code>"), "{}", a.text);
    // Validation: same codes as v1.
    let a = send(&app(), V3::echo("x").param("Count", "99").request()).await;
    a.expect_error(400, "Echo.CountInvalid");
    let a = send(&app(), V3::echo("x").param("Count", "many").request()).await;
    a.expect_error(400, "InvalidParameter");
}

#[tokio::test]
async fn action_and_version_come_from_headers() {
    let a = send(&app(), V3::echo("x").header("x-acs-action", "Nope").request()).await;
    a.expect_error(404, "InvalidAction.NotFound");
    let a = send(&app(), V3::echo("x").header("x-acs-version", "2020-01-01").request()).await;
    a.expect_error(400, "InvalidVersion");
    // An Authorization header but no x-acs-action: the action is missing, named as a header.
    let r = V3::echo("x");
    let mut request = r.request();
    request.headers_mut().remove("x-acs-action");
    let a = send(&app(), request).await;
    assert_eq!(a.expect_error(400, "MissingParameter"), missing("x-acs-action"));
}

#[tokio::test]
async fn unsigned_v3_shape_says_what_is_missing() {
    let a = send(&app(), V3::echo("x").request_with_authorization(None)).await;
    let message = a.expect_error(400, "IncompleteSignature");
    assert!(message.contains("Authorization header is missing"), "{message}");
}

// ---- refusals ----------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_secret_reports_the_string_to_sign() {
    let mut r = V3::echo("space user*~");
    r.secret = "wrongsecret".to_owned();
    let a = send(&app(), r.request()).await;
    let message = a.expect_error(400, "SignatureDoesNotMatch");
    // The SDKs compare this with their own: equal means a wrong secret, not wrong signing.
    assert_eq!(server_sts(&message), Some(r.string_to_sign().as_str()));
    assert!(message.starts_with("Specified signature is not matched"), "{message}");
}

#[tokio::test]
async fn tampering_with_any_signed_part_fails() {
    let r = V3::echo("x").param("Count", "2");
    let good = r.request();
    let (parts, _) = good.into_parts();
    let base = || Request::from_parts(parts.clone(), Body::empty());

    // A query value.
    let mut t = base();
    *t.uri_mut() = "/?Name=y&RegionId=cn-shanghai&Count=2".parse().unwrap_or_default();
    send(&app(), t).await.expect_error(400, "SignatureDoesNotMatch");
    // A query parameter added.
    let mut t = base();
    *t.uri_mut() = format!("{}&Password=x", parts.uri).parse().unwrap_or_default();
    send(&app(), t).await.expect_error(400, "SignatureDoesNotMatch");
    // A signed header.
    for (name, value) in [("host", "evil.example.com"), ("accept", "text/xml"), ("x-acs-signature-nonce", "abc")] {
        let mut t = base();
        t.headers_mut().insert(name, value.parse().unwrap_or_else(|_| unreachable!()));
        send(&app(), t).await.expect_error(400, "SignatureDoesNotMatch");
    }
    // The method.
    let mut t = base();
    *t.method_mut() = Method::GET;
    send(&app(), t).await.expect_error(400, "SignatureDoesNotMatch");
    // Untouched: accepted.
    let a = send(&app(), base()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

#[tokio::test]
async fn body_must_hash_to_the_header() {
    let params = vec![("Name".to_owned(), "x".to_owned())];
    let mut r = V3::echo("x").form(&params);
    r.query.clear();
    let (parts, _) = r.request().into_parts();
    let tampered = Request::from_parts(parts, Body::from("Name=y"));
    let message = send(&app(), tampered).await.expect_error(400, "IncompleteSignature");
    assert!(message.contains("does not hash to x-acs-content-sha256"), "{message}");
    assert!(server_sts(&message).is_some_and(|s| s.starts_with("ACS3-HMAC-SHA256\n")), "{message}");
}

#[tokio::test]
async fn host_and_protocol_headers_must_be_signed() {
    for unsigned in
        ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]
    {
        let mut r = V3::echo("x");
        let names: Vec<String> = r.all_headers().into_iter().map(|(n, _)| n).filter(|n| n != unsigned).collect();
        r.sign_only = Some(names);
        let message = send(&app(), r.request()).await.expect_error(400, "IncompleteSignature");
        assert!(message.contains(&format!("The header {unsigned} is not signed")), "{unsigned}: {message}");
    }
    // A security token sent must be signed too.
    let mut r = V3::echo("x").header("x-acs-security-token", "tok");
    let names: Vec<String> =
        r.all_headers().into_iter().map(|(n, _)| n).filter(|n| n != "x-acs-security-token").collect();
    r.sign_only = Some(names);
    let message = send(&app(), r.request()).await.expect_error(400, "IncompleteSignature");
    assert!(message.contains("x-acs-security-token is not signed"), "{message}");
}

#[tokio::test]
async fn malformed_authorization_headers() {
    let r = V3::echo("x");
    let good = r.authorization();
    let sig = good.rsplit_once("Signature=").map(|(_, s)| s.to_owned()).unwrap_or_default();
    let cases = [
        ("ACS3-HMAC-SHA1 Credential=testid,SignedHeaders=host,Signature=ab".to_owned(), "must start with"),
        (format!("ACS3-RSA-SHA256 Credential=testid,SignedHeaders=host,Signature={sig}"), "(or `ACS3-HMAC-SM3 `)"),
        (format!("ACS3-HMAC-SHA256 SignedHeaders=host,Signature={sig}"), "no `Credential=` field"),
        ("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host".to_owned(), "no `Signature=` field"),
        ("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host,Signature=xyz".to_owned(), "64 hexadecimal digits"),
        (format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=Host;X-Acs-Date,Signature={sig}"), "lowercase"),
    ];
    for (value, expected) in cases {
        let message =
            send(&app(), r.request_with_authorization(Some(&value))).await.expect_error(400, "IncompleteSignature");
        assert!(message.contains("Malformed Authorization header"), "{value}: {message}");
        assert!(message.contains(expected), "{value}: {message}");
    }
}

#[tokio::test]
async fn both_schemes_at_once_are_refused() {
    let r = V3::echo("x").param("Signature", "abc=");
    let message = send(&app(), r.request()).await.expect_error(400, "IncompleteSignature");
    assert!(message.contains("sign with one scheme only"), "{message}");
}

#[tokio::test]
async fn missing_protocol_headers_are_all_reported() {
    let r = V3::echo("x");
    let mut request = r.request();
    request.headers_mut().remove("x-acs-date");
    request.headers_mut().remove("x-acs-signature-nonce");
    let message = send(&app(), request).await.expect_error(400, "MissingParameter");
    assert!(message.starts_with(&missing("x-acs-date")), "{message}");
    assert!(message.contains("x-acs-signature-nonce"), "{message}");
}

#[tokio::test]
async fn unknown_key_date_window_and_format() {
    let mut r = V3::echo("x");
    r.key_id = "nosuchkey".to_owned();
    send(&app(), r.request()).await.expect_error(404, "InvalidAccessKeyId.NotFound");

    for offset in [time::Duration::minutes(-16), time::Duration::minutes(16)] {
        let mut r = V3::echo("x");
        r.date = format_timestamp(OffsetDateTime::now_utc() + offset);
        send(&app(), r.request()).await.expect_error(400, "InvalidTimeStamp.Expired");
    }
    let mut r = V3::echo("x");
    r.date = format_timestamp(OffsetDateTime::now_utc() - time::Duration::minutes(14));
    assert_eq!(send(&app(), r.request()).await.status, StatusCode::OK);
    let mut r = V3::echo("x");
    r.date = "Mon, 30 Nov 2026 03:00:00 GMT".to_owned();
    send(&app(), r.request()).await.expect_error(400, "InvalidTimeStamp.Format");
}

#[tokio::test]
async fn one_replay_memory_for_both_versions() {
    let app = app();
    let r = V3::echo("x");
    assert_eq!(send(&app, r.request()).await.status, StatusCode::OK);
    send(&app, r.request()).await.expect_error(400, "SignatureNonceUsed");

    // A nonce used under 1.0 is used under 3 as well, and the other way round.
    let mut v1 = echo_params("x");
    let nonce = v1.iter().find(|(k, _)| k == "SignatureNonce").map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(send(&app, sdk_post(&signed("POST", SECRET, v1.clone()))).await.status, StatusCode::OK);
    let mut again = V3::echo("y");
    again.nonce = nonce;
    send(&app, again.request()).await.expect_error(400, "SignatureNonceUsed");
    set(&mut v1, "SignatureNonce", &r.nonce);
    send(&app, sdk_post(&signed("POST", SECRET, v1))).await.expect_error(400, "SignatureNonceUsed");

    // A forged request does not burn a nonce.
    let mut forged = V3::echo("z");
    forged.secret = "wrong".to_owned();
    send(&app, forged.request()).await.expect_error(400, "SignatureDoesNotMatch");
    let mut genuine = V3::echo("z");
    genuine.nonce = forged.nonce.clone();
    assert_eq!(send(&app, genuine.request()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_parameter_is_refused() {
    let mut r = V3::echo("x");
    r.query.push(("Count".to_owned(), "1".to_owned()));
    r.query.push(("Count".to_owned(), "2".to_owned()));
    let message = send(&app(), r.request()).await.expect_error(400, "InvalidParameter");
    assert!(message.contains("\"Count\""), "{message}");
    // Once in the query and once in the body.
    let body = vec![("Name".to_owned(), "y".to_owned())];
    let r = V3::echo("x").form(&body);
    let message = send(&app(), r.request()).await.expect_error(400, "InvalidParameter");
    assert!(message.contains("\"Name\""), "{message}");
}

// ---- STS ---------------------------------------------------------------------------------------

fn sts_app() -> axum::Router {
    let keys = HashMap::from([
        ("STS.temp".to_owned(), KeyMaterial::temporary("tempsecret", "the-token")),
        (KEY_ID.to_owned(), KeyMaterial::permanent(SECRET)),
    ]);
    router(
        TestDispatch,
        ServerConfig::builder(&SERVICE).authentication(Authentication::signature(keys)).build(),
        &ERRORS,
    )
}

fn sts_v3() -> V3 {
    let mut r = V3::echo("x");
    r.key_id = "STS.temp".to_owned();
    r.secret = "tempsecret".to_owned();
    r
}

#[tokio::test]
async fn temporary_keys_need_their_token_under_v3() {
    let app = sts_app();
    let ok = sts_v3().header("x-acs-security-token", "the-token").header("x-acs-accesskey-id", "STS.temp");
    assert_eq!(send(&app, ok.request()).await.status, StatusCode::OK);
    let message = send(&app, sts_v3().request()).await.expect_error(400, "MissingSecurityToken");
    assert!(message.contains("x-acs-security-token"), "{message}");
    let wrong = sts_v3().header("x-acs-security-token", "another-token");
    send(&app, wrong.request()).await.expect_error(400, "InvalidSecurityToken.MismatchWithAccessKey");
    let other_key = sts_v3().header("x-acs-security-token", "the-token").header("x-acs-accesskey-id", "testid");
    send(&app, other_key.request()).await.expect_error(400, "IncompleteSignature");
    // A permanent key ignores a token.
    let permanent = V3::echo("x").header("x-acs-security-token", "whatever");
    assert_eq!(send(&app, permanent.request()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn temporary_keys_need_their_token_under_v1() {
    let app = sts_app();
    let with = |token: Option<&str>| {
        let mut p = echo_params("x");
        set(&mut p, "AccessKeyId", "STS.temp");
        if let Some(token) = token {
            set(&mut p, "SecurityToken", token);
        }
        sdk_post(&signed("POST", "tempsecret", p))
    };
    assert_eq!(send(&app, with(Some("the-token"))).await.status, StatusCode::OK);
    let message = send(&app, with(None)).await.expect_error(400, "MissingSecurityToken");
    assert!(message.contains("SecurityToken"), "{message}");
    send(&app, with(Some("nope"))).await.expect_error(400, "InvalidSecurityToken.MismatchWithAccessKey");
}
