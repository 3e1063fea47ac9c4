//! The credentials file: `~/.alibabacloud/credentials` (or `ALIBABA_CLOUD_CREDENTIALS_FILE`), INI,
//! one section per profile; the profile is the selected one (`ALIBABA_CLOUD_PROFILE`), else
//! `default`.
//!
//! ```ini
//! [default]
//! type = access_key
//! access_key_id = LTAI...
//! access_key_secret = ...
//!
//! [temporary]
//! type = sts
//! access_key_id = STS....
//! access_key_secret = ...
//! security_token = ...
//!
//! [ops]
//! type = ram_role_arn            # AssumeRole, signed with this profile's AccessKey
//! access_key_id = LTAI...
//! access_key_secret = ...
//! role_arn = acs:ram::123456789012:role/ops
//! role_session_name = me         # optional
//! policy = {...}                 # optional
//!
//! [instance]
//! type = ecs_ram_role
//! role_name = my-ecs-role        # optional: asked from the metadata service when absent
//! ```

use std::path::Path;
use std::sync::Arc;

use alibaba_rpc_runtime::client::{Credentials, CredentialsError, ProvideCredentials, ProvideCredentialsFuture};
use tokio::sync::OnceCell;

use crate::ecs::EcsRoleProvider;
use crate::env;
use crate::ini::{self, Section};
use crate::settings::{Settings, no_such_profile};
use crate::sts::{RamRoleArnProvider, session_name};

/// Where the file is, below the home directory.
pub(crate) const DEFAULT_PATH: &str = ".alibabacloud/credentials";
/// The profile used when none is selected.
pub(crate) const DEFAULT_PROFILE: &str = "default";
/// The `type`s understood.
const TYPES: &str = "`access_key`, `sts`, `ram_role_arn`, `ecs_ram_role`";

/// The credentials file's selected profile: read at the first call, then the credentials it
/// describes (static, or a provider of temporary ones, cached).
#[derive(Debug)]
pub(crate) struct ProfileFileProvider {
    settings: Settings,
    resolved: OnceCell<Arc<dyn ProvideCredentials>>,
}

impl ProfileFileProvider {
    pub(crate) fn new(settings: Settings) -> Self {
        ProfileFileProvider { settings, resolved: OnceCell::new() }
    }

    async fn resolve(&self) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
        let Some((path, named)) =
            self.settings.file(&self.settings.credentials_file, env::CREDENTIALS_FILE, DEFAULT_PATH)
        else {
            return Err(CredentialsError::not_configured(
                "credentials file",
                "no home directory (HOME) to find ~/.alibabacloud/credentials in",
            ));
        };
        let profile = self.settings.profile().unwrap_or_else(|| DEFAULT_PROFILE.to_owned());
        let file = path.display().to_string();
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => {
                return Err(CredentialsError::not_configured(format!("credentials file {file}"), "it does not exist"));
            }
            Err(e) => {
                return Err(CredentialsError::invalid(
                    format!("credentials file {file}"),
                    format!("cannot read it: {e}"),
                ));
            }
        };
        let sections =
            ini::parse(&text).map_err(|e| CredentialsError::invalid(format!("credentials file {file}"), e.message))?;
        let Some(section) = sections.iter().find(|s| s.name == profile) else {
            let names = sections.iter().map(|s| s.name.as_str());
            return Err(no_such_profile(format!("credentials file {file}"), &profile, names));
        };
        from_section(&self.settings, &path, section)
    }
}

/// The credentials a profile describes.
fn from_section(
    settings: &Settings,
    path: &Path,
    s: &Section,
) -> Result<Arc<dyn ProvideCredentials>, CredentialsError> {
    let source = format!("credentials file {}, profile `{}` (line {})", path.display(), s.name, s.line);
    // The INI crate keeps no line per key: errors name the profile (with its header's line) and
    // the key.
    let required = |key: &str| -> Result<String, CredentialsError> {
        match s.get(key) {
            Some(value) if !value.is_empty() => Ok(value.to_owned()),
            Some(_) => Err(CredentialsError::invalid(source.clone(), format!("`{key}` is empty"))),
            None => Err(CredentialsError::invalid(source.clone(), format!("`{key}` is missing"))),
        }
    };
    let optional = |key: &str| s.get(key).map(str::to_owned).filter(|v| !v.is_empty());
    let Some(kind) = s.get("type") else {
        return Err(CredentialsError::invalid(source, format!("`type` is missing: one of {TYPES}")));
    };
    let provider: Arc<dyn ProvideCredentials> = match kind {
        "access_key" => Arc::new(Credentials::new(required("access_key_id")?, required("access_key_secret")?)),
        "sts" => Arc::new(
            Credentials::new(required("access_key_id")?, required("access_key_secret")?)
                .with_security_token(required("security_token")?),
        ),
        "ram_role_arn" => {
            let source_key = Credentials::new(required("access_key_id")?, required("access_key_secret")?);
            let session = optional("role_session_name").unwrap_or_else(|| session_name(&settings.env));
            Arc::new(
                RamRoleArnProvider::new(source_key, required("role_arn")?, session, settings.sts())
                    .policy(optional("policy"))
                    .external_id(optional("external_id")),
            )
        }
        "ecs_ram_role" => {
            Arc::new(EcsRoleProvider::from_env(&settings.env, optional("role_name"), settings.ecs_endpoint.clone()))
        }
        other => {
            return Err(CredentialsError::invalid(source, format!("unsupported type `{other}`: use one of {TYPES}")));
        }
    };
    Ok(provider)
}

impl ProvideCredentials for ProfileFileProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        Box::pin(async move {
            let inner = self.resolved.get_or_try_init(|| self.resolve()).await?;
            inner.provide_credentials().await
        })
    }
}
