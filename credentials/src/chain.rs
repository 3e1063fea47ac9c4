//! The default credential chain, in the official SDKs' order.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use alibaba_rpc_runtime::client::{
    CredentialsError, CredentialsErrorKind, ProvideCredentials, ProvideCredentialsFuture,
};

use crate::cli_config::{self, CliConfigProvider};
use crate::ecs::EcsRoleProvider;
use crate::env::{self, Env};
use crate::environment::EnvironmentProvider;
use crate::profile_file::ProfileFileProvider;
use crate::settings::Settings;
use crate::sts::{OidcRoleProvider, StsEndpoint};

/// The default credential chain: the first source that is configured gives the credentials.
///
/// In the order of the official SDKs' default providers (credentials-go, -python, -java):
/// 1. **environment**: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
///    (+ `ALIBABA_CLOUD_SECURITY_TOKEN`);
/// 2. **OIDC role**: `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
///    `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (+ `ALIBABA_CLOUD_ROLE_SESSION_NAME`) → STS
///    `AssumeRoleWithOIDC`;
/// 3. **the aliyun CLI's configuration**, `~/.aliyun/config.json` (`ALIBABA_CLOUD_CONFIG_FILE`):
///    the selected profile, else its `current` one; modes `AK`, `StsToken`, `RamRoleArn`,
///    `EcsRamRole`, `OIDC`;
/// 4. **the credentials file**, `~/.alibabacloud/credentials` (`ALIBABA_CLOUD_CREDENTIALS_FILE`):
///    the selected profile, else `default`; types `access_key`, `sts`, `ram_role_arn`,
///    `ecs_ram_role`;
/// 5. **the ECS instance RAM role**, from the metadata service (`ALIBABA_CLOUD_ECS_METADATA` names
///    the role; `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` skips it).
///
/// The profile is [`DefaultChainBuilder::profile`], else `ALIBABA_CLOUD_PROFILE`; it applies to
/// both files. A source that is not set up at all (no variable, no file, no such profile, not on
/// ECS) passes to the next; a source that is set up but wrong (a malformed file, a half-set
/// variable pair, an unsupported type) or that fails (STS refuses) stops the chain with its error,
/// which names the file, profile or variable. When no source is set up, the error lists what was
/// tried. Once a source has answered, the chain keeps using it (as the official SDKs do);
/// temporary credentials are cached by their source and refreshed 3 minutes before they expire,
/// one refresh at a time.
///
/// ```no_run
/// use alibaba_credentials::DefaultChain;
/// use alibaba_rpc_runtime::client::{ClientConfig, RpcClient};
/// # use alibaba_rpc_runtime::operation::ServiceInfo;
/// # static SERVICE: ServiceInfo = ServiceInfo { product: "Ecs", version: "2014-05-26", endpoint_pattern: "https://ecs.{region}.aliyuncs.com" };
///
/// # fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let chain = DefaultChain::builder().profile(Some("dev")).build();
/// let region = chain.region().unwrap_or("cn-hangzhou").to_owned(); // the aliyun CLI profile's region_id
/// let client = RpcClient::new(ClientConfig::builder(&SERVICE).region(region).credentials_provider(chain).build()?)?;
/// # Ok(()) }
/// ```
pub struct DefaultChain {
    sources: Vec<(&'static str, Arc<dyn ProvideCredentials>)>,
    chosen: OnceLock<usize>,
    region: Option<String>,
    profile: Option<String>,
}

/// Builder of [`DefaultChain`]: the profile, the environment (for tests), and endpoint overrides.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct DefaultChainBuilder {
    settings: Settings,
}

impl DefaultChainBuilder {
    /// The profile of the aliyun CLI configuration and of the credentials file (`None`:
    /// `ALIBABA_CLOUD_PROFILE`, else each file's default: `current`, `default`).
    pub fn profile<S: Into<String>>(mut self, profile: Option<S>) -> Self {
        self.settings.profile = profile.map(Into::into);
        self
    }

    /// Where variables are read (default: the process environment).
    pub fn env(mut self, env: Env) -> Self {
        self.settings.env = env;
        self
    }

