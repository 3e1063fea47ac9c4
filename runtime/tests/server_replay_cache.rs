//! A replay cache installed with `ServerConfigBuilder::replay_cache`: shared by several routers
//! (replicas), it refuses at one a nonce used at another, under either signature version; it is
//! asked only once everything else about a request was verified; its failure is answered
//! `ServiceUnavailable` (503), logged without secrets; a full cache is answered `Throttling`.
//! (Alone in its test binary: one test captures the log with a scoped subscriber.)
#![cfg(feature = "server")]

mod log_capture;
mod server_support;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alibaba_rpc_runtime::server::{MemoryReplayCache, NonceOutcome, ReplayCache, ReplayCacheError};
use axum::Router;
use axum::http::StatusCode;
use log_capture::Captured;
use server_support::*;

/// Stands in for a database table every replica uses: `(key, nonce) → expiry`, with the number of
/// questions asked.
#[derive(Default)]
struct SharedTable {
    rows: Mutex<HashMap<(String, String), i64>>,
    asked: AtomicUsize,
}

impl ReplayCache for SharedTable {
    async fn check_and_remember(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_unix: i64,
        now_unix: i64,
    ) -> Result<NonceOutcome, ReplayCacheError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        // A real cache awaits its database: yield once so the router really waits on a future.
        tokio::task::yield_now().await;
        let mut rows = self.rows.lock().map_err(|_| ReplayCacheError::new("poisoned"))?;
        assert!(expires_unix > now_unix, "the expiry is after now");
        rows.retain(|_, expires| *expires > now_unix);
        let key = (access_key_id.to_owned(), nonce.to_owned());
        if rows.contains_key(&key) {
            return Ok(NonceOutcome::Used);
        }
        rows.insert(key, expires_unix);
        Ok(NonceOutcome::Fresh)
    }
}

/// A cache whose database is down.
struct Unreachable;

impl ReplayCache for Unreachable {
    async fn check_and_remember(&self, _: &str, _: &str, _: i64, _: i64) -> Result<NonceOutcome, ReplayCacheError> {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused (127.0.0.1:5432)");
        Err(ReplayCacheError::with_source("the nonce table could not be written", cause))
    }
}

/// A cache that answers one fixed outcome.
struct Always(NonceOutcome);

impl ReplayCache for Always {
    fn check_and_remember(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: i64,
    ) -> impl Future<Output = Result<NonceOutcome, ReplayCacheError>> + Send {
        std::future::ready(Ok(self.0))
    }
}

/// A cache whose database never answers.
struct Hanging;

impl ReplayCache for Hanging {
    fn check_and_remember(
        &self,
        _: &str,
        _: &str,
        _: i64,
        _: i64,
    ) -> impl Future<Output = Result<NonceOutcome, ReplayCacheError>> + Send {
        std::future::pending()
    }
}

fn replica(cache: impl ReplayCache) -> Router {
    app_with(|b| b.replay_cache(cache))
}

fn v1_echo(nonce: &str) -> Vec<(String, String)> {
    let mut p = echo_params("replica");
    set(&mut p, "SignatureNonce", nonce);
    signed("POST", SECRET, p)
}

