//! The server router driven in-process: wire forms, formats, every protocol error path.
#![cfg(feature = "server")]

mod server_support;

use std::net::SocketAddr;
use std::time::Duration;

use alibaba_rpc_runtime::server::{Authentication, ServerConfig, router};
use alibaba_rpc_runtime::signature::{format_timestamp, string_to_sign};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use server_support::*;
use time::OffsetDateTime;

// ---- success -----------------------------------------------------------------------------------

#[tokio::test]
async fn json_success_with_request_id_first() {
    let app = app();
    let a = send(&app, sdk_post(&signed("POST", SECRET, echo_params("alice")))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.content_type, "application/json;charset=utf-8");
    assert!(a.text.starts_with("{\"RequestId\":\""), "{}", a.text);
    let v = a.json();
    assert_eq!(v["RequestId"].as_str(), Some(a.header_request_id.as_str()));
    assert_eq!(uuid::Uuid::parse_str(&a.header_request_id).map(|u| u.get_version_num()).ok(), Some(4));
    assert_eq!(v["Name"], "alice");
    assert_eq!(v["Count"], 1);
    assert_eq!(v["Items"]["Item"][0]["Value"], "a<&>");
    assert_eq!(v["Items"]["Item"][1]["Value"], "b");

    // A second request gets a different RequestId.
    let b = send(&app, sdk_post(&signed("POST", SECRET, echo_params("alice")))).await;
    assert_eq!(b.status, StatusCode::OK);
    assert_ne!(a.header_request_id, b.header_request_id);
}

#[tokio::test]
async fn xml_success_repeats_list_elements() {
    let mut p = echo_params("alice");
    set(&mut p, "Format", "xml");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.content_type, "text/xml;charset=utf-8");
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><EchoResponse><RequestId>{}</RequestId><Name>alice</Name>\
<Count>1</Count><Items><Item><Value>a&lt;&amp;&gt;</Value></Item><Item><Value>b</Value></Item></Items></EchoResponse>",
        a.header_request_id
    );
    assert_eq!(a.text, expected);
}

#[tokio::test]
async fn xml_error_envelope() {
    let mut p = echo_params("taken");
    set(&mut p, "Format", "XML");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.status.as_u16(), 409);
    assert_eq!(a.content_type, "text/xml;charset=utf-8");
    let expected = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><RequestId>{}</RequestId><HostId>test.example.com</HostId>\
<Code>Echo.NameTaken</Code><Message>The specified name is taken.</Message><Recommend></Recommend></Error>",
        a.header_request_id
    );
    assert_eq!(a.text, expected);
}

