//! HTTPS: the server's rustls configuration from a PEM certificate chain and a PEM private key,
//! with the *ring* crypto provider (never aws-lc, see the README's "Dependencies"), and the
//! acceptor that puts the runtime's request-line guard on the decrypted stream ([`acceptor`]).
//!
//! ```no_run
//! # fn main() -> Result<(), smartag_service::tls::TlsError> {
//! let config = smartag_service::tls::server_config("cert.pem".as_ref(), "key.pem".as_ref())?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alibaba_rpc_runtime::server::listener::GuardedStream;
use axum_server::accept::{Accept, NoDelayAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use futures::TryFutureExt as _;
use futures::future::MapOk;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the TLS files could not be used; each names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read TLS {what} file {}", path.display())]
    Read {
        /// Certificate or private key.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A file is not PEM, or holds no object of the kind needed.
    #[error("TLS {what} file {} is not usable: {problem}", path.display())]
    Pem {
        /// Certificate or private key.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, and what the file should hold.
        problem: String,
    },
    /// rustls refused the pair (e.g. the key does not belong to the certificate).
    #[error("TLS certificate {} and key {} cannot be used together: {source}", cert.display(), key.display())]
    Refused {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
}

/// The rustls server configuration serving the certificate chain of PEM file `cert` with the
/// private key of PEM file `key` (PKCS#8, PKCS#1 or SEC1): the ring provider, TLS 1.2 and 1.3, no
/// client certificates, ALPN `http/1.1`.
///
/// # Errors
/// A file that cannot be read, that has no certificate (or no private key) in PEM, or a key that
/// does not belong to the certificate; the error names the file.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let certs = read_certificates(cert)?;
    let private_key = read_private_key(key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let refused = |source| TlsError::Refused { cert: cert.to_path_buf(), key: key.to_path_buf(), source };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused)?
        .with_no_client_auth()
        .with_single_cert(certs, private_key)
        .map_err(refused)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { what, path: path.to_path_buf(), source })
}

fn pem_problem(what: &'static str, path: &Path, problem: String) -> TlsError {
    TlsError::Pem { what, path: path.to_path_buf(), problem }
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    const WHAT: &str = "certificate";
    let bytes = read(WHAT, path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, pem::Error>>()
        .map_err(|e| pem_problem(WHAT, path, format!("{e} (expected PEM `-----BEGIN CERTIFICATE-----` blocks)")))?;
    if certs.is_empty() {
        let problem = "no `-----BEGIN CERTIFICATE-----` block in it (expected the PEM certificate chain, the \
                       server's certificate first)";
        return Err(pem_problem(WHAT, path, problem.to_owned()));
    }
    Ok(certs)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    const WHAT: &str = "private key";
    let bytes = read(WHAT, path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        let problem = match e {
            pem::Error::NoItemsFound => "no private key in it (expected a PEM `-----BEGIN PRIVATE KEY-----`, `RSA \
                                         PRIVATE KEY` or `EC PRIVATE KEY` block)"
                .to_owned(),
            other => format!("{other} (expected a PEM private key)"),
        };
        pem_problem(WHAT, path, problem)
    })
}

/// The acceptor of the HTTPS listener (for `axum_server`'s `Server::acceptor`): `TCP_NODELAY`, the
/// TLS handshake with `config`, then the runtime's request-line guard
/// ([`GuardedStream`]) over the *decrypted* stream — so that, as over plain HTTP, a request line
/// too long for hyper is answered `RequestTooLarge` 413 in the API's envelope instead of a bare
/// `414`.
pub fn acceptor(config: Arc<rustls::ServerConfig>) -> GuardDecrypted<RustlsAcceptor<NoDelayAcceptor>> {
    GuardDecrypted(RustlsAcceptor::new(RustlsConfig::from_config(config)).acceptor(NoDelayAcceptor))
}

/// An acceptor that wraps the stream its inner acceptor yields (for HTTPS, the decrypted TLS
/// stream) in the runtime's request-line guard. Made by [`acceptor`].
#[derive(Debug, Clone)]
pub struct GuardDecrypted<A>(A);

impl<A, I, S> Accept<I, S> for GuardDecrypted<A>
where
    A: Accept<I, S>,
{
    type Stream = GuardedStream<A::Stream>;
    type Service = A::Service;
    type Future = MapOk<A::Future, Guard<A::Stream, A::Service>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        self.0.accept(stream, service).map_ok(guard)
    }
}

/// What [`GuardDecrypted`] does to an accepted connection.
type Guard<St, Sv> = fn((St, Sv)) -> (GuardedStream<St>, Sv);

fn guard<St, Sv>((stream, service): (St, Sv)) -> (GuardedStream<St>, Sv) {
    (GuardedStream::new(stream), service)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use axum::extract::ConnectInfo;
    use rustls::pki_types::PrivatePkcs8KeyDer;

    use super::*;

    /// Through [`acceptor`], handlers still see the peer's address (`ConnectInfo`), and the
    /// server stops gracefully through its handle.
    #[tokio::test]
    async fn the_guarded_tls_listener_keeps_the_peer_address_and_stops_gracefully() {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("a certificate");
        let der = made.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], key)
            .expect("server config");

        let app =
            axum::Router::new().fallback(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let handle = axum_server::Handle::<SocketAddr>::new();
        let server = axum_server::from_tcp(listener)
            .expect("server")
            .acceptor(acceptor(Arc::new(config)))
            .handle(handle.clone())
            .serve(app.into_make_service_with_connect_info::<SocketAddr>());
        let served = tokio::spawn(server);

        let mut roots = rustls::RootCertStore::empty();
        roots.add(der).expect("root");
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder().tls_backend_preconfigured(tls).build().expect("client");
        let answer = client.get(format!("https://{addr}/")).send().await.expect("an HTTPS answer");
        let peer = answer.text().await.expect("a body");
        assert!(peer.starts_with("127.0.0.1:") && peer != addr.to_string(), "{peer}");

        handle.graceful_shutdown(None);
        served.await.expect("joined").expect("served");
    }
}
