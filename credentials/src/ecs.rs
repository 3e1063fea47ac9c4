//! The RAM role of the ECS instance, from the instance metadata service.
//!
//! With the IMDSv2 session token, as the official SDKs fetch it:
//! 1. `PUT <base>/latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds: 21600` → a token
//!    (when this fails, the SDKs go on without one — IMDSv1 — unless
//!    `ALIBABA_CLOUD_IMDSV1_DISABLED=true`);
//! 2. without a role name (`ALIBABA_CLOUD_ECS_METADATA` or the profile's), `GET
//!    <base>/latest/meta-data/ram/security-credentials/` → the instance's role;
//! 3. `GET <base>/latest/meta-data/ram/security-credentials/<role>` → `{"Code": "Success",
//!    "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration", …}`;
//!
//! each `GET` with `X-aliyun-ecs-metadata-token: <token>`. The base is `http://100.100.100.200`.

use std::sync::Arc;
use std::time::Duration;

use alibaba_rpc_runtime::client::{Credentials, CredentialsError, ProvideCredentials, ProvideCredentialsFuture};
use serde::Deserialize;

use crate::cache::{Expiring, Fetch, FetchFuture, Refreshing, parse_expiration};
use crate::env::{self, Env};

/// The metadata service's address on every ECS instance.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://100.100.100.200";
/// The header asking for a session token, with its lifetime in seconds.
pub const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
/// The header carrying the session token.
pub const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";
/// The session token's lifetime asked for: 6 hours, as the official SDKs ask.
const TOKEN_TTL_SECONDS: &str = "21600";
/// The metadata service answers at once or not at all (not on ECS): 1 s, as the official SDKs wait.
const TIMEOUT: Duration = Duration::from_secs(1);

/// The temporary credentials of the ECS instance's RAM role (see the module documentation);
/// cached and refreshed 3 minutes before they expire, one refresh at a time.
///
/// ```no_run
/// use alibaba_credentials::EcsRoleProvider;
/// use alibaba_rpc_runtime::client::ProvideCredentials;
///
/// # async fn demo() -> Result<(), alibaba_rpc_runtime::client::CredentialsError> {
/// let instance = EcsRoleProvider::new(None); // the role is asked from the metadata service
/// let creds = instance.provide_credentials().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct EcsRoleProvider(Refreshing<Metadata>);

#[derive(Debug)]
struct Metadata {
    base: String,
    role: Option<String>,
    imdsv1_disabled: bool,
}

impl EcsRoleProvider {
    /// The role `role` (or, with `None`, the one the metadata service names) at
    /// `http://100.100.100.200`.
    pub fn new(role: Option<String>) -> Self {
        Self::with_endpoint(role, DEFAULT_METADATA_ENDPOINT, false)
    }

    /// The role at another metadata base URL (a test server, a proxy); `imdsv1_disabled`: fail
    /// when no session token can be had instead of reading without one.
    pub fn with_endpoint(role: Option<String>, base: impl Into<String>, imdsv1_disabled: bool) -> Self {
        let base = base.into().trim_end_matches('/').to_owned();
        EcsRoleProvider(Refreshing::new(Metadata { base, role, imdsv1_disabled }))
    }

    /// From the environment: `ALIBABA_CLOUD_ECS_METADATA` (the role), `ALIBABA_CLOUD_IMDSV1_DISABLED`
    /// and `ALIBABA_CLOUD_ECS_METADATA_ENDPOINT` (the base URL), `role` and `base` winning when given.
    pub fn from_env(env: &Env, role: Option<String>, base: Option<String>) -> Self {
        let role = role.or_else(|| env.get(env::ECS_METADATA));
        let base =
            base.or_else(|| env.get(env::ECS_METADATA_ENDPOINT)).unwrap_or_else(|| DEFAULT_METADATA_ENDPOINT.into());
        Self::with_endpoint(role, base, env.is_true(env::IMDSV1_DISABLED))
    }
}

/// A plain-HTTP client (the metadata service is `http://` on a link-local address). reqwest is
/// built without a default TLS provider; it gets a rustls configuration with the *ring* provider
/// and no trust anchors, so it can never complete an `https://` handshake — which it never needs.
fn http_client() -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())
}

/// What the metadata service answers for a role.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    code: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    security_token: Option<String>,
    expiration: Option<String>,
}

impl Metadata {
    fn source(&self) -> String {
        match &self.role {
            Some(role) => format!("ECS instance RAM role `{role}` at {}", self.base),
            None => format!("ECS instance RAM role at {}", self.base),
        }
    }

