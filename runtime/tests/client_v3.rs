//! Signature version 3 (`ACS3-HMAC-SHA256`), the client's default, against a recording server:
//! every request is checked as a version 3 server would check it, from what arrived on the wire.
#![cfg(feature = "client")]

mod client_support;

use std::collections::HashSet;
use std::error::Error as _;
use std::time::Duration;

use alibaba_rpc_runtime::client::{ClientConfig, InvokeError, RetryPolicy, SignatureVersion, TransportErrorKind};
use alibaba_rpc_runtime::signature::v3::{EMPTY_BODY_SHA256, hash_payload};
use alibaba_rpc_runtime::signature::{canonical_query, parse_timestamp};
use client_support::*;

/// The parameters of the fake operations, decoded.
const OP_PARAMS: [(&str, &str); 4] =
    [("Bandwidth", "20"), ("Password", PASSWORD), ("RegionId", "cn-shanghai"), ("UserName", USER_NAME)];

/// Checks one received request against everything version 3 asks of a client request, and that
/// it verifies; returns its `x-acs-date`, nonce and signature.
fn assert_v3_wire_form(
    req: &Recorded,
    server: &FakeServer,
    action: &str,
    with_token: bool,
) -> (String, String, String) {
    assert_eq!(req.method, axum::http::Method::POST);
    assert_eq!(req.path, "/");
    assert!(req.body.is_empty(), "body must be empty");
    if let Some(len) = req.header("content-length") {
        assert_eq!(len, "0");
    }
    assert_eq!(req.header("content-type"), None, "no body, no content-type");

    // The query: the operation's parameters only, on the wire exactly in canonical form.
    let params = req.params();
    let mut received: Vec<(&str, &str)> = params.iter().collect();
    received.sort_unstable();
    assert_eq!(received, OP_PARAMS, "{}", req.raw_query);
    assert_eq!(req.raw_query, canonical_query(OP_PARAMS));

    // The protocol headers, each once.
    assert_eq!(req.header("host"), Some(format!("127.0.0.1:{}", server.addr.port()).as_str()));
    assert_eq!(req.header("x-acs-action"), Some(action));
    assert_eq!(req.header("x-acs-version"), Some("2018-03-13"));
    assert_eq!(req.header("x-acs-content-sha256"), Some(EMPTY_BODY_SHA256));
    assert_eq!(req.header("x-acs-content-sha256"), Some(hash_payload(&req.body).as_str()));
    assert_eq!(req.header("accept"), Some("application/json"));
    let ua = req.header("user-agent").expect("user-agent");
    assert!(ua.starts_with("alibaba-rpc-rust/") && ua.ends_with(" Smartag/2018-03-13"), "{ua}");
    let date = req.header("x-acs-date").expect("x-acs-date");
    let parsed = parse_timestamp(date).expect("x-acs-date is YYYY-MM-DDThh:mm:ssZ");
    assert!((time::OffsetDateTime::now_utc() - parsed).abs() < time::Duration::minutes(1), "{date}");
    let nonce = req.header("x-acs-signature-nonce").expect("x-acs-signature-nonce");
    assert!(nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()), "{nonce}");
    assert_eq!(req.header("x-acs-security-token"), with_token.then_some(TOKEN));
    assert_eq!(req.header("x-acs-accesskey-id"), with_token.then_some(ACCESS_KEY_ID));

    // Signature: what a server recomputes from the received SignedHeaders list.
    let (auth, string_to_sign) = req.verify_v3(SECRET).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(auth.credential, ACCESS_KEY_ID);
    let mut must_sign: Vec<&str> =
        req.headers.keys().map(|n| n.as_str()).filter(|n| *n == "host" || n.starts_with("x-acs-")).collect();
    must_sign.sort_unstable();
    assert_eq!(auth.signed_headers, must_sign, "host and every x-acs-* header are signed, nothing else");
    assert_eq!(auth.signed_headers.len(), 6 + 2 * usize::from(with_token));
    assert!(!alibaba_rpc_runtime::signature::v3::verify("other-secret", &string_to_sign, &auth.signature));

    // None of the version 1.0 fields is sent.
    for name in ["Action", "Version", "AccessKeyId", "Signature", "SignatureNonce", "Timestamp", "SecurityToken"] {
        assert_eq!(params.get(name), None, "{name} must not be a parameter under version 3");
    }
    (date.to_owned(), nonce.to_owned(), auth.signature)
}

