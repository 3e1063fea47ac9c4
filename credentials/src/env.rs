//! The environment the providers read: the process environment, or any lookup a test or an
//! application injects (so tests never mutate the process environment).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// `ALIBABA_CLOUD_ACCESS_KEY_ID`: the AccessKey ID of the environment source.
pub const ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// `ALIBABA_CLOUD_ACCESS_KEY_SECRET`: the AccessKey secret of the environment source.
pub const ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// `ALIBABA_CLOUD_SECURITY_TOKEN`: the optional STS token of the environment source.
pub const SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";
/// `ALIBABA_CLOUD_ROLE_ARN`: the role the OIDC source assumes.
pub const ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
/// `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`: the OIDC provider of the OIDC source.
pub const OIDC_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
/// `ALIBABA_CLOUD_OIDC_TOKEN_FILE`: the file holding the OIDC token (re-read on each refresh).
pub const OIDC_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
/// `ALIBABA_CLOUD_ROLE_SESSION_NAME`: the session name of assumed roles (optional).
pub const ROLE_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";
/// `ALIBABA_CLOUD_CREDENTIALS_FILE`: the credentials file instead of `~/.alibabacloud/credentials`.
pub const CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// `ALIBABA_CLOUD_CONFIG_FILE`: the aliyun CLI configuration instead of `~/.aliyun/config.json`.
pub const CONFIG_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";
/// `ALIBABA_CLOUD_PROFILE`: the profile of the credentials file and the aliyun CLI configuration.
pub const PROFILE: &str = "ALIBABA_CLOUD_PROFILE";
/// `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true` skips the aliyun CLI configuration.
pub const CLI_PROFILE_DISABLED: &str = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED";
/// `ALIBABA_CLOUD_ECS_METADATA`: the RAM role of the ECS instance (found out when unset).
pub const ECS_METADATA: &str = "ALIBABA_CLOUD_ECS_METADATA";
/// `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true` skips the ECS instance role.
pub const ECS_METADATA_DISABLED: &str = "ALIBABA_CLOUD_ECS_METADATA_DISABLED";
/// `ALIBABA_CLOUD_IMDSV1_DISABLED=true`: never read the metadata without a session token.
pub const IMDSV1_DISABLED: &str = "ALIBABA_CLOUD_IMDSV1_DISABLED";
/// `ALIBABA_CLOUD_ECS_METADATA_ENDPOINT`: the metadata service's base URL instead of
/// `http://100.100.100.200` (this crate's own variable: for tests and proxies).
pub const ECS_METADATA_ENDPOINT: &str = "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT";
/// `ALIBABA_CLOUD_STS_REGION`: call STS at `sts.<region>.aliyuncs.com` instead of `sts.aliyuncs.com`.
pub const STS_REGION: &str = "ALIBABA_CLOUD_STS_REGION";
/// `ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true`: with a region, call STS at its VPC endpoint.
pub const VPC_ENDPOINT_ENABLED: &str = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED";

type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Where the providers read variables: [`Env::process`] (the default) or an injected lookup.
///
/// An empty value counts as unset. `Debug` never shows a value.
///
/// ```
/// use alibaba_credentials::Env;
///
/// let env = Env::from_vars([("ALIBABA_CLOUD_PROFILE", "dev"), ("HOME", "/home/me")]);
/// assert_eq!(env.get("ALIBABA_CLOUD_PROFILE").as_deref(), Some("dev"));
/// assert_eq!(env.get("ALIBABA_CLOUD_ROLE_ARN"), None);
/// ```
#[derive(Clone)]
pub struct Env(Arc<Lookup>);

impl Env {
    /// The process environment (a variable that is not Unicode counts as unset).
    pub fn process() -> Env {
        Env(Arc::new(|name| std::env::var(name).ok()))
    }

    /// Exactly these variables, nothing from the process.
    pub fn from_vars<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> Env {
        let map: HashMap<String, String> = vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        Env(Arc::new(move |name| map.get(name).cloned()))
    }

    /// Any lookup.
    pub fn from_fn(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Env {
        Env(Arc::new(lookup))
    }

    /// The variable's value, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    /// Whether the variable is `true` (any case), as the official SDKs read their switches.
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The home directory: `HOME`, else `USERPROFILE` (Windows).
    pub fn home_dir(&self) -> Option<PathBuf> {
        self.get("HOME").or_else(|| self.get("USERPROFILE")).map(PathBuf::from)
    }
}

impl Default for Env {
    fn default() -> Self {
        Env::process()
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Env(..)")
    }
}
