//! The client's TLS stack is live: an `https://` endpoint builds a client, and a handshake with a
//! local TLS server whose certificate no trust store accepts fails as a connect error, after the
//! server has seen the client's hello and the client has rejected the certificate.
#![cfg(feature = "client")]

mod client_support;

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use alibaba_rpc_runtime::client::{InvokeError, TransportErrorKind};
use client_support::{FakeCreate, client_v3, credentials, fast_retry};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

static CERT: &[u8] = include_bytes!("tls/self_signed_cert.der");
static KEY: &[u8] = include_bytes!("tls/self_signed_key.der");

/// Accepts one connection and runs a rustls server handshake on it with the self-signed
/// certificate; answers the handshake's outcome.
fn one_tls_handshake(listener: TcpListener) -> thread::JoinHandle<Result<(), rustls::Error>> {
    thread::spawn(move || {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(CERT.to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec())),
            )?;
        let (mut tcp, _) = listener.accept().map_err(|e| rustls::Error::General(e.to_string()))?;
        let mut conn = rustls::ServerConnection::new(Arc::new(config))?;
        while conn.is_handshaking() {
            match conn.complete_io(&mut tcp) {
                Ok(_) => {}
                Err(e) => {
                    return match e.into_inner().map(|inner| inner.downcast::<rustls::Error>()) {
                        Some(Ok(tls)) => Err(*tls),
                        _ => Err(rustls::Error::General("I/O error during the handshake".into())),
                    };
                }
            }
        }
        Ok(())
    })
}

#[tokio::test]
async fn an_untrusted_certificate_fails_the_handshake_with_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("https://{}", listener.local_addr().unwrap());
    let server = one_tls_handshake(listener);

    let client = client_v3(&endpoint, fast_retry(1), credentials());
    let err = client.invoke(&FakeCreate::valid()).await.unwrap_err();
    let InvokeError::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}");
    };
    assert_eq!(transport.kind(), TransportErrorKind::Connect, "{err:?}");
    assert_eq!(transport.attempts(), 1);

    // The server saw a TLS client hello, sent its certificate, and the client refused it with an alert.
    let outcome = server.join().unwrap();
    assert!(
        matches!(outcome, Err(rustls::Error::AlertReceived(_))),
        "the client should reject the certificate with a TLS alert, the server saw {outcome:?}"
    );
}

#[test]
fn an_https_client_builds_without_installing_a_process_wide_provider() {
    let client = client_v3("https://smartag.cn-shanghai.aliyuncs.com", fast_retry(1), credentials());
    assert_eq!(client.region(), "cn-shanghai");
    // The ring provider is the client's own: the application's choice of default stays free.
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
}