/// A copy of `req` with header `name` set to `value`.
fn tampered(req: &Recorded, name: &'static str, value: &str) -> Recorded {
    let mut copy = req.clone();
    copy.headers.insert(name, value.parse().unwrap());
    copy
}

#[tokio::test]
async fn default_signs_version_3_and_verifies() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client_v3(&server.endpoint(), RetryPolicy::none(), credentials());
    assert_eq!(client.config().signature_version(), SignatureVersion::V3);
    assert_eq!(SignatureVersion::default(), SignatureVersion::V3);
    let response = client.invoke(&FakeCreate::valid()).await.unwrap();
    assert_eq!(response.request_id, "req-ok");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_v3_wire_form(req, &server, "CreateSmartAccessGatewayClientUser", false);

    // The check can fail: any signed value changed, or the query, or the secret.
    let port = server.addr.port();
    for (name, value) in [
        ("host", "127.0.0.1".to_string()),
        ("host", format!("localhost:{port}")),
        ("x-acs-action", "DescribeSmartAccessGatewayClientUsers".to_string()),
        ("x-acs-date", "2020-01-01T00:00:00Z".to_string()),
        ("x-acs-signature-nonce", "0".repeat(32)),
        ("x-acs-content-sha256", hash_payload(b"x")),
    ] {
        assert!(tampered(req, name, &value).verify_v3(SECRET).is_err(), "{name}: {value}");
    }
    let more = Recorded { raw_query: format!("{}&OwnerId=1", req.raw_query), ..req.clone() };
    assert!(more.verify_v3(SECRET).is_err());
    assert!(req.verify_v3("test-Secret-Value-43").is_err());
    // Unsigned headers may change.
    assert!(tampered(req, "user-agent", "proxy/1.0").verify_v3(SECRET).is_ok());
}

#[tokio::test]
async fn security_token_travels_as_signed_headers_under_v3() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client_v3(&server.endpoint(), RetryPolicy::none(), credentials().with_security_token(TOKEN));
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    let requests = server.requests();
    let req = &requests[0];
    assert_v3_wire_form(req, &server, "DescribeSmartAccessGatewayClientUsers", true);
    assert!(!req.raw_query.contains(TOKEN));
    assert!(tampered(req, "x-acs-security-token", "stolen").verify_v3(SECRET).is_err());
    assert!(tampered(req, "x-acs-accesskey-id", "other").verify_v3(SECRET).is_err());
}

#[tokio::test]
async fn version_1_is_one_call_away_and_sends_no_v3_headers() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client_with(
        &server.endpoint(),
        RetryPolicy::none(),
        credentials().with_security_token(TOKEN),
        Some(SignatureVersion::V1),
    );
    assert_eq!(client.config().signature_version(), SignatureVersion::V1);
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    let requests = server.requests();
    let req = &requests[0];
    assert_eq!(req.param("SignatureVersion").as_deref(), Some("1.0"));
    assert_eq!(req.param("SecurityToken").as_deref(), Some(TOKEN));
    assert!(req.param("Signature").is_some());
    assert_eq!(req.header("authorization"), None);
    let v3_headers: Vec<&str> = req.headers.keys().map(|n| n.as_str()).filter(|n| n.starts_with("x-acs-")).collect();
    assert!(v3_headers.is_empty(), "{v3_headers:?}");
    let sts = alibaba_rpc_runtime::signature::string_to_sign("POST", req.params().iter());
    assert!(alibaba_rpc_runtime::signature::verify(SECRET, &sts, &req.param("Signature").unwrap()));
}

/// Every attempt is signed afresh: new nonce, new date, new signature, and each verifies. The
/// first reply takes over a second, so the second attempt's date must be a later second.
#[tokio::test]
async fn retries_get_a_fresh_nonce_date_and_signature() {
    let server = FakeServer::start(vec![
        Reply::envelope(503, "ServiceUnavailable", "try later").delayed(Duration::from_millis(1100)),
        Reply::envelope(400, "Throttling.User", "slow down"),
        Reply::ok(),
    ])
    .await;
    let client = client_v3(&server.endpoint(), fast_retry(3), credentials().with_security_token(TOKEN));
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let seen: Vec<(String, String, String)> = requests
        .iter()
        .map(|req| assert_v3_wire_form(req, &server, "DescribeSmartAccessGatewayClientUsers", true))
        .collect();
    let nonces: HashSet<&str> = seen.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(nonces.len(), 3, "every attempt needs a new nonce");
    let signatures: HashSet<&str> = seen.iter().map(|(_, _, s)| s.as_str()).collect();
    assert_eq!(signatures.len(), 3, "every attempt is re-signed");
    let dates: Vec<time::OffsetDateTime> = seen.iter().map(|(d, _, _)| parse_timestamp(d).unwrap()).collect();
    assert!(dates[1] > dates[0], "the retry's date is taken when it is sent: {seen:?}");
    assert!(dates[2] >= dates[1], "{seen:?}");
}

