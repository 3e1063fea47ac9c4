//! Server settings.

use std::time::Duration;

use super::credentials::Authentication;
use super::nonce::{CustomReplayCache, ReplayCache};
use crate::operation::ServiceInfo;

/// The default body limit: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// The default request timeout: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The default accepted clock skew either way: 15 minutes.
pub const DEFAULT_TIMESTAMP_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The default number of live nonces remembered: 1,000,000.
pub const DEFAULT_NONCE_CAPACITY: usize = 1_000_000;

/// The settings of [`router`](super::router()). Build one with [`ServerConfig::builder`]; the
/// authentication must be chosen explicitly.
///
/// ```
/// use std::collections::HashMap;
/// use alibaba_rpc_runtime::operation::ServiceInfo;
/// use alibaba_rpc_runtime::server::{Authentication, ServerConfig};
///
/// static SERVICE: ServiceInfo = ServiceInfo {
///     product: "Ecs",
///     version: "2014-05-26",
///     endpoint_pattern: "https://ecs.{region}.aliyuncs.com",
/// };
/// let keys = HashMap::from([("testid".to_owned(), "testsecret".to_owned())]);
/// let config = ServerConfig::builder(&SERVICE)
///     .authentication(Authentication::signature(keys))
///     .body_limit(16 * 1024)
///     .build();
/// assert_eq!(config.version(), "2014-05-26");
/// assert_eq!(config.host_id(), "ecs.aliyuncs.com");
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    version: String,
    host_id: String,
    authentication: Authentication,
    body_limit: usize,
    request_timeout: Duration,
    timestamp_window: Duration,
    nonce_capacity: usize,
    replay_cache: Option<CustomReplayCache>,
}

impl ServerConfig {
    /// Starts a configuration for `service`: its version is the one accepted, and the default
    /// `HostId` is its endpoint's host without the region (`ecs.aliyuncs.com`).
    pub fn builder(service: &'static ServiceInfo) -> ServerConfigBuilder<NoAuthentication> {
        ServerConfigBuilder {
            version: service.version.to_owned(),
            host_id: default_host_id(service.endpoint_pattern),
            authentication: NoAuthentication,
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            timestamp_window: DEFAULT_TIMESTAMP_WINDOW,
            nonce_capacity: DEFAULT_NONCE_CAPACITY,
            replay_cache: None,
        }
    }

    /// The only `Version` accepted.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The `HostId` of every answer.
    pub fn host_id(&self) -> &str {
        &self.host_id
    }

    /// How requests are authenticated.
    pub fn authentication(&self) -> &Authentication {
        &self.authentication
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// How long a request may take before it is answered with the protocol's `request_timeout`.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The accepted clock skew either way; nonces are remembered this long past their timestamp.
    pub fn timestamp_window(&self) -> Duration {
        self.timestamp_window
    }

    /// The most live nonces the router's own [`MemoryReplayCache`](super::MemoryReplayCache)
    /// remembers; when full, requests are refused with `throttling`. Unused when a replay cache is
    /// installed ([`ServerConfigBuilder::replay_cache`]).
    pub fn nonce_capacity(&self) -> usize {
        self.nonce_capacity
    }

    /// Whether a [`ReplayCache`] was installed with [`ServerConfigBuilder::replay_cache`]
    /// (otherwise each router keeps its own in memory).
    pub fn has_custom_replay_cache(&self) -> bool {
        self.replay_cache.is_some()
    }

    /// The installed replay cache.
    pub(crate) fn custom_replay_cache(&self) -> Option<&CustomReplayCache> {
        self.replay_cache.as_ref()
    }
}

/// `https://ecs.{region}.aliyuncs.com/` → `ecs.aliyuncs.com`.
fn default_host_id(pattern: &str) -> String {
    let without_scheme = pattern.split_once("://").map_or(pattern, |(_, rest)| rest);
    let host = without_scheme.split(['/', '?']).next().unwrap_or(without_scheme);
    let host = host.replace(".{region}", "").replace("{region}.", "").replace("{region}", "");
    if host.is_empty() { "localhost".to_owned() } else { host }
}

/// The state of a [`ServerConfigBuilder`] whose authentication has not been chosen yet: it has no
/// `build()`.
#[derive(Debug, Clone, Copy)]
pub struct NoAuthentication;

/// Builds a [`ServerConfig`]. `build()` exists once
/// [`authentication`](ServerConfigBuilder::authentication) has been chosen.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct ServerConfigBuilder<A> {
    version: String,
    host_id: String,
    authentication: A,
    body_limit: usize,
    request_timeout: Duration,
    timestamp_window: Duration,
    nonce_capacity: usize,
    replay_cache: Option<CustomReplayCache>,
}

impl<A> ServerConfigBuilder<A> {
    /// Chooses the authentication: [`Authentication::signature`] or
    /// [`Authentication::disabled`].
    pub fn authentication(self, authentication: Authentication) -> ServerConfigBuilder<Authentication> {
        ServerConfigBuilder {
            version: self.version,
            host_id: self.host_id,
            authentication,
            body_limit: self.body_limit,
            request_timeout: self.request_timeout,
            timestamp_window: self.timestamp_window,
            nonce_capacity: self.nonce_capacity,
            replay_cache: self.replay_cache,
        }
    }

    /// Overrides the accepted `Version` (the service's by default).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the `HostId` answered.
    pub fn host_id(mut self, host_id: impl Into<String>) -> Self {
        self.host_id = host_id.into();
        self
    }

    /// Sets the largest body accepted, in bytes (default 64 KiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Sets the request timeout (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the accepted clock skew (default 15 minutes).
    pub fn timestamp_window(mut self, window: Duration) -> Self {
        self.timestamp_window = window;
        self
    }

    /// Sets the most live nonces the router's own in-memory replay cache remembers (default
    /// 1,000,000).
    pub fn nonce_capacity(mut self, capacity: usize) -> Self {
        self.nonce_capacity = capacity;
        self
    }

    /// Installs `cache` as the replay cache instead of each router's own
    /// [`MemoryReplayCache`](super::MemoryReplayCache): every router built from this
    /// configuration (or a clone of it) asks `cache`, so servers sharing one cache — replicas on
    /// one database — refuse a nonce used at any of them. See [`ReplayCache`] for the contract
    /// and an example; pass an `Arc` to keep a handle of your own.
    pub fn replay_cache(mut self, cache: impl ReplayCache) -> Self {
        self.replay_cache = Some(CustomReplayCache::new(cache));
        self
    }
}

impl ServerConfigBuilder<Authentication> {
    /// The configuration.
    pub fn build(self) -> ServerConfig {
        ServerConfig {
            version: self.version,
            host_id: self.host_id,
            authentication: self.authentication,
            body_limit: self.body_limit,
            request_timeout: self.request_timeout,
            timestamp_window: self.timestamp_window,
            nonce_capacity: self.nonce_capacity,
            replay_cache: self.replay_cache,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_host_id;

    #[test]
    fn host_ids() {
        assert_eq!(default_host_id("https://smartag.{region}.aliyuncs.com"), "smartag.aliyuncs.com");
        assert_eq!(default_host_id("https://smartag.{region}.aliyuncs.com/"), "smartag.aliyuncs.com");
        assert_eq!(default_host_id("http://{region}.example.com:8080/x"), "example.com:8080");
        assert_eq!(default_host_id("example.com"), "example.com");
        assert_eq!(default_host_id(""), "localhost");
    }
}
