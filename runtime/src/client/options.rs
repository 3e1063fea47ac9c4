//! The settings that control how calls are made, beyond where they go and how they are signed:
//! the HTTP client (the application's own, or one built here with a proxy and timeouts), the
//! deadline of a whole call, interceptors, the retry budget and the timer. Builder methods of
//! [`ClientConfigBuilder`] and getters of [`ClientConfig`], kept here so `config.rs` stays about
//! the service.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;

use super::budget::RetryBudget;
use super::config::{ClientConfig, ClientConfigBuilder};
use super::error::ConfigError;
use super::interceptor::Interceptor;
use super::sleep::{AsyncSleep, TokioSleep};

/// Which proxy a client built by the runtime uses.
#[derive(Clone, Default)]
pub(crate) enum ProxyChoice {
    /// As reqwest does by default: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (or
    /// their lowercase forms) from the environment when the client is built.
    #[default]
    Environment,
    /// This proxy for every request (the environment is ignored). The URL as given, checked by
    /// `build()`.
    Url(String),
    /// No proxy at all, whatever the environment says.
    Off,
}

/// The call-control part of a configuration (see the module documentation).
#[derive(Clone, Default)]
pub(crate) struct CallControl {
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) proxy: ProxyChoice,
    /// The proxy parsed by `build()`, with what may be shown of it (no user info).
    pub(crate) checked_proxy: Option<(reqwest::Proxy, String)>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) operation_timeout: Option<Duration>,
    pub(crate) interceptors: Vec<Arc<dyn Interceptor>>,
    pub(crate) sleep: Option<Arc<dyn AsyncSleep>>,
    pub(crate) retry_budget: RetryBudget,
}

impl CallControl {
    /// Checks the settings together; called by `ClientConfigBuilder::build`.
    pub(crate) fn check(mut self) -> Result<CallControl, ConfigError> {
        if self.http_client.is_some() {
            let conflict = match self.proxy {
                ProxyChoice::Url(_) => Some("proxy()"),
                ProxyChoice::Off => Some("no_proxy()"),
                ProxyChoice::Environment => self.read_timeout.map(|_| "read_timeout()"),
            };
            if let Some(setting) = conflict {
                return Err(ConfigError::OwnHttpClientConflict { setting });
            }
        }
        if let ProxyChoice::Url(url) = &self.proxy {
            let shown = shown_proxy(url);
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|e| ConfigError::InvalidProxy { proxy: shown.clone(), reason: e.to_string() })?;
            self.checked_proxy = Some((proxy, shown));
        }
        if self.read_timeout.is_some_and(|t| t.is_zero()) {
            return Err(ConfigError::ZeroLimit { which: "read" });
        }
        if self.operation_timeout.is_some_and(|t| t.is_zero()) {
            return Err(ConfigError::ZeroLimit { which: "operation" });
        }
        Ok(self)
    }

    pub(crate) fn sleeper(&self) -> Arc<dyn AsyncSleep> {
        self.sleep.clone().unwrap_or_else(|| Arc::new(TokioSleep))
    }
}

/// A proxy URL without its user info (a proxy password is never shown).
fn shown_proxy(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) if url.contains('@') => "(unparsable URL with user info)".to_string(),
        Err(_) => url.to_string(),
    }
}

impl fmt::Debug for CallControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = match (&self.proxy, &self.checked_proxy) {
            (_, Some((_, shown))) => shown.clone(),
            (ProxyChoice::Url(url), None) => shown_proxy(url),
            (ProxyChoice::Environment, _) => "from the environment".to_string(),
            (ProxyChoice::Off, _) => "off".to_string(),
        };
        f.debug_struct("CallControl")
            .field("own_http_client", &self.http_client.is_some())
            .field("proxy", &proxy)
            .field("read_timeout", &self.read_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("interceptors", &self.interceptors.len())
            .field("custom_sleep", &self.sleep.is_some())
            .field("retry_budget", &self.retry_budget)
            .finish()
    }
}

