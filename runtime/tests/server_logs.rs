//! What the server logs: the request's id, action and key, never parameter values or secrets.
//! (Alone in its test binary: a scoped tracing subscriber does not mix with parallel tests.)
#![cfg(feature = "server")]

mod server_support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use server_support::*;

// ---- logs --------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Captures every event (TRACE and up) of this thread until the guard is dropped.
    fn install() -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    /// Everything logged so far.
    fn text(&self) -> String {
        self.0.lock().map(|l| String::from_utf8_lossy(&l).into_owned()).unwrap_or_default()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut inner) = self.0.lock() {
            inner.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
