//! Both sides answer alike and authenticate alike, in-process (no timing is asserted anywhere).

use std::net::SocketAddr;

use smartag_bench::driver::{self, Caller, GeneratedCaller, Pool, RawCaller, Step};
use smartag_bench::{Auth, Side, check_same_answers, fetch_once, wire};

async fn start(side: Side, auth: Auth) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(smartag_bench::serve(side, auth, listener));
    addr
}

#[tokio::test]
async fn both_sides_answer_the_same_json() {
    for auth in [Auth::Off, Auth::On] {
        let a = start(Side::A, auth).await;
        let b = start(Side::B, auth).await;
        check_same_answers(a, b, auth).await.expect("same answers");
    }
}

#[tokio::test]
async fn both_sides_refuse_replays_and_bad_signatures() {
    for side in [Side::A, Side::B] {
        let addr = start(side, Auth::On).await;
        let host = addr.to_string();
        let signed = wire::signed_headers(&host).expect("signed");
        let (first, _) = fetch_once(addr, signed.clone()).await.expect("first");
        let (replayed, body) = fetch_once(addr, signed).await.expect("replay");
        assert_eq!((first, replayed), (200, 400), "{side:?}: {}", String::from_utf8_lossy(&body));
        assert!(String::from_utf8_lossy(&body).contains("SignatureNonceUsed"), "{side:?}");

        let (unsigned, body) = fetch_once(addr, wire::unsigned_headers(&host).expect("headers")).await.expect("x");
        assert_eq!(unsigned, 400, "{side:?}: {}", String::from_utf8_lossy(&body));

        let mut forged = wire::signed_headers(&host).expect("signed");
        let authorization = forged.get("authorization").and_then(|v| v.to_str().ok()).expect("auth").to_owned();
        let flipped = if authorization.ends_with('0') { "1" } else { "0" };
        let tampered = format!("{}{flipped}", &authorization[..authorization.len() - 1]);
        forged.insert("authorization", tampered.parse().expect("value"));
        let (status, body) = fetch_once(addr, forged).await.expect("forged");
        assert_eq!(status, 400, "{side:?}");
        assert!(String::from_utf8_lossy(&body).contains("SignatureDoesNotMatch"), "{side:?}");
    }
}

#[tokio::test]
async fn every_caller_works_against_both_sides() {
    for side in [Side::A, Side::B] {
        let addr = start(side, Auth::On).await;
        let host = addr.to_string();
        let client = driver::generated_client(&format!("http://{addr}")).expect("client");
        let mut generated = GeneratedCaller::new(client);
        assert_eq!(generated.call().await.expect("generated client"), Step::Done);
        if side == Side::A {
            // Signature version 1.0, which only the generated router verifies: both client sides.
            let v1 = driver::generated_client_signing(&format!("http://{addr}"), wire::Signing::V1).expect("client");
            assert_eq!(GeneratedCaller::new(v1).call().await.expect("generated client, v1"), Step::Done);
            let presigned = wire::presigned_batch(&host, wire::Signing::V1, 1).expect("signed v1");
            let mut raw = RawCaller::new(driver::raw_http_client(), presigned);
            assert_eq!(raw.call().await.expect("raw v1"), Step::Done);
        }

        let presigned = wire::presigned_batch(&host, wire::Signing::V3, 2).expect("signed");
        let mut raw = RawCaller::new(driver::raw_http_client(), presigned);
        assert_eq!(raw.call().await.expect("raw"), Step::Done);
        assert_eq!(raw.call().await.expect("raw"), Step::Done);
        assert_eq!(raw.call().await.expect("raw"), Step::Exhausted);

        let pool = Pool::once_each(wire::signed_batch(&host, 3).expect("signed"));
        let callers = vec![driver::HyperCaller::connect(addr, &wire::path_and_query(), pool).await.expect("connect")];
        let (_, window) = driver::window(callers, std::time::Duration::from_secs(5)).await.expect("window");
        assert_eq!(window.calls(), 3);
        assert!(window.ended_early);
    }
}