    /// The failure of a request that got no answer: not on ECS (nothing listens) means the source
    /// is not configured.
    fn unreachable(&self, e: reqwest::Error) -> CredentialsError {
        let e = e.without_url();
        if e.is_connect() || e.is_timeout() {
            CredentialsError::not_configured(self.source(), "no metadata service answers (not an ECS instance?)")
                .with_cause(e)
        } else {
            CredentialsError::unavailable(self.source(), format!("the metadata service failed: {e}")).with_cause(e)
        }
    }

    async fn session_token(&self, http: &reqwest::Client) -> Result<Option<String>, CredentialsError> {
        let answer = http
            .put(format!("{}/latest/api/token", self.base))
            .header(TOKEN_TTL_HEADER, TOKEN_TTL_SECONDS)
            .send()
            .await;
        let failure = match answer {
            Ok(r) if r.status().is_success() => match r.text().await {
                Ok(token) if !token.trim().is_empty() => return Ok(Some(token.trim().to_owned())),
                Ok(_) => "an empty session token".to_owned(),
                Err(e) => format!("an unreadable session token: {}", e.without_url()),
            },
            Ok(r) => format!("HTTP {} for the session token", r.status().as_u16()),
            Err(e) if self.imdsv1_disabled => return Err(self.unreachable(e)),
            Err(e) => {
                // Not on ECS at all: say so now rather than after a second timeout.
                if e.is_connect() || e.is_timeout() {
                    return Err(self.unreachable(e));
                }
                format!("no session token: {}", e.without_url())
            }
        };
        if self.imdsv1_disabled {
            return Err(CredentialsError::unavailable(
                self.source(),
                format!("{failure}, and {} forbids reading without one", env::IMDSV1_DISABLED),
            ));
        }
        tracing::debug!(failure, "ECS metadata: going on without a session token (IMDSv1)");
        Ok(None)
    }

    async fn get(&self, http: &reqwest::Client, path: &str, token: Option<&str>) -> Result<String, CredentialsError> {
        let mut request = http.get(format!("{}/latest/meta-data/ram/security-credentials/{path}", self.base));
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(CredentialsError::not_configured(
                self.source(),
                "the instance has no RAM role attached (HTTP 404); attach one, or configure another source",
            ));
        }
        if !status.is_success() {
            return Err(CredentialsError::unavailable(
                self.source(),
                format!("the metadata service answered HTTP {}", status.as_u16()),
            ));
        }
        response.text().await.map_err(|e| self.unreachable(e))
    }
}

impl Fetch for Metadata {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let http = http_client().map_err(|e| {
                CredentialsError::unavailable(self.source(), format!("cannot create the HTTP client: {e}"))
            })?;
            let token = self.session_token(&http).await?;
            let role = match &self.role {
                Some(role) => role.clone(),
                None => {
                    let listed = self.get(&http, "", token.as_deref()).await?;
                    let role = listed.lines().next().map(str::trim).unwrap_or("").to_owned();
                    if role.is_empty() {
                        return Err(CredentialsError::not_configured(
                            self.source(),
                            "the instance has no RAM role attached",
                        ));
                    }
                    role
                }
            };
            let body = self.get(&http, &role, token.as_deref()).await?;
            let source = || format!("ECS instance RAM role `{role}` at {}", self.base);
            let answer: RoleCredentials = serde_json::from_str(&body).map_err(|e| {
                CredentialsError::unavailable(
                    source(),
                    format!("the metadata service answered something that is not its JSON: {e}"),
                )
            })?;
            if answer.code.as_deref() != Some("Success") {
                return Err(CredentialsError::unavailable(
                    source(),
                    format!(
                        "the metadata service answered Code {:?} instead of \"Success\"",
                        answer.code.unwrap_or_default()
                    ),
                ));
            }
            let (Some(id), Some(secret), Some(token), Some(expiration)) =
                (answer.access_key_id, answer.access_key_secret, answer.security_token, answer.expiration)
            else {
                return Err(CredentialsError::unavailable(
                    source(),
                    "the answer lacks AccessKeyId, AccessKeySecret, SecurityToken or Expiration",
                ));
            };
            let expires_at = parse_expiration(&expiration).ok_or_else(|| {
                CredentialsError::unavailable(source(), format!("Expiration {expiration:?} is not an RFC 3339 time"))
            })?;
            Ok(Expiring { credentials: Credentials::new(id, secret).with_security_token(token), expires_at })
        })
    }
}

impl ProvideCredentials for EcsRoleProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.0.get())
    }
}
