//! What every source of the chain reads besides its own file: the environment, the selected
//! profile, and the endpoints of STS and the metadata service.

use std::path::PathBuf;

use alibaba_rpc_runtime::client::CredentialsError;

use crate::env::{self, Env};
use crate::sts::StsEndpoint;

/// The chain's settings, shared by its sources.
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) env: Env,
    /// A profile chosen explicitly (wins over `ALIBABA_CLOUD_PROFILE`).
    pub(crate) profile: Option<String>,
    pub(crate) sts: Option<StsEndpoint>,
    pub(crate) ecs_endpoint: Option<String>,
    pub(crate) credentials_file: Option<PathBuf>,
    pub(crate) config_file: Option<PathBuf>,
}

impl Settings {
    /// STS: the explicit endpoint, or the environment's.
    pub(crate) fn sts(&self) -> StsEndpoint {
        self.sts.clone().unwrap_or_else(|| StsEndpoint::from_env(&self.env))
    }

    /// The profile asked for: explicit, else `ALIBABA_CLOUD_PROFILE`; `None`: the source's default.
    pub(crate) fn profile(&self) -> Option<String> {
        self.profile.clone().or_else(|| self.env.get(env::PROFILE))
    }

    /// A file: explicit, else the variable `var`, else `~/<home_relative>`. The flag says whether
    /// the user named it (a missing named file is an error; a missing default one is "not
    /// configured"). `None`: no home directory to look in.
    pub(crate) fn file(&self, explicit: &Option<PathBuf>, var: &str, home_relative: &str) -> Option<(PathBuf, bool)> {
        if let Some(path) = explicit {
            return Some((path.clone(), true));
        }
        if let Some(path) = self.env.get(var) {
            return Some((PathBuf::from(path), true));
        }
        self.env.home_dir().map(|home| (home.join(home_relative), false))
    }
}

/// The error of a file (`source`, e.g. "credentials file PATH") without the profile `wanted`:
/// not configured, naming the profiles it has.
pub(crate) fn no_such_profile<'a>(
    source: String,
    wanted: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> CredentialsError {
    let names: Vec<String> = names.into_iter().map(|name| format!("`{name}`")).collect();
    let has = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
    CredentialsError::not_configured(source, format!("it has no profile `{wanted}` (it has {has})"))
}
