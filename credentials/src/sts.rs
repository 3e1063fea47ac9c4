//! Temporary credentials from STS, called through the client generated from `spec/sts.yaml`:
//! [`RamRoleArnProvider`] (`AssumeRole`, signed with an AccessKey) and [`OidcRoleProvider`]
//! (`AssumeRoleWithOIDC`, anonymous, with a token file re-read on every refresh).

use std::fmt;
use std::path::PathBuf;

use alibaba_rpc_runtime::client::{
    Credentials, CredentialsError, ProvideCredentials, ProvideCredentialsFuture, RetryPolicy,
};
use alibaba_sts_client::{AssumeRoleRequest, AssumeRoleWithOidcRequest, Client, CredentialsShape};

use crate::cache::{Expiring, Fetch, FetchFuture, Refreshing, parse_expiration};
use crate::env::{self, Env};

/// The default validity asked for: one hour, as the official SDKs ask.
pub const DEFAULT_DURATION_SECONDS: i64 = 3600;

/// Where STS is called.
///
/// An explicit endpoint wins; otherwise `ALIBABA_CLOUD_STS_REGION` gives
/// `https://sts.<region>.aliyuncs.com` (`https://sts-vpc.<region>.aliyuncs.com` with
/// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`), and without either the global
/// `https://sts.aliyuncs.com`, as the official SDKs do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsEndpoint {
    url: String,
    region: String,
}

impl StsEndpoint {
    /// An explicit endpoint (`https://…`, or `http://…` for a local test server).
    pub fn new(url: impl Into<String>) -> Self {
        StsEndpoint { url: url.into(), region: "cn-hangzhou".into() }
    }

    /// The endpoint the environment selects (see the type's documentation).
    pub fn from_env(env: &Env) -> Self {
        match env.get(env::STS_REGION) {
            Some(region) => {
                let prefix = if env.is_true(env::VPC_ENDPOINT_ENABLED) { "sts-vpc" } else { "sts" };
                StsEndpoint { url: format!("https://{prefix}.{region}.aliyuncs.com"), region }
            }
            None => StsEndpoint { url: "https://sts.aliyuncs.com".into(), region: "cn-hangzhou".into() },
        }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn client(&self, credentials: Option<Credentials>, what: &str) -> Result<Client, CredentialsError> {
        let builder = Client::config_builder().region(&self.region).endpoint(&self.url).retry(RetryPolicy::default());
        let builder = match credentials {
            Some(c) => builder.credentials(c),
            None => builder.credentials_provider(Anonymous),
        };
        let config = builder.build().map_err(|e| {
            CredentialsError::invalid(
                format!("{what} at {}", self.url),
                format!("cannot configure the STS client: {e}"),
            )
        })?;
        Client::new(config).map_err(|e| {
            CredentialsError::unavailable(
                format!("{what} at {}", self.url),
                format!("cannot create the STS client: {e}"),
            )
        })
    }
}

/// The "credentials" of a client that only makes anonymous calls: asking for them is an error.
#[derive(Debug)]
struct Anonymous;

impl ProvideCredentials for Anonymous {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async {
            Err(CredentialsError::invalid(
                "the STS client of an OIDC role",
                "it has no credentials: it only calls anonymous operations",
            ))
        })
    }
}

/// A session name: `ALIBABA_CLOUD_ROLE_SESSION_NAME`, else `credentials-rust-<microseconds>`.
pub(crate) fn session_name(env: &Env) -> String {
    env.get(env::ROLE_SESSION_NAME).unwrap_or_else(|| {
        let micros = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
        format!("credentials-rust-{micros}")
    })
}

fn expiring(shape: CredentialsShape, what: &str) -> Result<Expiring, CredentialsError> {
    let expires_at = parse_expiration(&shape.expiration).ok_or_else(|| {
        CredentialsError::unavailable(
            what.to_owned(),
            format!("STS answered an Expiration that is not an RFC 3339 time: {:?}", shape.expiration),
        )
    })?;
    Ok(Expiring {
        credentials: Credentials::new(shape.access_key_id, shape.access_key_secret)
            .with_security_token(shape.security_token),
        expires_at,
    })
}

