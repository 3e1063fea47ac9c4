//! [`ConfigError`]: a client configuration that cannot work, found before any request is sent.

use std::time::Duration;

/// A client configuration that cannot work, found before any request is sent.
///
/// Every message says what is wrong and how to fix it. None of them contains a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No region was configured.
    #[error(
        "no region configured: call `.region(\"cn-shanghai\")` (or another region id) on the client config builder"
    )]
    MissingRegion,
    /// The region id cannot be part of a host name.
    #[error("invalid region {region:?}: a region id is lowercase letters, digits and `-` (for example `cn-shanghai`)")]
    InvalidRegion {
        /// The region as given.
        region: String,
    },
    /// The endpoint is not an absolute `http`/`https` URL of the expected form.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it and how to fix it.
        reason: String,
    },
    /// A required credential environment variable is unset or empty.
    #[error(
        "environment variable {var} is not set: set it, or pass credentials explicitly with `.credentials(Credentials::new(id, secret))`"
    )]
    MissingEnv {
        /// The variable's name.
        var: &'static str,
    },
    /// A credential environment variable is not valid Unicode.
    #[error("environment variable {var} is not valid Unicode: an AccessKey value is plain ASCII")]
    EnvNotUnicode {
        /// The variable's name.
        var: &'static str,
    },
    /// A credential value is empty.
    #[error("the {field} is empty: every request would be rejected; pass the value from the Alibaba Cloud console")]
    EmptyCredential {
        /// Which credential (`access key id`, `access key secret` or `security token`).
        field: &'static str,
    },
    /// A credential value starts or ends with whitespace.
    #[error(
        "the {field} has leading or trailing whitespace: a stray space (or newline) makes every request fail with SignatureDoesNotMatch; remove it where the value comes from (values are never trimmed silently)"
    )]
    CredentialWhitespace {
        /// Which credential (`access key id`, `access key secret` or `security token`).
        field: &'static str,
    },
    /// A timeout is zero.
    #[error("the {which} timeout is zero: every request would fail; use a positive duration (default {default:?})")]
    ZeroTimeout {
        /// `connect` or `overall`.
        which: &'static str,
        /// The default for this timeout.
        default: Duration,
    },
    /// An optional limit (read timeout, operation timeout) is zero.
    #[error(
        "the {which} timeout is zero: every call would fail at once; use a positive duration, or do not set it (no limit)"
    )]
    ZeroLimit {
        /// `read` or `operation`.
        which: &'static str,
    },
    /// A setting that belongs on the application's own HTTP client was given with
    /// [`ClientConfigBuilder::http_client`](crate::client::ClientConfigBuilder::http_client).
    #[error(
        "{setting} has no effect with http_client(): the runtime builds no HTTP client then; configure it on your reqwest::ClientBuilder instead"
    )]
    OwnHttpClientConflict {
        /// The builder method, e.g. `proxy()`.
        setting: &'static str,
    },
    /// The proxy URL cannot be used.
    #[error("invalid proxy {proxy:?}: {reason}; give a URL such as `http://127.0.0.1:3128`")]
    InvalidProxy {
        /// The proxy URL, without user info.
        proxy: String,
        /// What reqwest reported.
        reason: String,
    },
    /// The retry policy allows no attempt at all.
    #[error(
        "the retry policy has max_attempts = 0: it counts the first attempt, so use at least 1 (`RetryPolicy::none()` for no retries)"
    )]
    ZeroAttempts,
    /// A version 3 algorithm other than the default was chosen for signature version 1.0.
    #[error(
        "signature algorithm {algorithm} belongs to signature version 3, but version 1.0 was chosen: drop \
         `signature_version(SignatureVersion::V1)` or `signature_algorithm(..)`"
    )]
    AlgorithmNeedsVersion3 {
        /// The algorithm chosen.
        algorithm: crate::signature::v3::Algorithm,
    },
    /// The user agent cannot be sent as an HTTP header value.
    #[error("the user agent is not a valid HTTP header value: use visible ASCII characters and spaces only")]
    InvalidUserAgent,
    /// The HTTP client could not be created (for example, no TLS backend could be initialised).
    #[error("the HTTP client could not be created: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The TLS configuration could not be created (for example, the platform's trust store could not
    /// be read).
    #[error("the TLS configuration could not be created: {0}")]
    Tls(#[source] rustls::Error),
}
