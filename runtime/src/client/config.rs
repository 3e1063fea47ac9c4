//! Client configuration and its builder.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderValue};

use crate::operation::ServiceInfo;
use crate::signature::SignatureVersion;
use crate::signature::v3::Algorithm;

use super::credentials::{Credentials, ProvideCredentials};
use super::error::ConfigError;
use super::options::CallControl;
use super::retry::RetryPolicy;
use super::signing_key::FixedKey;

/// Default time allowed to establish a connection (TCP + TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time allowed for a whole attempt (connect, send, and read the response).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default `User-Agent` for `service`: `alibaba-rpc-rust/<runtime version> <Product>/<API version>`,
/// e.g. `alibaba-rpc-rust/0.1.0 Ecs/2014-05-26`.
pub fn default_user_agent(service: &ServiceInfo) -> String {
    format!("alibaba-rpc-rust/{} {}/{}", env!("CARGO_PKG_VERSION"), service.product, service.version)
}

/// Everything an [`RpcClient`](super::RpcClient) needs: service, region, endpoint, credentials,
/// signature version, timeouts, user agent and retry policy. Built, and checked, by [`ClientConfig::builder`].
///
/// `Debug` never shows the secret or the security token.
///
/// ```
/// use std::time::Duration;
/// use alibaba_rpc_runtime::client::{ClientConfig, Credentials, RetryPolicy, SignatureVersion};
/// use alibaba_rpc_runtime::operation::ServiceInfo;
///
/// static SERVICE: ServiceInfo = ServiceInfo {
///     product: "Ecs",
///     version: "2014-05-26",
///     endpoint_pattern: "https://ecs.{region}.aliyuncs.com",
/// };
///
/// let config = ClientConfig::builder(&SERVICE)
///     .region("cn-shanghai")
///     .credentials(Credentials::new("my-access-key-id", "my-access-key-secret"))
///     .timeout(Duration::from_secs(10))
///     .retry(RetryPolicy::none())
///     .build()?;
/// assert_eq!(config.endpoint(), "https://ecs.cn-shanghai.aliyuncs.com/");
/// assert_eq!(config.signature_version(), SignatureVersion::V3); // the default
/// assert!(!format!("{config:?}").contains("my-access-key-secret"));
///
/// // A local server over plain HTTP:
/// let local = ClientConfig::builder(&SERVICE)
///     .region("cn-shanghai")
///     .endpoint("http://127.0.0.1:8080")
///     .credentials(Credentials::new("id", "secret"))
///     .build()?;
/// assert_eq!(local.endpoint(), "http://127.0.0.1:8080/");
///
/// // Signature version 1.0 (HMAC-SHA1), for a server that only speaks it:
/// let legacy = ClientConfig::builder(&SERVICE)
///     .region("cn-shanghai")
///     .credentials(Credentials::new("id", "secret"))
///     .signature_version(SignatureVersion::V1)
///     .build()?;
/// assert_eq!(legacy.signature_version(), SignatureVersion::V1);
/// # Ok::<(), alibaba_rpc_runtime::client::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    pub(crate) service: &'static ServiceInfo,
    pub(crate) region: String,
    pub(crate) endpoint: Url,
    /// Header values every attempt sends, validated once here instead of once per attempt.
    pub(crate) prebuilt: PrebuiltHeaders,
    pub(crate) credentials: Arc<dyn ProvideCredentials>,
    /// The HMAC of fixed credentials' secret, keyed once (`None` for a provider of changing ones).
    pub(crate) fixed_key: Option<FixedKey>,
    pub(crate) signature_version: SignatureVersion,
    /// Version 3's algorithm (the default under version 1.0).
    pub(crate) signature_algorithm: Algorithm,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) retry: RetryPolicy,
    /// HTTP client, proxy, deadline, interceptors, retry budget, timer (`options.rs`).
    pub(crate) control: CallControl,
}

impl ClientConfig {
    /// Starts a configuration for `service` (the generated `SERVICE`).
    pub fn builder(service: &'static ServiceInfo) -> ClientConfigBuilder {
        ClientConfigBuilder {
            service,
            region: None,
            endpoint: None,
            credentials: None,
            signature_version: SignatureVersion::default(),
            signature_algorithm: Algorithm::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent: None,
            retry: RetryPolicy::default(),
            control: CallControl::default(),
        }
    }

