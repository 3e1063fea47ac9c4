//! The aliyun CLI's configuration: `~/.aliyun/config.json` (or `ALIBABA_CLOUD_CONFIG_FILE`), the
//! profile selected (`ALIBABA_CLOUD_PROFILE`), else its `current` one.
//!
//! ```json
//! {
//!   "current": "default",
//!   "profiles": [
//!     {"name": "default", "mode": "AK", "access_key_id": "LTAI...", "access_key_secret": "...", "region_id": "cn-shanghai"},
//!     {"name": "temp", "mode": "StsToken", "access_key_id": "STS...", "access_key_secret": "...", "sts_token": "..."},
//!     {"name": "ops", "mode": "RamRoleArn", "access_key_id": "LTAI...", "access_key_secret": "...",
//!      "ram_role_arn": "acs:ram::123456789012:role/ops", "ram_session_name": "me", "expired_seconds": 3600},
//!     {"name": "instance", "mode": "EcsRamRole", "ram_role_name": "my-ecs-role"},
//!     {"name": "k8s", "mode": "OIDC", "ram_role_arn": "...", "oidc_provider_arn": "...", "oidc_token_file": "/var/run/token"}
//!   ]
//! }
//! ```
//!
//! `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true` skips it.

use std::path::Path;
use std::sync::Arc;

use alibaba_rpc_runtime::client::{Credentials, CredentialsError, ProvideCredentials, ProvideCredentialsFuture};
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::ecs::EcsRoleProvider;
use crate::env;
use crate::settings::{Settings, no_such_profile};
use crate::sts::{DEFAULT_DURATION_SECONDS, OidcRoleProvider, RamRoleArnProvider, session_name};

/// Where the file is, below the home directory.
pub(crate) const DEFAULT_PATH: &str = ".aliyun/config.json";
/// The modes understood.
const MODES: &str = "`AK`, `StsToken`, `RamRoleArn`, `EcsRamRole`, `OIDC`";

/// The file, as far as credentials and the region go (everything else is ignored).
#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<Profile>,
}

/// One profile. Secrets are plain `String`s only between reading and building [`Credentials`];
/// the type is not `Debug`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Profile {
    name: String,
    mode: String,
    access_key_id: String,
    access_key_secret: String,
    sts_token: String,
    region_id: String,
    ram_role_arn: String,
    ram_session_name: String,
    expired_seconds: i64,
    ram_role_name: String,
    oidc_provider_arn: String,
    oidc_token_file: String,
    policy: String,
    external_id: String,
}

/// The selected profile's name and the profile, from `text`.
fn select<'a>(config: &'a Config, settings: &Settings) -> (String, Option<&'a Profile>) {
    let name = settings
        .profile()
        .unwrap_or_else(|| if config.current.is_empty() { "default".to_owned() } else { config.current.clone() });
    let profile = config.profiles.iter().find(|p| p.name == name);
    (name, profile)
}

fn parse(text: &str, file: &str) -> Result<Config, CredentialsError> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json's message names the line and column, never the value.
        CredentialsError::invalid(format!("aliyun CLI config {file}"), format!("not valid JSON: {e}"))
    })
}

/// The aliyun CLI configuration's selected profile: read at the first call, then the credentials
/// it describes (static, or a provider of temporary ones, cached).
#[derive(Debug)]
pub(crate) struct CliConfigProvider {
    settings: Settings,
    resolved: OnceCell<Arc<dyn ProvideCredentials>>,
}

impl CliConfigProvider {
    pub(crate) fn new(settings: Settings) -> Self {
        CliConfigProvider { settings, resolved: OnceCell::new() }
    }

