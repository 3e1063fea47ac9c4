//! Our client against our server over loopback, in both signing versions (version 3 with both of
//! its algorithms, `ACS3-HMAC-SHA256` and `ACS3-HMAC-SM3`): for arbitrary
//! parameter values (empty, unicode, reserved characters) what the client signs the server
//! verifies, and the values arrive intact; STS credentials are accepted only with their token.
#![cfg(all(feature = "client", feature = "server"))]

mod server_support;

use std::collections::HashMap;
use std::net::SocketAddr;

use alibaba_rpc_runtime::client::{ClientConfig, Credentials, InvokeError, RetryPolicy, RpcClient, SignatureVersion};
use alibaba_rpc_runtime::server::{Authentication, KeyMaterial, ServerConfig, router};
use alibaba_rpc_runtime::signature::v3::Algorithm;
use proptest::prelude::*;
use server_support::{ERRORS, EchoRequest, SERVICE, TestDispatch, any_value};

struct Harness {
    rt: tokio::runtime::Runtime,
    endpoint: String,
}

fn harness() -> Harness {
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => panic!("runtime: {e}"),
    };
    let keys = HashMap::from([
        ("testid".to_owned(), KeyMaterial::permanent("testsecret")),
        ("STS.temp".to_owned(), KeyMaterial::temporary("tempsecret", "the-token")),
    ]);
    let app = router(
        TestDispatch,
        ServerConfig::builder(&SERVICE).authentication(Authentication::signature(keys)).build(),
        &ERRORS,
    );
    let listener = match rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")) {
        Ok(l) => l,
        Err(e) => panic!("bind: {e}"),
    };
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
    rt.spawn(async move {
        let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await;
    });
    Harness { rt, endpoint: format!("http://{addr}") }
}

/// How the client signs: the version and, under version 3, the algorithm.
type Signing = (SignatureVersion, Algorithm);

/// Every way the client signs.
const SIGNINGS: [Signing; 3] = [
    (SignatureVersion::V1, Algorithm::HmacSha256),
    (SignatureVersion::V3, Algorithm::HmacSha256),
    (SignatureVersion::V3, Algorithm::HmacSm3),
];

fn client(h: &Harness, (version, algorithm): Signing, credentials: Credentials) -> RpcClient {
    let config = ClientConfig::builder(&SERVICE)
        .region("cn-shanghai")
        .endpoint(&h.endpoint)
        .credentials(credentials)
        .signature_version(version)
        .signature_algorithm(algorithm)
        .retry(RetryPolicy::none())
        .build();
    match config.and_then(RpcClient::new) {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
}

fn signing() -> impl Strategy<Value = Signing> {
    prop::sample::select(SIGNINGS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn what_the_client_signs_the_server_verifies(
        name in "[A-Za-z0-9\\PC][ -~\\PC]{0,16}",
        password in any_value(),
        count in prop::option::of(0..=10i64),
        signing in signing(),
    ) {
        let h = harness();
        let c = client(&h, signing, Credentials::new("testid", "testsecret"));
        let request = EchoRequest::new(&name, count, Some(&password));
        let answer = h.rt.block_on(c.invoke(&request));
        let response = match answer {
            Ok(r) => r,
            Err(e) => return Err(TestCaseError::fail(format!("{signing:?}: {e}"))),
        };
        prop_assert_eq!(response.name(), name.as_str());
        prop_assert_eq!(response.count(), count.unwrap_or(1));
    }
}

#[test]
fn wrong_secret_and_sts_tokens_in_both_versions() {
    let h = harness();
    for signing in SIGNINGS {
        let version = format!("{signing:?}");
        let code = |credentials: Credentials| {
            let c = client(&h, signing, credentials);
            match h.rt.block_on(c.invoke(&EchoRequest::new("x", None, None))) {
                Ok(_) => "OK".to_owned(),
                Err(InvokeError::Api { error: e, .. }) => e.code,
                Err(e) => format!("{e}"),
            }
        };
        assert_eq!(code(Credentials::new("testid", "testsecret")), "OK", "{version}");
        assert_eq!(code(Credentials::new("testid", "wrong")), "SignatureDoesNotMatch", "{version}");
        let sts = |token: &str| Credentials::new("STS.temp", "tempsecret").with_security_token(token);
        assert_eq!(code(sts("the-token")), "OK", "{version}");
        assert_eq!(code(sts("other")), "InvalidSecurityToken.MismatchWithAccessKey", "{version}");
        assert_eq!(code(Credentials::new("STS.temp", "tempsecret")), "MissingSecurityToken", "{version}");
    }
}