/// The temporary credentials of a RAM role, from STS `AssumeRole` signed with an AccessKey (the
/// `ram_role_arn` type of the credentials file, the `RamRoleArn` mode of the aliyun CLI); cached
/// and refreshed 3 minutes before they expire, one refresh at a time.
///
/// ```no_run
/// use alibaba_credentials::{RamRoleArnProvider, StsEndpoint};
/// use alibaba_rpc_runtime::client::{Credentials, ProvideCredentials};
///
/// # async fn demo() -> Result<(), alibaba_rpc_runtime::client::CredentialsError> {
/// let role = RamRoleArnProvider::new(
///     Credentials::new("my-access-key-id", "my-access-key-secret"),
///     "acs:ram::123456789012:role/ops",
///     "ops-session",
///     StsEndpoint::new("https://sts.aliyuncs.com"),
/// );
/// let temporary = role.provide_credentials().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RamRoleArnProvider(Refreshing<AssumeRole>);

#[derive(Debug)]
struct AssumeRole {
    source: Credentials,
    role_arn: String,
    session_name: String,
    policy: Option<String>,
    external_id: Option<String>,
    duration_seconds: i64,
    endpoint: StsEndpoint,
}

impl RamRoleArnProvider {
    /// Assumes `role_arn` as `session_name`, signing with `source`, at `endpoint`.
    pub fn new(
        source: Credentials,
        role_arn: impl Into<String>,
        session_name: impl Into<String>,
        endpoint: StsEndpoint,
    ) -> Self {
        RamRoleArnProvider(Refreshing::new(AssumeRole {
            source,
            role_arn: role_arn.into(),
            session_name: session_name.into(),
            policy: None,
            external_id: None,
            duration_seconds: DEFAULT_DURATION_SECONDS,
            endpoint,
        }))
    }

    /// A policy narrowing what the credentials may do.
    #[must_use]
    pub fn policy(self, policy: Option<String>) -> Self {
        self.map(|a| a.policy = policy)
    }

    /// The role's external ID.
    #[must_use]
    pub fn external_id(self, external_id: Option<String>) -> Self {
        self.map(|a| a.external_id = external_id)
    }

    /// How long the credentials are asked to be valid (default 3600 s; 900 to 43200).
    #[must_use]
    pub fn duration_seconds(self, seconds: i64) -> Self {
        self.map(|a| a.duration_seconds = seconds)
    }

    fn map(self, f: impl FnOnce(&mut AssumeRole)) -> Self {
        let mut inner = self.0.into_inner();
        f(&mut inner);
        RamRoleArnProvider(Refreshing::new(inner))
    }

    /// The role assumed.
    pub fn role_arn(&self) -> &str {
        &self.0.inner().role_arn
    }
}

impl Fetch for AssumeRole {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let what = format!("STS AssumeRole of {} at {}", self.role_arn, self.endpoint.url());
            let client = self.endpoint.client(Some(self.source.clone()), "STS AssumeRole")?;
            let mut request = AssumeRoleRequest::builder()
                .role_arn(&self.role_arn)
                .role_session_name(&self.session_name)
                .duration_seconds(self.duration_seconds);
            if let Some(policy) = &self.policy {
                request = request.policy(policy);
            }
            if let Some(id) = &self.external_id {
                request = request.external_id(id);
            }
            let response = client
                .assume_role(&request.build())
                .await
                .map_err(|e| CredentialsError::unavailable(what.clone(), e.to_string()).with_cause(e))?;
            expiring(response.credentials, &what)
        })
    }
}

impl ProvideCredentials for RamRoleArnProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.0.get())
    }
}

/// The temporary credentials of a RAM role for the holder of an OIDC token, from STS
/// `AssumeRoleWithOIDC` (an anonymous call: the token is the proof). The token file is read again
/// on every refresh (a projected Kubernetes service account token is rotated in place); trailing
/// whitespace (a final newline) is dropped. Cached and refreshed 3 minutes before expiry, one
/// refresh at a time.
///
/// What `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (and `ALIBABA_CLOUD_ROLE_SESSION_NAME`) configure in the
/// default chain (RRSA on ACK sets them).
#[derive(Debug)]
pub struct OidcRoleProvider(Refreshing<AssumeRoleWithOidc>);

#[derive(Debug)]
struct AssumeRoleWithOidc {
    role_arn: String,
    provider_arn: String,
    token_file: PathBuf,
    session_name: String,
    policy: Option<String>,
    duration_seconds: i64,
    endpoint: StsEndpoint,
}