    async fn resolve(&self) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        if self.settings.env.is_true(env::CLI_PROFILE_DISABLED) {
            return Err(CredentialsError::not_configured(
                "aliyun CLI config",
                format!("disabled by {}", env::CLI_PROFILE_DISABLED),
            ));
        }
        let Some((path, named)) = self.settings.file(&self.settings.config_file, env::CONFIG_FILE, DEFAULT_PATH) else {
            return Err(CredentialsError::not_configured(
                "aliyun CLI config",
                "no home directory (HOME) to find ~/.aliyun/config.json in",
            ));
        };
        let file = path.display().to_string();
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
                return Err(CredentialsError::not_configured(format!("aliyun CLI config {file}"), "it does not exist"));
            }
            Err(e) => {
                return Err(CredentialsError::invalid(
                    format!("aliyun CLI config {file}"),
                    format!("cannot read it: {e}"),
                ));
            }
        };
        let config = parse(&text, &file)?;
        let (name, profile) = select(&config, &self.settings);
        let Some(profile) = profile else {
            let names = config.profiles.iter().map(|p| p.name.as_str());
            return Err(no_such_profile(format!("aliyun CLI config {file}"), &name, names));
        };
        from_profile(&self.settings, &path, profile)
    }
}

fn from_profile(
    settings: &Settings,
    path: &Path,
    p: &Profile,
) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
    let source = format!("aliyun CLI config {}, profile `{}` (mode {:?})", path.display(), p.name, p.mode);
    let required = |key: &str, value: &str| -> Result<String, CredentialsError> {
        if value.is_empty() {
            Err(CredentialsError::invalid(source.clone(), format!("`{key}` is missing or empty")))
        } else {
            Ok(value.to_owned())
        }
    };
    let optional = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let provider: Arc<dyn ProvideCredentials> = match p.mode.as_str() {
        "AK" => Arc::new(Credentials::new(
            required("access_key_id", &p.access_key_id)?,
            required("access_key_secret", &p.access_key_secret)?,
        )),
        "StsToken" => Arc::new(
            Credentials::new(
                required("access_key_id", &p.access_key_id)?,
                required("access_key_secret", &p.access_key_secret)?,
            )
            .with_security_token(required("sts_token", &p.sts_token)?),
        ),
        "RamRoleArn" => {
            let key = Credentials::new(
                required("access_key_id", &p.access_key_id)?,
                required("access_key_secret", &p.access_key_secret)?,
            );
            let session = optional(&p.ram_session_name).unwrap_or_else(|| session_name(&settings.env));
            let duration = if p.expired_seconds > 0 { p.expired_seconds } else { DEFAULT_DURATION_SECONDS };
            Arc::new(
                RamRoleArnProvider::new(key, required("ram_role_arn", &p.ram_role_arn)?, session, settings.sts())
                    .policy(optional(&p.policy))
                    .external_id(optional(&p.external_id))
                    .duration_seconds(duration),
            )
        }
        "EcsRamRole" => Arc::new(EcsRoleProvider::from_env(
            &settings.env,
            optional(&p.ram_role_name),
            settings.ecs_endpoint.clone(),
        )),
        "OIDC" => {
            let session = optional(&p.ram_session_name).unwrap_or_else(|| session_name(&settings.env));
            Arc::new(
                OidcRoleProvider::new(
                    required("ram_role_arn", &p.ram_role_arn)?,
                    required("oidc_provider_arn", &p.oidc_provider_arn)?,
                    required("oidc_token_file", &p.oidc_token_file)?,
                    session,
                    settings.sts(),
                )
                .policy(optional(&p.policy)),
            )
        }
        other => {
            return Err(CredentialsError::invalid(source, format!("unsupported mode {other:?}: use one of {MODES}")));
        }
    };
    Ok(provider)
}

impl ProvideCredentials for CliConfigProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async move {
            let inner = self.resolved.get_or_try_init(|| self.resolve()).await?;
            inner.provide_credentials().await
        })
    }
}

/// The `region_id` of the selected profile of the aliyun CLI configuration, if there is one (read
/// now, synchronously; any problem means "no region").
pub(crate) fn region(settings: &Settings) -> Option<String> {
    if settings.env.is_true(env::CLI_PROFILE_DISABLED) {
        return None;
    }
    let (path, _) = settings.file(&settings.config_file, env::CONFIG_FILE, DEFAULT_PATH)?;
    let text = std::fs::read_to_string(&path).ok()?;
    let config = parse(&text, &path.display().to_string()).ok()?;
    let (_, profile) = select(&config, settings);
    profile.map(|p| p.region_id.clone()).filter(|r| !r.is_empty())
}