    /// STS at this URL instead of the one the environment selects (`https://sts.aliyuncs.com`).
    pub fn sts_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.sts = Some(StsEndpoint::new(url));
        self
    }

    /// The ECS metadata service at this base URL instead of `ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`
    /// or `http://100.100.100.200`.
    pub fn ecs_metadata_endpoint(mut self, url: impl Into<String>) -> Self {
        self.settings.ecs_endpoint = Some(url.into());
        self
    }

    /// The credentials file, instead of `ALIBABA_CLOUD_CREDENTIALS_FILE` or `~/.alibabacloud/credentials`.
    pub fn credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.credentials_file = Some(path.into());
        self
    }

    /// The aliyun CLI configuration, instead of `ALIBABA_CLOUD_CONFIG_FILE` or `~/.aliyun/config.json`.
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.config_file = Some(path.into());
        self
    }

    /// The chain. Nothing is fetched yet; files are read at the first call (the aliyun CLI
    /// configuration also now, for [`DefaultChain::region`]).
    pub fn build(self) -> DefaultChain {
        let s = self.settings;
        let oidc: Arc<dyn ProvideCredentials> = match OidcRoleProvider::from_env(&s.env, s.sts()) {
            Ok(Some(provider)) => Arc::new(provider),
            Ok(None) => Arc::new(Unset::new(
                CredentialsErrorKind::NotConfigured,
                "OIDC role",
                format!("{}, {} and {} are not set", env::ROLE_ARN, env::OIDC_PROVIDER_ARN, env::OIDC_TOKEN_FILE),
            )),
            Err(e) => Arc::new(Unset::new(e.kind(), e.source_name(), e.message())),
        };
        let ecs: Arc<dyn ProvideCredentials> = if s.env.is_true(env::ECS_METADATA_DISABLED) {
            Arc::new(Unset::new(
                CredentialsErrorKind::NotConfigured,
                "ECS instance RAM role",
                format!("disabled by {}", env::ECS_METADATA_DISABLED),
            ))
        } else {
            Arc::new(EcsRoleProvider::from_env(&s.env, None, s.ecs_endpoint.clone()))
        };
        let region = cli_config::region(&s);
        let profile = s.profile();
        DefaultChain {
            sources: vec![
                ("environment", Arc::new(EnvironmentProvider::new(s.env.clone()))),
                ("OIDC role", oidc),
                ("aliyun CLI config", Arc::new(CliConfigProvider::new(s.clone()))),
                ("credentials file", Arc::new(ProfileFileProvider::new(s.clone()))),
                ("ECS instance RAM role", ecs),
            ],
            chosen: OnceLock::new(),
            region,
            profile,
        }
    }
}

impl DefaultChain {
    /// The chain over the process environment and the default files, with the profile of
    /// `ALIBABA_CLOUD_PROFILE` (if set).
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// See [`DefaultChainBuilder`].
    pub fn builder() -> DefaultChainBuilder {
        DefaultChainBuilder::default()
    }

    /// The `region_id` of the selected profile of the aliyun CLI configuration, if it has one.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The profile selected (explicitly or by `ALIBABA_CLOUD_PROFILE`), if any.
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// The name of the source that answered, once one has.
    pub fn source(&self) -> Option<&'static str> {
        self.chosen.get().map(|i| self.sources[*i].0)
    }

    async fn provide(&self) -> Result<alibaba_rpc_runtime::client::Credentials, CredentialsError> {
        if let Some(&i) = self.chosen.get() {
            return self.sources[i].1.provide_credentials().await;
        }
        let mut tried = Vec::with_capacity(self.sources.len());
        for (i, (name, source)) in self.sources.iter().enumerate() {
            match source.provide_credentials().await {
                Ok(credentials) => {
                    let _ = self.chosen.set(i);
                    tracing::debug!(source = name, "credentials found");
                    return Ok(credentials);
                }
                Err(e) if e.kind() == CredentialsErrorKind::NotConfigured => {
                    tracing::debug!(source = name, reason = %e, "credential source not configured");
                    tried.push(format!("{}. {e}", i + 1));
                }
                Err(e) => return Err(e),
            }
        }
        Err(CredentialsError::not_configured(
            "the default credential chain",
            format!(
                "no credentials found; tried, in order: {}. Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure a profile (`aliyun configure`, or ~/.alibabacloud/credentials)",
                tried.join("; ")
            ),
        ))
    }
}

impl Default for DefaultChain {
    fn default() -> Self {
        Self::new()
    }
}

impl ProvideCredentials for DefaultChain {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(self.provide())
    }
}

impl fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultChain")
            .field("sources", &self.sources.iter().map(|(name, _)| *name).collect::<Vec<_>>())
            .field("chosen", &self.source())
            .field("profile", &self.profile)
            .field("region", &self.region)
            .finish()
    }
}

/// A source that is not set up (or set up wrong), known when the chain was built.
#[derive(Debug)]
struct Unset {
    kind: CredentialsErrorKind,
    source: String,
    message: String,
}

impl Unset {
    fn new(kind: CredentialsErrorKind, source: impl Into<String>, message: impl Into<String>) -> Self {
        Unset { kind, source: source.into(), message: message.into() }
    }
}

impl ProvideCredentials for Unset {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        let e = CredentialsError::new(self.kind, self.source.clone(), self.message.clone());
        Box::pin(async move { Err(e) })
    }
}
