//! `RpcClient::invoke` against a recording server: wire form, signature, decoding, errors, retries.
#![cfg(feature = "client")]

mod client_support;

use std::collections::HashSet;
use std::error::Error as _;
use std::time::Duration;

use alibaba_rpc_runtime::client::{InvokeError, OperationError, RetryPolicy, TransportErrorKind, retry};
use alibaba_rpc_runtime::encoding::percent_encode;
use alibaba_rpc_runtime::signature::{parse_timestamp, string_to_sign, verify};
use client_support::*;

/// Checks one received request against everything the wire protocol asks of a client request.
fn assert_wire_form(req: &client_support::Recorded, action: &str, with_token: bool) {
    assert_eq!(req.method, axum::http::Method::POST);
    assert_eq!(req.path, "/");
    // Version 1.0: every parameter in the form body, none in the query.
    assert_eq!(req.raw_query, "", "no query");
    assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(req.header("content-length"), Some(req.body.len().to_string().as_str()));
    let form = req.form();

    let params = req.params();
    let expect = [
        ("Action", action),
        ("Version", "2018-03-13"),
        ("Format", "JSON"),
        ("AccessKeyId", ACCESS_KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureType", ""),
        ("SignatureVersion", "1.0"),
        ("RegionId", "cn-shanghai"),
        ("UserName", USER_NAME),
        ("Password", PASSWORD),
        ("Bandwidth", "20"),
    ];
    for (name, value) in expect {
        assert_eq!(params.get(name), Some(value), "parameter {name}");
    }
    assert_eq!(params.get("SecurityToken"), with_token.then_some(TOKEN));
    // Every parameter once (no duplicates), nothing unexpected.
    let names: Vec<&str> = params.iter().map(|(n, _)| n).collect();
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), unique.len(), "duplicate parameters: {names:?}");
    assert_eq!(names.len(), 14 + usize::from(with_token), "{names:?}");

    // SignatureType is present with an empty value on the wire.
    assert!(form.split('&').any(|pair| pair == "SignatureType="), "{form}");

    // The bytes on the wire are the canonical encoding of each name and value, in the canonical
    // order, the signature last.
    let mut names = Vec::new();
    for pair in form.split('&') {
        let (raw_name, raw_value) = pair.split_once('=').expect("name=value");
        names.push(raw_name);
        let decoded = alibaba_rpc_runtime::params::Params::parse_urlencoded(pair.as_bytes());
        let (name, value) = decoded.iter().next().expect("one pair");
        assert_eq!(raw_name, percent_encode(name));
        assert_eq!(raw_value, percent_encode(value), "value of {name}");
    }
    assert_eq!(names.pop(), Some("Signature"), "{form}");
    assert!(names.is_sorted(), "{form}");

    // Timestamp: UTC, YYYY-MM-DDThh:mm:ssZ, close to now.
    let ts = params.get("Timestamp").expect("Timestamp");
    assert_eq!(ts.len(), 20, "{ts}");
    assert!(ts.ends_with('Z'), "{ts}");
    let parsed = parse_timestamp(ts).expect("parsable timestamp");
    let skew = (time::OffsetDateTime::now_utc() - parsed).abs();
    assert!(skew < time::Duration::minutes(1), "{ts}");

    // Nonce: 32 hex chars.
    let nonce = params.get("SignatureNonce").expect("SignatureNonce");
    assert_eq!(nonce.len(), 32, "{nonce}");
    assert!(nonce.bytes().all(|b| b.is_ascii_hexdigit()), "{nonce}");

    // The signature verifies independently, over the received parameters, for POST.
    let signature = params.get("Signature").expect("Signature");
    let sts = string_to_sign("POST", params.iter());
    assert!(verify(SECRET, &sts, signature), "signature does not verify");
    assert!(!verify("other-secret", &sts, signature));
    let get_sts = string_to_sign("GET", params.iter());
    assert!(!verify(SECRET, &get_sts, signature), "must be signed for POST");
}

