//! What the client logs: action, attempt, signature version, status, code, request id — never
//! the secret, the signature (parameter or `authorization` header), the security token or
//! parameter values.
#![cfg(feature = "client")]

mod client_support;
mod log_capture;

use alibaba_rpc_runtime::client::RetryPolicy;
use client_support::*;
use log_capture::Captured;

#[tokio::test(flavor = "current_thread")]
async fn logs_never_show_secrets_or_parameter_values() {
    let (captured, _guard) = Captured::install();

    let server = FakeServer::start(vec![Reply::envelope(503, "ServiceUnavailable", "down"), Reply::ok()]).await;
    let with_token = credentials().with_security_token(TOKEN);
    let ok_client = client(&server.endpoint(), fast_retry(3), with_token.clone());
    ok_client.invoke(&FakeDescribe::valid()).await.unwrap();
    let refused = client(&closed_endpoint(), fast_retry(2), with_token);
    refused.invoke(&FakeCreate::valid()).await.unwrap_err();
    let no_retry = client(&server.endpoint(), RetryPolicy::none(), credentials());
    no_retry.invoke(&FakeCreate::valid()).await.unwrap();

    let logs = captured.text();
    assert!(logs.contains("DescribeSmartAccessGatewayClientUsers"), "{logs}");
    assert!(logs.contains("attempt"), "{logs}");
    assert!(logs.contains("503"), "{logs}");
    assert!(logs.contains("ServiceUnavailable"), "{logs}");
    assert!(logs.contains("req-ok"), "{logs}");

    let mut forbidden = vec![
        SECRET.to_string(),
        TOKEN.to_string(),
        PASSWORD.to_string(),
        alibaba_rpc_runtime::encoding::percent_encode(PASSWORD),
        USER_NAME.to_string(),
        alibaba_rpc_runtime::encoding::percent_encode(USER_NAME),
        "Signature=".to_string(),
    ];
    for req in server.requests() {
        let signature = req.param("Signature").unwrap();
        forbidden.push(signature.clone());
        forbidden.push(alibaba_rpc_runtime::encoding::percent_encode(&signature));
    }
    for text in forbidden {
        assert!(!logs.contains(&text), "{text:?} appears in the logs:\n{logs}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn v3_logs_never_show_the_authorization_header_or_token() {
    let (captured, _guard) = Captured::install();

    let server = FakeServer::start(vec![Reply::envelope(503, "ServiceUnavailable", "down"), Reply::ok()]).await;
    let with_token = credentials().with_security_token(TOKEN);
    client_v3(&server.endpoint(), fast_retry(3), with_token.clone()).invoke(&FakeDescribe::valid()).await.unwrap();
    client_v3(&closed_endpoint(), fast_retry(2), with_token).invoke(&FakeCreate::valid()).await.unwrap_err();

    let logs = captured.text();
    assert!(logs.contains("DescribeSmartAccessGatewayClientUsers"), "{logs}");
    assert!(logs.contains("ACS3-HMAC-SHA256"), "the version is logged: {logs}");
    assert!(logs.contains("req-ok"), "{logs}");

    let mut forbidden = vec![
        SECRET.to_string(),
        TOKEN.to_string(),
        PASSWORD.to_string(),
        alibaba_rpc_runtime::encoding::percent_encode(PASSWORD),
        USER_NAME.to_string(),
        alibaba_rpc_runtime::encoding::percent_encode(USER_NAME),
        "Credential=".to_string(),
        "Signature=".to_string(),
        "authorization".to_string(),
    ];
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for req in requests {
        let auth = req.header("authorization").unwrap().to_string();
        let signature = auth.rsplit_once("Signature=").unwrap().1.to_string();
        forbidden.push(auth);
        forbidden.push(signature);
        forbidden.push(req.header("x-acs-signature-nonce").unwrap().to_string());
    }
    for text in forbidden {
        assert!(!logs.contains(&text), "{text:?} appears in the logs:\n{logs}");
    }
}
