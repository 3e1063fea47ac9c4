//! What the server logs: the request's id, action and key, never parameter values or secrets.
//! (Alone in its test binary: a scoped tracing subscriber does not mix with parallel tests.)
#![cfg(feature = "server")]

mod log_capture;
mod server_support;

use log_capture::Captured;
use server_support::*;

// ---- logs --------------------------------------------------------------------------------------

#[tokio::test]
async fn logs_name_the_request_but_no_values() {
    let (captured, _guard) = Captured::install();

    let mut p = echo_params("boom");
    set(&mut p, "Password", "hunter2-pass");
    let p = signed("POST", SECRET, p);
    let signature = p.iter().find(|(k, _)| k == "Signature").map(|(_, v)| v.clone()).unwrap_or_default();
    let a = send(&app(), sdk_post(&p)).await;
    assert_eq!(a.status.as_u16(), 500);
    let bad = signed("POST", "wrongsecret", echo_params("x"));
    send(&app(), sdk_post(&bad)).await.expect_error(400, "SignatureDoesNotMatch");

    let logs = captured.text();
    assert!(logs.contains(&a.header_request_id), "{logs}");
    assert!(logs.contains("action=Echo"), "{logs}");
    assert!(logs.contains("access_key_id=testid"), "{logs}");
    // The internal error's details are logged (error level), never answered.
    assert!(logs.contains("hunter2-internal"), "{logs}");
    assert!(!logs.contains("hunter2-pass"), "{logs}");
    assert!(!logs.contains(&signature), "{logs}");
    assert!(!logs.contains(SECRET), "{logs}");
}

#[tokio::test]
async fn v3_logs_the_canonical_request_without_values_or_secrets() {
    let (captured, _guard) = Captured::install();

    let r = V3::echo("x").param("Password", "hunter2-pass").header("x-acs-security-token", "token-value-123");
    let authorization = r.authorization();
    let a = send(&app(), r.request()).await;
    assert_eq!(a.status.as_u16(), 200, "{}", a.text);
    let mut wrong = V3::echo("y").param("Password", "hunter2-pass");
    wrong.secret = "wrongsecret".to_owned();
    send(&app(), wrong.request()).await.expect_error(400, "SignatureDoesNotMatch");

    let logs = captured.text();
    assert!(logs.contains("version 3 canonical request"), "{logs}");
    assert!(logs.contains("Password=REDACTED"), "{logs}");
    assert!(logs.contains("x-acs-security-token:REDACTED"), "{logs}");
    assert!(logs.contains("signature_version=3"), "{logs}");
    for secret in ["hunter2-pass", "token-value-123", SECRET, "wrongsecret"] {
        assert!(!logs.contains(secret), "{secret} in {logs}");
    }
    let signature = authorization.rsplit_once("Signature=").map(|(_, s)| s).unwrap_or("none");
    assert!(!logs.contains(signature), "{logs}");
}