#[tokio::test]
async fn success_sends_signed_post_and_decodes() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client(&server.endpoint(), RetryPolicy::none(), credentials());
    let response = client.invoke(&FakeCreate::valid()).await.unwrap();
    assert_eq!(response, FakeResponse { request_id: "req-ok".into(), user_name: USER_NAME.into(), bandwidth: 20 });
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_wire_form(&requests[0], "CreateSmartAccessGatewayClientUser", false);
    let ua = requests[0].headers.get("user-agent").unwrap().to_str().unwrap();
    assert!(ua.starts_with("alibaba-rpc-rust/") && ua.ends_with(" Smartag/2018-03-13"), "{ua}");
}

#[tokio::test]
async fn security_token_is_sent_and_signed() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client(&server.endpoint(), RetryPolicy::none(), credentials().with_security_token(TOKEN));
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    let requests = server.requests();
    assert_wire_form(&requests[0], "DescribeSmartAccessGatewayClientUsers", true);
}

#[tokio::test]
async fn error_envelope_becomes_api_error() {
    let server =
        FakeServer::start(vec![Reply::envelope(400, "ClientUser.BandwidthInvalid", "The bandwidth is invalid.")]).await;
    let client = client(&server.endpoint(), RetryPolicy::default(), credentials());
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    let InvokeError::Api { error: api, .. } = &err else {
        panic!("expected an API error, got {err:?}");
    };
    assert_eq!(api.status, 400);
    assert_eq!(api.code, "ClientUser.BandwidthInvalid");
    assert_eq!(api.message, "The bandwidth is invalid.");
    assert_eq!(api.request_id, "req-ClientUser.BandwidthInvalid");
    assert_eq!(api.host_id, "smartag.cn-shanghai.aliyuncs.com");
    assert_eq!(api.recommend, "https://api.aliyun.com/troubleshoot");
    assert_eq!(err.code(), Some("ClientUser.BandwidthInvalid"));
    assert_eq!(err.request_id(), Some("req-ClientUser.BandwidthInvalid"));
    let shown = err.to_string();
    assert!(shown.contains("ClientUser.BandwidthInvalid"), "{shown}");
    // A non-retryable code is not retried, even for an idempotent operation.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn non_envelope_502_is_kept_as_synthetic_error() {
    let server =
        FakeServer::start(vec![Reply::new(502, "<html><body>502 Bad Gateway from the load balancer</body></html>")])
            .await;
    let client = client(&server.endpoint(), RetryPolicy::none(), credentials());
    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    let InvokeError::Api { error: api, .. } = &err else {
        panic!("expected an API error, got {err:?}");
    };
    assert_eq!(api.status, 502);
    assert_eq!(api.code, "HTTP502");
    assert!(api.message.contains("502 Bad Gateway from the load balancer"), "{}", api.message);
}

