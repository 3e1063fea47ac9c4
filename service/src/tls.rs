//! HTTPS: the server's rustls configuration from a PEM certificate chain and a PEM private key,
//! with the *ring* crypto provider (never aws-lc, see the README's "Dependencies").
//!
//! ```no_run
//! # fn main() -> Result<(), smartag_service::tls::TlsError> {
//! let config = smartag_service::tls::server_config("cert.pem".as_ref(), "key.pem".as_ref())?;
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

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