#[tokio::test]
async fn form_body_is_merged_and_signed() {
    let p = signed("POST", SECRET, echo_params("bob"));
    // Common parameters in the query, the operation's (and the signature) in the body.
    let (body, query): (Vec<_>, Vec<_>) = p.into_iter().partition(|(k, _)| k == "Name" || k == "Signature");
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/?{}", encode(&query)))
        .header("content-type", "application/x-www-form-urlencoded; charset=UTF-8")
        .body(Body::from(encode(&body).replace("%20", "+")))
        .unwrap_or_default();
    let a = send(&app(), request).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Name"], "bob");

    // The body takes part in the signature: change it and the signature no longer matches.
    let mut p = signed("POST", SECRET, echo_params("bob"));
    let request = {
        set(&mut p, "Count", "3");
        Request::builder()
            .method(Method::POST)
            .uri("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(encode(&p)))
            .unwrap_or_default()
    };
    send(&app(), request).await.expect_error(400, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn body_of_another_content_type_is_ignored() {
    let p = signed("POST", SECRET, echo_params("carol"));
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/?{}", encode(&p)))
        .header("content-type", "application/json")
        .body(Body::from("{\"Name\":\"mallory\"}"))
        .unwrap_or_default();
    let a = send(&app(), request).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Name"], "carol");
}

#[tokio::test]
async fn get_is_signed_with_get() {
    let app = app();
    let p = signed("GET", SECRET, echo_params("dave"));
    let get = |p: &[(String, String)]| {
        Request::builder().method(Method::GET).uri(format!("/?{}", encode(p))).body(Body::empty()).unwrap_or_default()
    };
    let a = send(&app, get(&p)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Name"], "dave");

    // Signed for POST but sent as GET: mismatch.
    let p = signed("POST", SECRET, echo_params("dave"));
    send(&app, get(&p)).await.expect_error(400, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn any_path_is_served() {
    let p = signed("POST", SECRET, echo_params("erin"));
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/some/path?{}", encode(&p)))
        .body(Body::empty())
        .unwrap_or_default();
    let a = send(&app(), request).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

#[tokio::test]
async fn context_is_filled() {
    let mut p = echo_params("ctx");
    set(&mut p, "Password", "hunter2-pass");
    let mut request = sdk_post(&signed("POST", SECRET, p));
    let addr: SocketAddr = "192.0.2.7:4242".parse().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
    request.extensions_mut().insert(ConnectInfo(addr));
    let a = send(&app(), request).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let ctx = &a.json()["Context"];
    assert_eq!(ctx["RequestId"].as_str(), Some(a.header_request_id.as_str()));
    assert_eq!(ctx["Action"], "Echo");
    assert_eq!(ctx["RegionId"], "cn-shanghai");
    assert_eq!(ctx["AccessKeyId"], KEY_ID);
    assert_eq!(ctx["RemoteAddr"], "192.0.2.7:4242");
    assert_eq!(ctx["HasPassword"], true);

    // Without ConnectInfo: no address, no failure.
    let a = send(&app(), sdk_post(&signed("POST", SECRET, echo_params("ctx")))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Context"]["RemoteAddr"], Value::Null);
}

#[tokio::test]
async fn authentication_disabled() {
    let app = router(
        TestDispatch,
        ServerConfig::builder(&SERVICE).authentication(Authentication::disabled()).build(),
        &ERRORS,
    );
    let p: Vec<(String, String)> =
        [("Action", "Echo"), ("Version", "2018-03-13"), ("Name", "ctx"), ("AccessKeyId", "anyone")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let a = send(&app, sdk_post(&p)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["Context"]["AccessKeyId"], "anyone");
    assert_eq!(a.json()["Context"]["RegionId"], Value::Null);
}

// ---- protocol errors ---------------------------------------------------------------------------

#[tokio::test]
async fn missing_action() {
    let mut p = echo_params("x");
    remove(&mut p, "Action");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "MissingParameter"), missing("Action"));
    // Empty counts as missing.
    let mut p = echo_params("x");
    set(&mut p, "Action", "");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "MissingParameter"), missing("Action"));
}

#[tokio::test]
async fn missing_and_wrong_version() {
    let mut p = echo_params("x");
    remove(&mut p, "Version");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "MissingParameter"), missing("Version"));

    let mut p = echo_params("x");
    set(&mut p, "Version", "2014-05-26");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "InvalidVersion"), "Specified parameter Version is not valid.");
}

#[tokio::test]
async fn bad_format_is_answered_in_json() {
    let mut p = echo_params("x");
    set(&mut p, "Format", "YAML");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "InvalidParameter"), "The specified parameter \"Format\" is not valid.");
}

#[tokio::test]
async fn format_is_checked_before_action() {
    let p: Vec<(String, String)> = vec![("Format".into(), "html".into())];
    let a = send(&app(), sdk_post(&p)).await;
    assert_eq!(a.expect_error(400, "InvalidParameter"), "The specified parameter \"Format\" is not valid.");
}

#[tokio::test]
async fn unknown_action() {
    let mut p = echo_params("x");
    set(&mut p, "Action", "DeleteEverything");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(404, "InvalidAction.NotFound"), ERRORS.invalid_action.message);
}

#[tokio::test]
async fn unsupported_method_gets_an_envelope() {
    let p = signed("PUT", SECRET, echo_params("x"));
    let request =
        Request::builder().method(Method::PUT).uri(format!("/?{}", encode(&p))).body(Body::empty()).unwrap_or_default();
    send(&app(), request).await.expect_error(404, "InvalidAction.NotFound");
}

#[tokio::test]
async fn missing_auth_parameters_are_all_reported() {
    let mut p = echo_params("x");
    for name in ["AccessKeyId", "SignatureNonce", "Timestamp"] {
        remove(&mut p, name);
    }
    let a = send(&app(), sdk_post(&p)).await;
    let message = a.expect_error(400, "MissingParameter");
    assert_eq!(
        message,
        format!(
            "{} Other problems: MissingParameter (Signature): {}; MissingParameter (SignatureNonce): {}; \
MissingParameter (Timestamp): {}",
            missing("AccessKeyId"),
            missing("Signature"),
            missing("SignatureNonce"),
            missing("Timestamp")
        )
    );

    let p = echo_params("x");
    let a = send(&app(), sdk_post(&p)).await;
    assert_eq!(a.expect_error(400, "MissingParameter"), missing("Signature"));
}