#[tokio::test]
async fn undecodable_success_is_a_decode_error() {
    let server = FakeServer::start(vec![Reply::new(200, r#"{"RequestId":"req-7","Unexpected":true}"#)]).await;
    let client = client(&server.endpoint(), RetryPolicy::default(), credentials());
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    let InvokeError::Decode(decode) = &err else {
        panic!("expected a decode error, got {err:?}");
    };
    assert_eq!(decode.status(), 200);
    assert_eq!(decode.request_id(), Some("req-7"));
    assert!(decode.message().contains("UserName"), "{}", decode.message());
    assert!(decode.excerpt().contains("Unexpected"));
    assert!(err.to_string().contains("DescribeSmartAccessGatewayClientUsers"), "{err}");
    // A response arrived: not retried.
    assert_eq!(server.requests().len(), 1);

    let server = FakeServer::start(vec![Reply::new(200, "not json at all")]).await;
    let client = client_support::client(&server.endpoint(), RetryPolicy::none(), credentials());
    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Decode(d) if d.excerpt() == "not json at all"), "{err:?}");
}

#[tokio::test]
async fn idempotent_retries_503_with_fresh_nonce_and_signature() {
    let server = FakeServer::start(vec![
        Reply::envelope(503, "ServiceUnavailable", "try later"),
        Reply::new(503, "overloaded"),
        Reply::ok(),
    ])
    .await;
    let client = client(&server.endpoint(), fast_retry(3), credentials());
    let response = client.invoke(&FakeDescribe::valid()).await.unwrap();
    assert_eq!(response.request_id, "req-ok");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for req in &requests {
        assert_wire_form(req, "DescribeSmartAccessGatewayClientUsers", false);
    }
    let nonces: HashSet<String> = requests.iter().map(|r| r.param("SignatureNonce").unwrap()).collect();
    assert_eq!(nonces.len(), 3, "every attempt needs a new nonce");
    let signatures: HashSet<String> = requests.iter().map(|r| r.param("Signature").unwrap()).collect();
    assert_eq!(signatures.len(), 3, "every attempt is re-signed");
}

#[tokio::test]
async fn idempotent_gives_up_after_max_attempts() {
    let server = FakeServer::start(vec![Reply::envelope(503, "ServiceUnavailable", "down")]).await;
    let client = client(&server.endpoint(), fast_retry(4), credentials());
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert_eq!(err.code(), Some("ServiceUnavailable"));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn idempotent_retries_retryable_codes() {
    let server = FakeServer::start(vec![Reply::envelope(400, "Throttling.User", "slow down"), Reply::ok()]).await;
    let client = client(&server.endpoint(), fast_retry(3), credentials());
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn non_idempotent_is_not_retried_after_a_response() {
    for reply in [
        Reply::envelope(503, "ServiceUnavailable", "down"),
        Reply::new(500, "boom"),
        Reply::envelope(400, "Throttling.User", "slow down"),
    ] {
        let server = FakeServer::start(vec![reply.clone(), Reply::ok()]).await;
        let client = client(&server.endpoint(), fast_retry(5), credentials());
        let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
        assert!(matches!(err, InvokeError::Api { .. }), "{err:?}");
        assert_eq!(server.requests().len(), 1, "{reply:?} must not be retried");
    }
}

#[tokio::test]
async fn non_idempotent_retries_connect_refused() {
    let endpoint = closed_endpoint();
    let client = client(&endpoint, fast_retry(3), credentials());
    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    let InvokeError::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind(), TransportErrorKind::Connect);
    assert!(transport.is_connect());
    assert_eq!(transport.attempts(), 3);
    assert_eq!(transport.action(), "CreateSmartAccessGatewayClientUser");
    assert!(transport.source().is_some(), "the source chain is kept");
    assert!(err.to_string().contains("3 attempts"), "{err}");

    // No part of the error (Display, Debug, or any source) shows the query.
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = err.source();
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    for text in texts {
        for leaked in ["Signature=", "Password", "p%40ss", SECRET] {
            assert!(!text.contains(leaked), "{leaked:?} leaked in {text}");
        }
    }
}

#[tokio::test]
async fn idempotent_retries_connect_refused_too() {
    let client = client(&closed_endpoint(), fast_retry(2), credentials());
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(t) if t.attempts() == 2 && t.is_connect()), "{err:?}");
}