    /// The service this configuration talks to.
    pub fn service(&self) -> &'static ServiceInfo {
        self.service
    }

    /// The region id.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint requests are sent to (always ends with `/`).
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Where the credentials requests are signed with come from: awaited once per attempt.
    pub fn credentials(&self) -> &Arc<dyn ProvideCredentials> {
        &self.credentials
    }

    /// How requests are signed: [`SignatureVersion::V3`] (`ACS3-HMAC-SHA256`) unless configured
    /// otherwise with [`ClientConfigBuilder::signature_version`].
    pub fn signature_version(&self) -> SignatureVersion {
        self.signature_version
    }

    /// The algorithm of version 3 signatures: [`Algorithm::HmacSha256`] unless configured
    /// otherwise with [`ClientConfigBuilder::signature_algorithm`].
    pub fn signature_algorithm(&self) -> Algorithm {
        self.signature_algorithm
    }

    /// Time allowed to establish a connection.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// Time allowed for each whole attempt.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The `User-Agent` header value.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The retry policy.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }
}

/// Builder of [`ClientConfig`]; see there for an example.
///
/// Only the region is required. The endpoint defaults to the service's endpoint pattern with the
/// region filled in, credentials default to [`Credentials::from_env`], the signature version to
/// [`SignatureVersion::V3`], the connect timeout to 5 s, the overall timeout to 30 s, the user agent to [`default_user_agent`] and the retry policy
/// to [`RetryPolicy::default`].
#[derive(Clone)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct ClientConfigBuilder {
    service: &'static ServiceInfo,
    region: Option<String>,
    endpoint: Option<String>,
    credentials: Option<CredentialsSource>,
    signature_version: SignatureVersion,
    signature_algorithm: Algorithm,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: Option<String>,
    retry: RetryPolicy,
    /// HTTP client, proxy, deadline, interceptors, retry budget, timer (`options.rs`).
    pub(super) control: CallControl,
}

impl ClientConfigBuilder {
    /// The region id, such as `cn-shanghai` (required).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// An explicit endpoint, `http://` or `https://`, instead of the region's public endpoint
    /// (for a private deployment or a local test server).
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Explicit, fixed credentials instead of the environment (checked by [`build`](Self::build)).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(CredentialsSource::Fixed(credentials));
        self
    }

    /// A provider of credentials instead of fixed ones: the client awaits
    /// [`ProvideCredentials::provide_credentials`] once per attempt, just before signing, so
    /// temporary credentials it refreshes are picked up by the next attempt. A failure is
    /// [`InvokeError::Credentials`](super::InvokeError::Credentials), not retried.
    ///
    /// The `alibaba-credentials` crate's `DefaultChain` is such a provider (environment, OIDC,
    /// the aliyun CLI's config, the credentials file, the ECS instance role).
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials) -> Self {
        self.credentials = Some(CredentialsSource::Provider(Arc::new(provider)));
        self
    }

    /// How requests are signed (default [`SignatureVersion::V3`], `ACS3-HMAC-SHA256`, as the
    /// current official SDKs sign).
    ///
    /// [`SignatureVersion::V1`] signs with version 1.0 (`HMAC-SHA1`), as the legacy Python and Go
    /// SDKs do, for a server that does not accept version 3 yet: every protocol field and the
    /// signature travel with the parameters in a form body (the legacy SDKs put the same pairs in
    /// the query; Alibaba Cloud reads and signs both alike).
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// The algorithm of version 3 signatures (default [`Algorithm::HmacSha256`],
    /// `ACS3-HMAC-SHA256`). [`Algorithm::HmacSm3`] signs with `ACS3-HMAC-SM3` — SM3 hashes and
    /// HMAC-SM3, as the Tea SDKs do with `signature_algorithm = 'ACS3-HMAC-SM3'` — where SM3
    /// (GB/T 32905) is required. It is a version 3 algorithm: [`build`](Self::build) refuses it
    /// next to [`SignatureVersion::V1`].
    pub fn signature_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.signature_algorithm = algorithm;
        self
    }

    /// Time allowed to establish a connection (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for each whole attempt: connect, send, and read the response (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent` header (default [`default_user_agent`]).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Checks everything and builds the configuration.
    ///
    /// # Errors
    /// A [`ConfigError`] naming what is missing or wrong: no or malformed region, an endpoint that
    /// is not an absolute `http`/`https` URL, credentials missing from the environment or with
    /// stray whitespace, a zero timeout, zero attempts, or a user agent that is not a header value.
    pub fn build(self) -> Result<ClientConfig, ConfigError> {
        let region = self.region.ok_or(ConfigError::MissingRegion)?;
        if !is_region_id(&region) {
            return Err(ConfigError::InvalidRegion { region });
        }
        let endpoint = parse_endpoint(&self.endpoint.unwrap_or_else(|| self.service.endpoint(&region)))?;
        let credentials: Arc<dyn ProvideCredentials> = match self.credentials {
            Some(CredentialsSource::Fixed(credentials)) => {
                credentials.check()?;
                Arc::new(credentials)
            }
            Some(CredentialsSource::Provider(provider)) => provider,
            None => Arc::new(Credentials::from_env()?),
        };
        if self.connect_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout { which: "connect", default: DEFAULT_CONNECT_TIMEOUT });
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout { which: "overall", default: DEFAULT_TIMEOUT });
        }
        if self.retry.max_attempts == 0 {
            return Err(ConfigError::ZeroAttempts);
        }
        let user_agent = self.user_agent.unwrap_or_else(|| default_user_agent(self.service));
        if HeaderValue::from_str(&user_agent).is_err() || user_agent.chars().any(char::is_control) {
            return Err(ConfigError::InvalidUserAgent);
        }
        let host = super::transport::host_header(&endpoint);
        let prebuilt = PrebuiltHeaders {
            host: HeaderValue::from_str(&host).map_err(|_| ConfigError::InvalidEndpoint {
                endpoint: endpoint.to_string(),
                reason: "its host is not a valid `host` header value".to_string(),
            })?,
            user_agent: HeaderValue::from_str(&user_agent).map_err(|_| ConfigError::InvalidUserAgent)?,
            template: OnceLock::new(),
        };
        if self.signature_version == SignatureVersion::V1 && self.signature_algorithm != Algorithm::default() {
            return Err(ConfigError::AlgorithmNeedsVersion3 { algorithm: self.signature_algorithm });
        }
        let fixed_key = credentials.fixed_credentials().and_then(|fixed| {
            FixedKey::new(&fixed.access_key_secret, self.signature_version, self.signature_algorithm)
        });
        Ok(ClientConfig {
            service: self.service,
            region,
            prebuilt,
            endpoint,
            credentials,
            fixed_key,
            signature_version: self.signature_version,
            signature_algorithm: self.signature_algorithm,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            user_agent,
            retry: self.retry,
            control: self.control.check()?,
        })
    }
}