impl OidcRoleProvider {
    /// Assumes `role_arn` with the token of `provider_arn` read from `token_file`, as
    /// `session_name`, at `endpoint`.
    pub fn new(
        role_arn: impl Into<String>,
        provider_arn: impl Into<String>,
        token_file: impl Into<PathBuf>,
        session_name: impl Into<String>,
        endpoint: StsEndpoint,
    ) -> Self {
        OidcRoleProvider(Refreshing::new(AssumeRoleWithOidc {
            role_arn: role_arn.into(),
            provider_arn: provider_arn.into(),
            token_file: token_file.into(),
            session_name: session_name.into(),
            policy: None,
            duration_seconds: DEFAULT_DURATION_SECONDS,
            endpoint,
        }))
    }

    /// From the environment (see the type's documentation): `Ok(None)` when none of the three
    /// variables is set.
    ///
    /// # Errors
    /// [`CredentialsError`] (invalid) naming the variable that is missing when only some are set.
    pub fn from_env(env: &Env, endpoint: StsEndpoint) -> Result<Option<Self>, CredentialsError> {
        let vars = [env::ROLE_ARN, env::OIDC_PROVIDER_ARN, env::OIDC_TOKEN_FILE];
        let values: Vec<Option<String>> = vars.iter().map(|v| env.get(v)).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let mut got = Vec::with_capacity(3);
        for (var, value) in vars.iter().zip(values) {
            got.push(value.ok_or_else(|| {
                CredentialsError::invalid(
                    format!("environment variable {var}"),
                    format!(
                        "it is not set, but {} is: the OIDC role needs {}, {} and {}",
                        vars.iter()
                            .filter(|v| *v != var && env.get(v).is_some())
                            .copied()
                            .collect::<Vec<_>>()
                            .join(" and "),
                        vars[0],
                        vars[1],
                        vars[2]
                    ),
                )
            })?);
        }
        let [role, provider, file]: [String; 3] = got
            .try_into()
            .map_err(|_| CredentialsError::invalid("the OIDC role", "internal: three variables expected"))?;
        Ok(Some(OidcRoleProvider::new(role, provider, file, session_name(env), endpoint)))
    }

    /// A policy narrowing what the credentials may do.
    #[must_use]
    pub fn policy(self, policy: Option<String>) -> Self {
        let mut inner = self.0.into_inner();
        inner.policy = policy;
        OidcRoleProvider(Refreshing::new(inner))
    }

    /// How long the credentials are asked to be valid (default 3600 s).
    #[must_use]
    pub fn duration_seconds(self, seconds: i64) -> Self {
        let mut inner = self.0.into_inner();
        inner.duration_seconds = seconds;
        OidcRoleProvider(Refreshing::new(inner))
    }

    /// The role assumed.
    pub fn role_arn(&self) -> &str {
        &self.0.inner().role_arn
    }
}

impl Fetch for AssumeRoleWithOidc {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let file = self.token_file.display();
            let token = tokio::fs::read_to_string(&self.token_file).await.map_err(|e| {
                CredentialsError::invalid(
                    format!("OIDC token file {file} ({})", env::OIDC_TOKEN_FILE),
                    format!("cannot read it: {e}"),
                )
            })?;
            let token = token.trim_end();
            if token.is_empty() {
                return Err(CredentialsError::invalid(
                    format!("OIDC token file {file} ({})", env::OIDC_TOKEN_FILE),
                    "it is empty: it should hold the OIDC token",
                ));
            }
            let what = format!("STS AssumeRoleWithOIDC of {} at {}", self.role_arn, self.endpoint.url());
            let client = self.endpoint.client(None, "STS AssumeRoleWithOIDC")?;
            let mut request = AssumeRoleWithOidcRequest::builder()
                .role_arn(&self.role_arn)
                .oidc_provider_arn(&self.provider_arn)
                .oidc_token(token)
                .role_session_name(&self.session_name)
                .duration_seconds(self.duration_seconds);
            if let Some(policy) = &self.policy {
                request = request.policy(policy);
            }
            let response = client
                .assume_role_with_oidc(&request.build())
                .await
                .map_err(|e| CredentialsError::unavailable(what.clone(), e.to_string()).with_cause(e))?;
            expiring(response.credentials, &what)
        })
    }
}

impl ProvideCredentials for OidcRoleProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.0.get())
    }
}

impl fmt::Display for StsEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}