impl ClientConfigBuilder {
    /// Sends every request through this `reqwest::Client`: your proxy, CA certificates, client
    /// certificate (mTLS), connection pool and HTTP settings, shared with the rest of your
    /// application.
    ///
    /// The runtime then builds no client of its own: this builder's TLS (rustls with ring and the
    /// OS trust store), proxy and connect timeout settings are not used — set them on your
    /// `reqwest::ClientBuilder` (and `redirect(Policy::none())` there: a redirect would resend a
    /// signed request). [`proxy`](Self::proxy), [`no_proxy`](Self::no_proxy) and
    /// [`read_timeout`](Self::read_timeout) together with this are refused by `build()`. The
    /// per-attempt [`timeout`](Self::timeout), the `user-agent`, retries, deadlines and
    /// interceptors still apply to every request.
    ///
    /// ```
    /// # use alibaba_rpc_runtime::client::ClientConfig;
    /// # use alibaba_rpc_runtime::operation::ServiceInfo;
    /// # static SERVICE: ServiceInfo = ServiceInfo { product: "Ecs", version: "2014-05-26", endpoint_pattern: "https://ecs.{region}.aliyuncs.com" };
    /// # use alibaba_rpc_runtime::client::Credentials;
    /// use alibaba_rpc_runtime::client::tls_config;
    ///
    /// let mine = reqwest::Client::builder()
    ///     .tls_backend_preconfigured(tls_config()?) // the runtime's rustls (ring), or your own
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     // The runtime retries; reqwest's default policy would copy every request in case.
    ///     .retry(reqwest::retry::never().max_retries_per_request(0))
    ///     .pool_max_idle_per_host(4)
    ///     .build()?;
    /// let config = ClientConfig::builder(&SERVICE)
    ///     .region("cn-hangzhou")
    ///     .credentials(Credentials::new("id", "secret"))
    ///     .http_client(mine)
    ///     .build()?;
    /// assert!(config.uses_own_http_client());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.control.http_client = Some(client);
        self
    }

    /// Sends every request through this HTTP(S) proxy (`http://host:port`, optionally with
    /// `user:password@`), ignoring the environment. Checked by `build()` ([`ConfigError::InvalidProxy`]).
    ///
    /// Without this, the client does what reqwest does: it uses the proxies of the environment
    /// variables `HTTPS_PROXY` (https endpoints), `HTTP_PROXY` (http endpoints) and `ALL_PROXY`,
    /// except for the hosts in `NO_PROXY`, as read when the client is built.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.control.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// No proxy at all, whatever `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` say.
    pub fn no_proxy(mut self) -> Self {
        self.control.proxy = ProxyChoice::Off;
        self
    }

    /// Longest wait for the next bytes of a response (default: none; the per-attempt
    /// [`timeout`](Self::timeout) still bounds the attempt). Catches a stalled connection early.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.control.read_timeout = Some(timeout);
        self
    }

    /// A deadline for every call, across all its attempts and the waits between them (default:
    /// none — a call is bounded by its attempts' timeouts and the retry policy). A call's own
    /// [`Call::deadline`](super::Call::deadline) takes precedence.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.control.operation_timeout = Some(timeout);
        self
    }

    /// Adds an interceptor, run around every attempt after those added before it (see
    /// [`Interceptor`]).
    pub fn interceptor(mut self, interceptor: impl Interceptor) -> Self {
        self.control.interceptors.push(Arc::new(interceptor));
        self
    }

    /// The retry budget shared by every call of the client (default [`RetryBudget::standard`];
    /// [`RetryBudget::unlimited`] turns it off).
    pub fn retry_budget(mut self, budget: RetryBudget) -> Self {
        self.control.retry_budget = budget;
        self
    }

    /// The timer used between attempts (default [`TokioSleep`]): a test can record the waits
    /// the client chooses instead of spending them.
    pub fn sleep(mut self, sleep: impl AsyncSleep) -> Self {
        self.control.sleep = Some(Arc::new(sleep));
        self
    }
}

impl ClientConfig {
    /// Whether requests go through an application's own `reqwest::Client`
    /// ([`ClientConfigBuilder::http_client`]).
    pub fn uses_own_http_client(&self) -> bool {
        self.control.http_client.is_some()
    }

    /// The proxy set with [`ClientConfigBuilder::proxy`], without user info (`None`: the
    /// environment's, or none after [`ClientConfigBuilder::no_proxy`]).
    pub fn proxy(&self) -> Option<&str> {
        self.control.checked_proxy.as_ref().map(|(_, shown)| shown.as_str())
    }

    /// Longest wait for the next bytes of a response, if set.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.control.read_timeout
    }

    /// The deadline of every call, across its attempts, if set.
    pub fn operation_timeout(&self) -> Option<Duration> {
        self.control.operation_timeout
    }

    /// The retry budget.
    pub fn retry_budget(&self) -> RetryBudget {
        self.control.retry_budget
    }

    /// The `reqwest::Client` for this configuration: the application's own, or one built with the
    /// runtime's TLS (rustls, ring, the OS trust store), the timeouts and the proxy choice.
    pub(crate) fn http_client(
        &self,
        tls: impl FnOnce() -> Result<rustls::ClientConfig, rustls::Error>,
    ) -> Result<reqwest::Client, ConfigError> {
        if let Some(client) = &self.control.http_client {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls().map_err(ConfigError::Tls)?)
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent.as_str())
            // A redirect would resend (or turn into a GET) a signed request: report it instead.
            .redirect(reqwest::redirect::Policy::none())
            // The runtime retries by its own classifier chain. reqwest's default policy retries
            // only HTTP/2 and HTTP/3 refusals, which a client speaking HTTP/1.1 never meets, yet
            // it copies every request (its headers and extensions) in case it has to; with no
            // retry allowed it keeps no copy.
            .retry(reqwest::retry::never().max_retries_per_request(0));
        if let Some(read) = self.control.read_timeout {
            builder = builder.read_timeout(read);
        }
        builder = match (&self.control.proxy, &self.control.checked_proxy) {
            (_, Some((proxy, _))) => builder.proxy(proxy.clone()),
            (ProxyChoice::Off, _) => builder.no_proxy(),
            _ => builder,
        };
        builder.build().map_err(|e| ConfigError::HttpClient(super::error::redact(e)))
    }
}