#[tokio::test]
async fn non_idempotent_is_still_not_retried_after_a_response() {
    let server = FakeServer::start(vec![Reply::envelope(503, "ServiceUnavailable", "down"), Reply::ok()]).await;
    let client = client_v3(&server.endpoint(), fast_retry(5), credentials());
    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn connect_errors_show_nothing_secret() {
    let client = client_v3(&closed_endpoint(), fast_retry(2), credentials().with_security_token(TOKEN));
    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(t) if t.is_connect() && t.attempts() == 2), "{err:?}");
    let mut texts = vec![err.to_string(), format!("{err:?}"), format!("{client:?}")];
    let mut source = err.source();
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    for text in texts {
        for leaked in [SECRET, TOKEN, "ACS3", "Signature", "Password", "p%40ss", "space%20user"] {
            assert!(!text.contains(leaked), "{leaked:?} leaked in {text}");
        }
    }
}

/// A credential that cannot be a header value is refused before anything is sent, without
/// retrying and without showing the value.
#[tokio::test]
async fn credential_that_is_not_a_header_value_sends_nothing() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let config = ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .endpoint(server.endpoint())
        .credentials(alibaba_rpc_runtime::client::Credentials::new("id\u{1}x", SECRET))
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let client = alibaba_rpc_runtime::client::RpcClient::new(config).unwrap();
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    let InvokeError::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind(), TransportErrorKind::Request);
    assert_eq!(transport.attempts(), 1);
    assert!(server.requests().is_empty());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET) && !shown.contains("ACS3"), "{shown}");
}

/// One client's attempts share the shape of their headers (the client copies a template of their
/// names); every request still carries its own action, date, nonce and signature, and a call's
/// extra header goes with that call only.
#[tokio::test]
async fn consecutive_calls_each_carry_their_own_headers() {
    use reqwest::header::{HeaderName, HeaderValue};

    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client_v3(&server.endpoint(), RetryPolicy::none(), credentials());
    client.invoke(&FakeCreate::valid()).await.unwrap();
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    client
        .call(&FakeDescribe::valid())
        .header(HeaderName::from_static("x-acs-app-trace"), HeaderValue::from_static("trace-1"))
        .await
        .unwrap();
    client.invoke(&FakeCreate::valid()).await.unwrap();
    client.invoke(&FakeDescribe::valid()).await.unwrap();

    let requests = server.requests();
    let actions = [
        "CreateSmartAccessGatewayClientUser",
        "DescribeSmartAccessGatewayClientUsers",
        "DescribeSmartAccessGatewayClientUsers",
        "CreateSmartAccessGatewayClientUser",
        "DescribeSmartAccessGatewayClientUsers",
    ];
    assert_eq!(requests.len(), actions.len());
    let mut signatures = HashSet::new();
    let mut nonces = HashSet::new();
    for (i, (req, action)) in requests.iter().zip(actions).enumerate() {
        if i == 2 {
            assert_eq!(req.header("x-acs-app-trace"), Some("trace-1"));
            let (auth, _) = req.verify_v3(SECRET).unwrap_or_else(|e| panic!("{e}"));
            assert!(auth.signed_headers.iter().any(|h| h == "x-acs-app-trace"), "{:?}", auth.signed_headers);
            continue;
        }
        assert_eq!(req.header("x-acs-app-trace"), None, "request {i}");
        assert_eq!(req.headers.len(), 9, "request {i}: {:?}", req.headers);
        let (_, nonce, signature) = assert_v3_wire_form(req, &server, action, false);
        assert!(nonces.insert(nonce), "request {i}");
        assert!(signatures.insert(signature), "request {i}");
    }
}
