//! TLS to PostgreSQL: rustls with the ring provider and the platform's trust store, used when the
//! URL's `sslmode` asks for it (`require`) or the server offers it (`prefer`, the default).

use std::sync::Arc;

use tokio_postgres_rustls::MakeRustlsConnect;

/// The connector handed to the pool.
pub(super) fn connector() -> Result<MakeRustlsConnect, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