#[tokio::test]
async fn a_nonce_used_at_one_replica_is_refused_at_the_other() {
    let table = Arc::new(SharedTable::default());
    let (first, second) = (replica(Arc::clone(&table)), replica(Arc::clone(&table)));

    // Version 1.0: accepted at the first, the same request replayed at the second is refused.
    let request = v1_echo("v1-nonce-shared-by-replicas");
    let a = send(&first, sdk_post(&request)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    send(&second, sdk_post(&request)).await.expect_error(400, "SignatureNonceUsed");
    send(&first, sdk_post(&request)).await.expect_error(400, "SignatureNonceUsed");

    // Version 3, the other way round.
    let mut r = V3::echo("replica");
    r.nonce = "v3-nonce-shared-by-replicas".to_owned();
    let a = send(&second, r.request()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    send(&first, r.request()).await.expect_error(400, "SignatureNonceUsed");

    // One memory for both versions: a version 3 request reusing the version 1.0 nonce is a replay.
    let mut reuse = V3::echo("replica");
    reuse.nonce = "v1-nonce-shared-by-replicas".to_owned();
    send(&second, reuse.request()).await.expect_error(400, "SignatureNonceUsed");

    // Distinct nonces pass at either.
    for (i, app) in [&first, &second].into_iter().enumerate() {
        let a = send(app, sdk_post(&v1_echo(&format!("fresh-{i}")))).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    assert_eq!(table.asked.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn the_installed_cache_is_asked_last_and_only_for_verified_requests() {
    let table = Arc::new(SharedTable::default());
    let app = replica(Arc::clone(&table));

    let forged = signed("POST", "wrongsecret", echo_params("forged"));
    send(&app, sdk_post(&forged)).await.expect_error(400, "SignatureDoesNotMatch");
    let mut unknown = V3::echo("x");
    unknown.key_id = "unknown".to_owned();
    send(&app, unknown.request()).await.expect_error(404, "InvalidAccessKeyId.NotFound");
    let mut stale = echo_params("stale");
    set(&mut stale, "Timestamp", "2020-01-01T00:00:00Z");
    send(&app, sdk_post(&signed("POST", SECRET, stale))).await.expect_error(400, "InvalidTimeStamp.Expired");
    // Signed, but the body does not hash to the signed payload hash.
    let bad_payload = V3::echo("x").header("x-acs-content-sha256", &"0".repeat(64));
    send(&app, bad_payload.request()).await.expect_error(400, "IncompleteSignature");
    let mut missing = echo_params("x");
    remove(&mut missing, "Timestamp");
    send(&app, sdk_post(&signed("POST", SECRET, missing))).await.expect_error(400, "MissingParameter");
    assert_eq!(table.asked.load(Ordering::SeqCst), 0, "refused requests never reach the cache");

    let a = send(&app, sdk_post(&v1_echo("verified"))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(table.asked.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_cache_is_answered_service_unavailable_and_logged_without_secrets() {
    let (captured, _guard) = Captured::install();
    let app = replica(Unreachable);

    let request = v1_echo("nonce-while-the-database-is-down");
    let signature = request.iter().find(|(k, _)| k == "Signature").map(|(_, v)| v.clone()).unwrap_or_default();
    let message = send(&app, sdk_post(&request)).await.expect_error(503, "ServiceUnavailable");
    assert_eq!(message, ERRORS.request_timeout.message);
    let v3 = V3::echo("x");
    send(&app, v3.request()).await.expect_error(503, "ServiceUnavailable");

    let logs = captured.text();
    assert!(logs.contains("replay cache failed"), "{logs}");
    assert!(logs.contains("the nonce table could not be written"), "{logs}");
    assert!(logs.contains("connection refused"), "{logs}");
    assert!(!logs.contains(SECRET), "{logs}");
    assert!(!logs.contains(&signature), "{logs}");
    assert!(!message.contains("nonce table"), "the cause is not answered: {message}");
}

#[tokio::test]
async fn a_full_cache_is_answered_throttling() {
    let app = replica(Always(NonceOutcome::Full));
    send(&app, sdk_post(&v1_echo("n1"))).await.expect_error(400, "Throttling");
    send(&app, V3::echo("x").request()).await.expect_error(400, "Throttling");

    let app = replica(Always(NonceOutcome::Used));
    send(&app, V3::echo("x").request()).await.expect_error(400, "SignatureNonceUsed");
}

#[tokio::test]
async fn a_cache_that_never_answers_is_bounded_by_the_request_timeout() {
    let app = app_with(|b| b.replay_cache(Hanging).request_timeout(Duration::from_millis(200)));
    send(&app, sdk_post(&v1_echo("n1"))).await.expect_error(503, "ServiceUnavailable");
}

#[tokio::test]
async fn one_memory_cache_installed_in_two_routers_is_shared() {
    let memory = Arc::new(MemoryReplayCache::new(100));
    let (first, second) = (replica(Arc::clone(&memory)), replica(Arc::clone(&memory)));
    let request = v1_echo("shared-memory");
    assert_eq!(send(&first, sdk_post(&request)).await.status, StatusCode::OK);
    send(&second, sdk_post(&request)).await.expect_error(400, "SignatureNonceUsed");
    assert_eq!(memory.len(), 1);

    // Without an installed cache, each router keeps its own memory (the default).
    let (own_a, own_b) = (app(), app());
    let request = v1_echo("own-memory");
    assert_eq!(send(&own_a, sdk_post(&request)).await.status, StatusCode::OK);
    assert_eq!(send(&own_b, sdk_post(&request)).await.status, StatusCode::OK);
    send(&own_a, sdk_post(&request)).await.expect_error(400, "SignatureNonceUsed");
}