/// The header values of a configuration that every attempt sends, checked once when it is built
/// (cloning one is a reference count, not a copy).
#[derive(Clone)]
pub(crate) struct PrebuiltHeaders {
    /// `host`: the endpoint's `host[:port]` (what version 3 signs).
    pub(crate) host: HeaderValue,
    /// `user-agent`.
    pub(crate) user_agent: HeaderValue,
    /// The names of an attempt's headers when the call adds none (the same for every such attempt
    /// of one configuration), in the order sent, each with an empty value: the first such attempt
    /// sets it, and the next ones copy it and put their values in place
    /// (`transport::http_request::build_request`).
    pub(crate) template: OnceLock<HeaderMap>,
}

/// What the builder was given: fixed credentials (checked at build time) or a provider.
#[derive(Clone, Debug)]
enum CredentialsSource {
    Fixed(Credentials),
    Provider(Arc<dyn ProvideCredentials>),
}

/// `product version` of a service, for `Debug` (without requiring `ServiceInfo: Debug`).
struct ServiceName(&'static ServiceInfo);

impl fmt::Debug for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0.product, self.0.version)
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("service", &ServiceName(self.service))
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_str())
            .field("credentials", &self.credentials)
            .field("signature_version", &self.signature_version)
            .field("signature_algorithm", &self.signature_algorithm)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("control", &self.control)
            .finish()
    }
}

impl fmt::Debug for ClientConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigBuilder")
            .field("service", &ServiceName(self.service))
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("signature_version", &self.signature_version)
            .field("signature_algorithm", &self.signature_algorithm)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("control", &self.control)
            .finish()
    }
}

