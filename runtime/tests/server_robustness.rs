//! Whatever arrives — any method, path, query bytes, headers (signature-looking or not), body and
//! content type — the router answers: never a panic, never a 5xx, always the API's envelope with a
//! RequestId, in the format asked for.
#![cfg(feature = "server")]

mod server_support;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use proptest::prelude::*;
use server_support::*;

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        4 => Just(Method::POST),
        2 => Just(Method::GET),
        1 => Just(Method::PUT),
        1 => Just(Method::DELETE),
        1 => Just(Method::OPTIONS),
    ]
}

/// Query strings: well-formed pairs of protocol-ish names, or arbitrary bytes (percent-escaped
/// where the URI would not take them).
fn query() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "Signature",
        "SignatureNonce",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
        "SecurityToken",
        "Name",
        "Count",
        "Password",
        "RegionId",
    ]);
    let value = prop_oneof![
        Just("Echo".to_owned()),
        Just("2018-03-13".to_owned()),
        Just("XML".to_owned()),
        Just("testid".to_owned()),
        "[ -~]{0,16}",
        "\\PC{0,8}",
    ];
    prop_oneof![
        prop::collection::vec((name, value), 0..10)
            .prop_map(|pairs| encode(&pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Vec<_>>())),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|bytes| {
            bytes
                .iter()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"=&%+.-_".contains(b) {
                        (*b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        }),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop::sample::select(vec![
        "authorization",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
        "x-acs-security-token",
        "x-acs-accesskey-id",
        "content-type",
        "host",
        "transfer-encoding-ignored",
        "accept",
    ]);
    let value = prop_oneof![
        Just("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-date,Signature=00".to_owned()),
        Just(format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host,Signature={}", "a".repeat(64))),
        Just("ACS3-".to_owned()),
        Just("Echo".to_owned()),
        Just("2018-03-13".to_owned()),
        Just("application/x-www-form-urlencoded".to_owned()),
        Just(alibaba_rpc_runtime::signature::now_timestamp()),
        "[ -~]{0,40}",
    ];
    prop::collection::vec((name, value), 0..8).prop_map(|v| v.into_iter().map(|(n, v)| (n.to_owned(), v)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_request_gets_an_envelope(
        method in method(),
        path in prop_oneof![Just("/".to_owned()), "/[a-z]{1,8}"],
        query in query(),
        headers in headers(),
        body in prop_oneof![Just(Vec::new()), prop::collection::vec(any::<u8>(), 0..256), "[ -~]{0,64}".prop_map(String::into_bytes)],
        auth_off in any::<bool>(),
    ) {
        // The Echo operation answers 500 on purpose for these names (tests of internal errors).
        let deliberate_500 = ["Name=boom", "Name=panic", "Name=slow"].iter().any(|n| query.contains(n));
        let mut builder = Request::builder().method(method).uri(format!("{path}?{query}"));
        for (name, value) in &headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                builder = builder.header(n, v);
            }
        }
        let request = match builder.body(Body::from(body)) {
            Ok(r) => r,
            Err(_) => return Ok(()), // not a request axum could receive
        };
        let app = if auth_off {
            alibaba_rpc_runtime::server::router(
                TestDispatch,
                alibaba_rpc_runtime::server::ServerConfig::builder(&SERVICE)
                    .authentication(alibaba_rpc_runtime::server::Authentication::disabled())
                    .build(),
                &ERRORS,
            )
        } else {
            app()
        };
        let a = runtime().block_on(send(&app, request));
        prop_assert!(a.status.as_u16() < 500 || deliberate_500, "{}: {}", a.status, a.text);
        prop_assert!(!a.header_request_id.is_empty());
        if a.content_type.starts_with("text/xml") {
            let expected = format!("<RequestId>{}</RequestId>", a.header_request_id);
            prop_assert!(a.text.contains(&expected), "{}", a.text);
        } else {
            prop_assert_eq!(a.content_type.as_str(), "application/json;charset=utf-8");
            let json = a.json();
            prop_assert_eq!(json["RequestId"].as_str(), Some(a.header_request_id.as_str()), "{}", a.text);
            if !a.status.is_success() {
                prop_assert!(json["Code"].as_str().is_some_and(|c| !c.is_empty()), "{}", a.text);
                prop_assert!(json["Message"].is_string(), "{}", a.text);
            }
        }
    }
}
