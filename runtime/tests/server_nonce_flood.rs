//! A flood of nonces against the replay memory: it stays bounded (beyond its capacity requests are
//! refused, never a live nonce forgotten), forged requests never occupy it, overlong nonces are
//! refused before they are stored, and both signature versions share it.
#![cfg(feature = "server")]

mod server_support;

use axum::http::StatusCode;
use server_support::*;

fn v1_with_nonce(nonce: &str) -> Vec<(String, String)> {
    let mut p = echo_params("flood");
    set(&mut p, "SignatureNonce", nonce);
    signed("POST", SECRET, p)
}

fn v3_with_nonce(nonce: &str) -> V3 {
    let mut r = V3::echo("flood");
    r.nonce = nonce.to_owned();
    r
}

/// A nonce of exactly `len` bytes, distinct per `i`.
fn nonce(i: usize, len: usize) -> String {
    let head = format!("{i:08}");
    format!("{head}{}", "n".repeat(len - head.len()))
}

#[tokio::test]
async fn a_flood_fills_the_memory_to_its_capacity_and_no_further() {
    const CAPACITY: usize = 200;
    let app = app_with(|b| b.nonce_capacity(CAPACITY));
    // Capacity nonces of the longest accepted size, alternating versions: all accepted.
    for i in 0..CAPACITY {
        let n = nonce(i, 128);
        let a = if i.is_multiple_of(2) {
            send(&app, sdk_post(&v1_with_nonce(&n))).await
        } else {
            send(&app, v3_with_nonce(&n).request()).await
        };
        assert_eq!(a.status, StatusCode::OK, "nonce {i}: {}", a.text);
    }
    // The flood beyond: refused (fail closed), whichever version.
    for i in CAPACITY..CAPACITY * 3 {
        let n = nonce(i, 32);
        let a = if i.is_multiple_of(2) {
            send(&app, sdk_post(&v1_with_nonce(&n))).await
        } else {
            send(&app, v3_with_nonce(&n).request()).await
        };
        a.expect_error(400, "Throttling");
    }
    // Nothing live was forgotten to make room: every accepted nonce is still a replay, under
    // either version.
    for i in 0..CAPACITY {
        let n = nonce(i, 128);
        let a = if i.is_multiple_of(3) {
            send(&app, sdk_post(&v1_with_nonce(&n))).await
        } else {
            send(&app, v3_with_nonce(&n).request()).await
        };
        a.expect_error(400, "SignatureNonceUsed");
    }
}

#[tokio::test]
async fn forged_and_overlong_requests_never_occupy_the_memory() {
    const CAPACITY: usize = 10;
    let app = app_with(|b| b.nonce_capacity(CAPACITY));
    for i in 0..500 {
        let n = nonce(i, 32);
        match i % 4 {
            0 => {
                let mut p = echo_params("forged");
                set(&mut p, "SignatureNonce", &n);
                send(&app, sdk_post(&signed("POST", "wrongsecret", p)))
                    .await
                    .expect_error(400, "SignatureDoesNotMatch");
            }
            1 => {
                let mut r = v3_with_nonce(&n);
                r.secret = "wrongsecret".into();
                send(&app, r.request()).await.expect_error(400, "SignatureDoesNotMatch");
            }
            2 => {
                let mut r = v3_with_nonce(&n);
                r.key_id = format!("unknown{i}");
                send(&app, r.request()).await.expect_error(404, "InvalidAccessKeyId.NotFound");
            }
            _ => {
                // One byte over the longest nonce accepted.
                let long = nonce(i, 129);
                send(&app, sdk_post(&v1_with_nonce(&long))).await.expect_error(400, "InvalidParameter");
            }
        }
    }
    // The memory is still empty: capacity genuine requests pass.
    for i in 0..CAPACITY {
        let a = send(&app, sdk_post(&v1_with_nonce(&nonce(10_000 + i, 32)))).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    send(&app, sdk_post(&v1_with_nonce(&nonce(20_000, 32)))).await.expect_error(400, "Throttling");
}
