//! The client's TLS configuration: rustls with the *ring* crypto provider and the platform
//! certificate verifier, handed to reqwest ready-made.
//!
//! reqwest's own `rustls` feature brings the aws-lc-rs provider, whose C build is the slowest step
//! of a clean build of an application (README, "Dependencies", has the measurements); ring builds
//! several times faster. The provider is given to this configuration only:
//! [`rustls::crypto::CryptoProvider::install_default`] is never called, so an application stays
//! free to install its own process-wide provider for its other TLS clients.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The rustls client configuration every [`RpcClient`](super::RpcClient) uses: the ring provider,
/// its safe default protocol versions (TLS 1.2 and 1.3), the operating system's trust store through
/// `rustls-platform-verifier`, no client certificate, and ALPN `http/1.1` (the client speaks
/// HTTP/1.1 only).
///
/// Public as [`tls_config`](super::tls_config), for an application that builds its own
/// `reqwest::Client` ([`ClientConfigBuilder::http_client`](super::ClientConfigBuilder::http_client))
/// and wants this TLS set-up in it: `reqwest::Client::builder().tls_backend_preconfigured(tls_config()?)`
/// (for a client certificate, build a rustls configuration `with_client_auth_cert` instead).
///
/// # Errors
/// When the verifier cannot be created from the platform's trust store, or the provider rejects
/// the protocol versions.
pub fn client_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