fn is_region_id(region: &str) -> bool {
    !region.is_empty()
        && !region.starts_with('-')
        && !region.ends_with('-')
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn parse_endpoint(endpoint: &str) -> Result<Url, ConfigError> {
    let invalid =
        |reason: &str| ConfigError::InvalidEndpoint { endpoint: endpoint.to_string(), reason: reason.to_string() };
    let url = Url::parse(endpoint).map_err(|e| {
        invalid(&format!(
            "{e}; give an absolute URL such as `https://ecs.cn-hangzhou.aliyuncs.com` or `http://127.0.0.1:8080`"
        ))
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(invalid(&format!(
                "scheme `{other}` is not supported; use `https://` (or `http://` for a local server)"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host; give one, as in `https://ecs.cn-hangzhou.aliyuncs.com`"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it contains user info (`user:pass@`); requests are signed with the AccessKey, remove it"));
    }
    if url.query().is_some() {
        return Err(invalid("it has a query string; the client builds the query itself, remove everything from `?`"));
    }
    if url.fragment().is_some() {
        return Err(invalid("it has a fragment (`#...`); remove it"));
    }
    let mut url = url;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    static SERVICE: ServiceInfo = ServiceInfo {
        product: "Smartag",
        version: "2018-03-13",
        endpoint_pattern: "https://smartag.{region}.aliyuncs.com",
    };

    fn creds() -> Credentials {
        Credentials::new("id", "secret")
    }

    fn builder() -> ClientConfigBuilder {
        ClientConfig::builder(&SERVICE).credentials(creds())
    }

    #[test]
    fn defaults() {
        let c = builder().region("cn-shanghai").build().unwrap();
        assert_eq!(c.endpoint(), "https://smartag.cn-shanghai.aliyuncs.com/");
        assert_eq!(c.region(), "cn-shanghai");
        assert_eq!(c.connect_timeout(), Duration::from_secs(5));
        assert_eq!(c.timeout(), Duration::from_secs(30));
        assert_eq!(c.user_agent(), format!("alibaba-rpc-rust/{} Smartag/2018-03-13", env!("CARGO_PKG_VERSION")));
        assert_eq!(c.retry(), RetryPolicy::default());
        assert_eq!(c.service().version, "2018-03-13");
        assert_eq!(c.signature_version(), SignatureVersion::V3);
    }

    #[test]
    fn signature_version_is_configurable_and_shown() {
        for version in [SignatureVersion::V1, SignatureVersion::V3] {
            let b = builder().region("cn-shanghai").signature_version(version);
            assert!(format!("{b:?}").contains(&format!("signature_version: {version:?}")));
            let c = b.build().unwrap();
            assert_eq!(c.signature_version(), version);
            let shown = format!("{c:?}");
            assert!(shown.contains(&format!("signature_version: {version:?}")), "{shown}");
            assert!(!shown.contains("\"secret\""), "{shown}");
        }
    }

    #[test]
    fn region_is_required_and_checked() {
        let err = builder().build().unwrap_err();
        assert!(matches!(err, ConfigError::MissingRegion));
        assert!(err.to_string().contains(".region("));
        for bad in ["", "cn shanghai", "CN-SHANGHAI", "cn/x", "-cn"] {
            let err = builder().region(bad).build().unwrap_err();
            assert!(matches!(err, ConfigError::InvalidRegion { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn endpoints() {
        let c = builder().region("cn-shanghai").endpoint("http://127.0.0.1:8080").build().unwrap();
        assert_eq!(c.endpoint(), "http://127.0.0.1:8080/");
        let c = builder().region("cn-shanghai").endpoint("https://proxy.example.com/smartag").build().unwrap();
        assert_eq!(c.endpoint(), "https://proxy.example.com/smartag/");
        for bad in [
            "smartag.cn-shanghai.aliyuncs.com",
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com/?a=b",
            "https://example.com/#x",
            "not a url",
            "",
        ] {
            let err = builder().region("cn-shanghai").endpoint(bad).build().unwrap_err();
            assert!(matches!(err, ConfigError::InvalidEndpoint { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn credentials_are_checked() {
        let err = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new(" id", "secret"))
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::CredentialWhitespace { field: "access key id" }));
        let err = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new("id", "secret\n"))
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("SignatureDoesNotMatch"));
        let err = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new("id", ""))
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::EmptyCredential { field: "access key secret" }));
        let err = ClientConfig::builder(&SERVICE)
            .region("cn-shanghai")
            .credentials(Credentials::new("id", "s").with_security_token("t "))
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::CredentialWhitespace { field: "security token" }));
    }

    #[test]
    fn timeouts_attempts_and_user_agent_are_checked() {
        let b = builder().region("cn-shanghai");
        assert!(matches!(
            b.clone().connect_timeout(Duration::ZERO).build(),
            Err(ConfigError::ZeroTimeout { which: "connect", .. })
        ));
        assert!(matches!(
            b.clone().timeout(Duration::ZERO).build(),
            Err(ConfigError::ZeroTimeout { which: "overall", .. })
        ));
        assert!(matches!(
            b.clone().retry(RetryPolicy { max_attempts: 0, ..RetryPolicy::default() }).build(),
            Err(ConfigError::ZeroAttempts)
        ));
        assert!(matches!(b.clone().user_agent("bad\nagent").build(), Err(ConfigError::InvalidUserAgent)));
        let c = b.user_agent("my-app/1.0").build().unwrap();
        assert_eq!(c.user_agent(), "my-app/1.0");
    }
}