#[tokio::test]
async fn unsupported_signature_method_and_version() {
    let mut p = echo_params("x");
    set(&mut p, "SignatureMethod", "HMAC-SHA256");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "InvalidParameter"), "The specified parameter \"SignatureMethod\" is not valid.");

    let mut p = echo_params("x");
    set(&mut p, "SignatureVersion", "2.0");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "InvalidParameter"), "The specified parameter \"SignatureVersion\" is not valid.");
}

#[tokio::test]
async fn unknown_access_key() {
    let mut p = echo_params("x");
    set(&mut p, "AccessKeyId", "nosuchkey");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(404, "InvalidAccessKeyId.NotFound"), "Specified access key is not found.");
}

#[tokio::test]
async fn bad_signature_reports_the_string_to_sign() {
    let p = echo_params("space user*~");
    let client_sts = string_to_sign("POST", p.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let a = send(&app(), sdk_post(&signed("POST", "wrongsecret", p))).await;
    let message = a.expect_error(400, "SignatureDoesNotMatch");
    // What aliyunsdkcore does: compare the server's string to sign with its own.
    let server_sts = message.split_once("server string to sign is:").map(|(_, s)| s);
    assert_eq!(server_sts, Some(client_sts.as_str()));
    assert!(client_sts.contains("SignatureType%3D%26"), "{client_sts}");
}

#[tokio::test]
async fn expired_and_future_timestamps() {
    for offset in [time::Duration::minutes(-20), time::Duration::minutes(20)] {
        let mut p = echo_params("x");
        set(&mut p, "Timestamp", &format_timestamp(OffsetDateTime::now_utc() + offset));
        let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
        assert_eq!(a.expect_error(400, "InvalidTimeStamp.Expired"), "Specified time stamp or date value is expired.");
    }
    // Within the window (either way) is fine.
    for offset in [time::Duration::minutes(-14), time::Duration::minutes(14)] {
        let mut p = echo_params("x");
        set(&mut p, "Timestamp", &format_timestamp(OffsetDateTime::now_utc() + offset));
        let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    // A narrower configured window.
    let app = app_with(|b| b.timestamp_window(Duration::from_secs(60)));
    let mut p = echo_params("x");
    set(&mut p, "Timestamp", &format_timestamp(OffsetDateTime::now_utc() - time::Duration::minutes(2)));
    send(&app, sdk_post(&signed("POST", SECRET, p))).await.expect_error(400, "InvalidTimeStamp.Expired");
}

#[tokio::test]
async fn malformed_timestamp() {
    for bad in ["2026-11-23 01:09:05", "yesterday", "2026-11-23T01:09:05+08:00"] {
        let mut p = echo_params("x");
        set(&mut p, "Timestamp", bad);
        let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
        assert_eq!(
            a.expect_error(400, "InvalidTimeStamp.Format"),
            "Specified time stamp or date value is not well formatted."
        );
    }
}

#[tokio::test]
async fn replayed_nonce() {
    let app = app();
    let request = signed("POST", SECRET, echo_params("x"));
    let a = send(&app, sdk_post(&request)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = send(&app, sdk_post(&request)).await;
    assert_eq!(a.expect_error(400, "SignatureNonceUsed"), "Specified signature nonce was used already.");

    // The same nonce under another key is another nonce... but the key must exist; and a forged
    // request does not burn a nonce: the signature is checked first.
    let fresh = echo_params("y");
    let forged = signed("POST", "wrongsecret", fresh.clone());
    send(&app, sdk_post(&forged)).await.expect_error(400, "SignatureDoesNotMatch");
    let genuine = signed("POST", SECRET, fresh);
    let a = send(&app, sdk_post(&genuine)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
}

#[tokio::test]
async fn full_nonce_cache_fails_closed() {
    let app = app_with(|b| b.nonce_capacity(2));
    for name in ["a", "b"] {
        let a = send(&app, sdk_post(&signed("POST", SECRET, echo_params(name)))).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    let first = signed("POST", SECRET, echo_params("c"));
    let a = send(&app, sdk_post(&first)).await;
    assert_eq!(a.expect_error(400, "Throttling"), "Request was denied due to request throttling.");
}

#[tokio::test]
async fn oversized_body() {
    let app = app_with(|b| b.body_limit(1024));
    let mut p = signed("POST", SECRET, echo_params("x"));
    set(&mut p, "Padding", &"z".repeat(2000));
    let body = encode(&p);

    // Declared by Content-Length.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", body.len().to_string())
        .body(Body::from(body.clone()))
        .unwrap_or_default();
    let a = send(&app, request).await;
    assert_eq!(a.expect_error(413, "RequestTooLarge"), "The request is larger than the server accepts.");

    // Streamed without a length.
    let chunks: Vec<Result<String, std::io::Error>> =
        body.as_bytes().chunks(100).map(|c| Ok(String::from_utf8_lossy(c).into_owned())).collect();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap_or_default();
    send(&app, request).await.expect_error(413, "RequestTooLarge");

    // Answered in XML when the query asks for XML.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/?Format=XML")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap_or_default();
    let a = send(&app, request).await;
    assert_eq!(a.status.as_u16(), 413);
    assert_eq!(a.content_type, "text/xml;charset=utf-8");
    assert!(a.text.contains("<Code>RequestTooLarge</Code>"), "{}", a.text);
}

#[tokio::test]
async fn internal_error_does_not_leak() {
    let a = send(&app(), sdk_post(&signed("POST", SECRET, echo_params("boom")))).await;
    assert_eq!(a.expect_error(500, "InternalError"), ERRORS.internal_error.message);
    assert!(!a.text.contains("hunter2"), "{}", a.text);
}

#[tokio::test]
async fn panic_is_an_internal_error() {
    let a = send(&app(), sdk_post(&signed("POST", SECRET, echo_params("panic")))).await;
    assert_eq!(a.expect_error(500, "InternalError"), ERRORS.internal_error.message);
}

#[tokio::test]
async fn timeout_is_an_envelope() {
    let app = app_with(|b| b.request_timeout(Duration::from_millis(100)));
    let mut p = echo_params("slow");
    set(&mut p, "Format", "XML");
    let a = send(&app, sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.status.as_u16(), 503, "{}", a.text);
    assert_eq!(a.content_type, "text/xml;charset=utf-8");
    assert!(a.text.contains("<Code>ServiceUnavailable</Code>"), "{}", a.text);
    assert!(a.text.contains(&format!("<RequestId>{}</RequestId>", a.header_request_id)), "{}", a.text);
}

#[tokio::test]
async fn operation_errors() {
    let a = send(&app(), sdk_post(&signed("POST", SECRET, echo_params("taken")))).await;
    assert_eq!(a.expect_error(409, "Echo.NameTaken"), "The specified name is taken.");
}

#[tokio::test]
async fn every_violation_is_reported() {
    let mut p = echo_params("");
    set(&mut p, "Count", "99");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(
        a.expect_error(400, "MissingParameter"),
        format!("{} Other problems: Echo.CountInvalid (Count): The specified Count is invalid.", missing("Name"))
    );

    let mut p = echo_params("x");
    set(&mut p, "Count", "ten");
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "InvalidParameter"), "The specified parameter \"Count\" is not valid.");
}

#[tokio::test]
async fn overlong_nonce_is_refused() {
    let mut p = echo_params("x");
    set(&mut p, "SignatureNonce", &"n".repeat(129));
    let a = send(&app(), sdk_post(&signed("POST", SECRET, p))).await;
    assert_eq!(a.expect_error(400, "InvalidParameter"), "The specified parameter \"SignatureNonce\" is not valid.");
}

/// Over a real socket, served with connect info: the peer address reaches the context.
#[tokio::test]
async fn served_over_tcp_with_connect_info() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
        panic!("cannot bind a local port");
    };
    let Ok(addr) = listener.local_addr() else { panic!("no local address") };
    let server =
        tokio::spawn(
            async move { axum::serve(listener, app().into_make_service_with_connect_info::<SocketAddr>()).await },
        );

    let p = signed("POST", SECRET, echo_params("ctx"));
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else { panic!("cannot connect") };
    let Ok(local) = stream.local_addr() else { panic!("no local address") };
    let request = format!(
        "POST /?{} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
Content-Length: 0\r\nConnection: close\r\n\r\n",
        encode(&p)
    );
    assert!(stream.write_all(request.as_bytes()).await.is_ok());
    let mut raw = Vec::new();
    assert!(stream.read_to_end(&mut raw).await.is_ok());
    server.abort();

    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.starts_with("HTTP/1.1 200"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("x-acs-request-id: "), "{raw}");
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    assert_eq!(v["Context"]["RemoteAddr"], local.to_string(), "{raw}");
}