#[tokio::test]
async fn validation_failure_sends_nothing_and_reports_everything() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client(&server.endpoint(), fast_retry(3), credentials());
    let bad = FakeCreate { user_name: String::new(), password: PASSWORD.into(), bandwidth: 5000 };
    let err = client.invoke(&bad).await.unwrap_err();
    let InvokeError::Validation(violations) = &err else {
        panic!("expected violations, got {err:?}");
    };
    assert_eq!(violations.len(), 2);
    let codes: Vec<&str> = violations.iter().map(|v| v.code).collect();
    assert!(codes.contains(&"ClientUser.NameEmpty"), "{codes:?}");
    assert!(codes.contains(&"ClientUser.BandwidthInvalid"), "{codes:?}");
    assert!(!err.to_string().contains(PASSWORD));
    assert!(server.requests().is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn timeout_is_reported_and_not_retried_for_non_idempotent() {
    let server = FakeServer::start(vec![Reply::ok().delayed(Duration::from_secs(3))]).await;
    let config = alibaba_rpc_runtime::client::ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .endpoint(server.endpoint())
        .credentials(credentials())
        .timeout(Duration::from_millis(300))
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let client = alibaba_rpc_runtime::client::RpcClient::new(config).unwrap();

    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    let InvokeError::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind(), TransportErrorKind::Timeout);
    assert!(transport.is_timeout());
    assert_eq!(transport.attempts(), 1);
    assert_eq!(server.requests().len(), 1);

    // An idempotent operation is retried after a timeout.
    let err = client.invoke(&FakeDescribe::valid()).await.unwrap_err();
    assert!(matches!(&err, InvokeError::Transport(t) if t.is_timeout() && t.attempts() == 3), "{err:?}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn client_debug_redacts_credentials() {
    let client = client("http://127.0.0.1:1", RetryPolicy::none(), credentials().with_security_token(TOKEN));
    let shown = format!("{client:?} {:?}", client.config());
    assert!(shown.contains(ACCESS_KEY_ID));
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert_eq!(client.region(), "cn-shanghai");
}

/// The one classifier: for every kind of failure and both kinds of operation, the typed error's
/// `is_retryable()` says `true` exactly when the retry loop retried (with attempts to spare, a
/// retried failure is tried again; an unretried one is sent once). Would fail if the loop and the
/// user-facing answer ever used different rules — a timeout of a non-idempotent call included.
#[tokio::test]
async fn is_retryable_agrees_with_the_retry_loop() {
    async fn check<const I: bool>(reply: Option<Reply>, timeout: Duration) {
        let (endpoint, server) = match &reply {
            Some(reply) => {
                let server = FakeServer::start(vec![reply.clone(); 3]).await;
                (server.endpoint(), Some(server))
            }
            None => (closed_endpoint(), None),
        };
        let config = alibaba_rpc_runtime::client::ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .endpoint(endpoint)
            .credentials(credentials())
            .timeout(timeout)
            .retry(fast_retry(3))
            .build()
            .unwrap();
        let client = alibaba_rpc_runtime::client::RpcClient::new(config).unwrap();
        let err = client.call(&FakeOp::<I>::valid()).await.unwrap_err();
        let attempts = match (&err, &server) {
            (OperationError::Transport(t), _) => t.attempts(),
            (_, Some(server)) => u32::try_from(server.requests().len()).unwrap(),
            (_, None) => unreachable!("a closed port gives a transport error"),
        };
        let retried = attempts > 1;
        assert_eq!(err.is_retryable(), retried, "idempotent={I}, {reply:?}: {err:?}, {attempts} attempts");
        assert_eq!(
            err.is_retryable(),
            retry::is_retryable(I, err.failure()),
            "the error answers with the runtime's classifier"
        );
    }
    let long = Duration::from_secs(5);
    let replies = [
        None, // connection refused
        Some(Reply::ok().delayed(Duration::from_secs(3))),
        Some(Reply::envelope(503, "ServiceUnavailable", "down")),
        Some(Reply::new(500, "boom")),
        Some(Reply::envelope(400, "Throttling.User", "slow down")),
        Some(Reply::envelope(400, "ClientUser.BandwidthInvalid", "bad")),
        Some(Reply::envelope(404, "Not.Declared", "unknown code")),
        Some(Reply::new(200, "not json")),
    ];
    for reply in replies {
        let timeout =
            if reply.as_ref().is_some_and(|r| !r.delay.is_zero()) { Duration::from_millis(300) } else { long };
        check::<true>(reply.clone(), timeout).await;
        check::<false>(reply, timeout).await;
    }
}

/// An error answer with a declared code is typed; an undeclared code is `Unknown`, and the
/// untyped `invoke` keeps the same answer.
#[tokio::test]
async fn call_types_the_code() {
    let server = FakeServer::start(vec![
        Reply::envelope(400, "ClientUser.BandwidthInvalid", "bad"),
        Reply::envelope(400, "Not.Declared", "unknown code"),
    ])
    .await;
    let client = client(&server.endpoint(), fast_retry(1), credentials());
    let err = client.call(&FakeCreate::valid()).await.unwrap_err();
    assert!(matches!(err, OperationError::Api { code: FakeCode::BandwidthInvalid, .. }), "{err:?}");
    assert_eq!(err.code(), Some(FakeCode::BandwidthInvalid));
    assert_eq!(err.to_string(), err.api_error().unwrap().to_string());
    let err = client.call(&FakeCreate::valid()).await.unwrap_err();
    assert!(matches!(&err, OperationError::Unknown { error: e, .. } if e.code == "Not.Declared"), "{err:?}");
    assert_eq!(err.code(), None);
}

/// A call's future is boxed once per call. glibc's allocator serves blocks up to 1,032 bytes
/// from a per-thread cache; a larger one takes its slow path, which cost the client
/// microseconds per call when the future (holding the request, its options twice and a
/// failure across the retry wait) was 2 KB. It holds the parameters, the options and what is
/// awaited; this keeps it so.
#[tokio::test]
async fn a_call_future_fits_the_allocators_thread_cache() {
    let client = client("http://127.0.0.1:9", RetryPolicy::default(), credentials());
    let request = FakeDescribe::valid();
    let future = std::future::IntoFuture::into_future(client.call(&request));
    let size = std::mem::size_of_val(&*future);
    assert!(size <= 1000, "the call future is {size} bytes");
}

/// A server on 127.0.0.1 that answers one request with `200` and `pieces` as a chunked body, each
/// piece written (and flushed) on its own after a pause, so the client reads it in several parts.
async fn chunked_server(pieces: Vec<Vec<u8>>) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.set_nodelay(true).unwrap();
        // The whole request: its head, then the form body of `content-length` bytes.
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                    })
                    .map_or(0, |v| v.parse::<usize>().unwrap());
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        stream.write_all(head.as_bytes()).await.unwrap();
        for piece in pieces {
            stream.write_all(format!("{:x}\r\n", piece.len()).as_bytes()).await.unwrap();
            stream.write_all(&piece).await.unwrap();
            stream.write_all(b"\r\n").await.unwrap();
            stream.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
        let _ = stream.flush().await;
        // Held open until the client has read everything.
        tokio::time::sleep(Duration::from_secs(2)).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_answer_in_several_pieces_is_read_whole() {
    let body = r#"{"RequestId":"req-pieces","UserName":"space user*~","Bandwidth":20}"#.as_bytes();
    let pieces = vec![body[..10].to_vec(), body[10..40].to_vec(), body[40..].to_vec()];
    let endpoint = chunked_server(pieces).await;
    let client = client(&endpoint, RetryPolicy::none(), credentials());
    let response = client.invoke(&FakeCreate::valid()).await.unwrap();
    assert_eq!(response, FakeResponse { request_id: "req-pieces".into(), user_name: USER_NAME.into(), bandwidth: 20 });
}

#[tokio::test]
async fn an_answer_beyond_the_limit_is_cut_off_and_reported() {
    // 8 MiB (the limit) in two pieces, then more: the client stops at the limit.
    let mut body = br#"{"RequestId":"req-big","UserName":""#.to_vec();
    body.resize(4 * 1024 * 1024, b'x');
    let pieces = vec![body, vec![b'y'; 4 * 1024 * 1024], vec![b'z'; 1024]];
    let endpoint = chunked_server(pieces).await;
    let client = client(&endpoint, RetryPolicy::none(), credentials());
    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    let InvokeError::Decode(decode) = &err else {
        panic!("expected a decode error, got {err:?}");
    };
    assert!(decode.message().contains("exceeds 8388608 bytes"), "{}", decode.message());
    assert!(decode.excerpt().starts_with(r#"{"RequestId":"req-big""#), "{}", decode.excerpt());
}

/// Under version 1.0 too, consecutive calls of one client (whose headers are copied from a
/// template of their names) each send their own form and signature.
#[tokio::test]
async fn consecutive_calls_each_send_their_own_form() {
    let server = FakeServer::start(vec![Reply::ok()]).await;
    let client = client(&server.endpoint(), RetryPolicy::none(), credentials());
    let actions = [
        "CreateSmartAccessGatewayClientUser",
        "DescribeSmartAccessGatewayClientUsers",
        "CreateSmartAccessGatewayClientUser",
    ];
    client.invoke(&FakeCreate::valid()).await.unwrap();
    client.invoke(&FakeDescribe::valid()).await.unwrap();
    client.invoke(&FakeCreate::valid()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), actions.len());
    let mut signatures = HashSet::new();
    for (req, action) in requests.iter().zip(actions) {
        assert_wire_form(req, action, false);
        assert_eq!(req.header("accept"), Some("application/json"));
        assert!(req.header("user-agent").is_some_and(|ua| ua.starts_with("alibaba-rpc-rust/")));
        assert!(signatures.insert(req.param("Signature")));
    }
}
