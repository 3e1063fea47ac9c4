//! The environment: `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and,
//! optionally, `ALIBABA_CLOUD_SECURITY_TOKEN`.

use alibaba_rpc_runtime::client::{Credentials, CredentialsError, ProvideCredentials, ProvideCredentialsFuture};

use crate::env::{self, Env};

/// Credentials from the environment variables, read on every call (they are cheap to read, and a
/// test or a wrapper may change them).
///
/// Neither variable set: not configured. One without the other, or a value with leading or
/// trailing whitespace: invalid, naming the variable.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentProvider {
    env: Env,
}

impl EnvironmentProvider {
    /// Reads `env`.
    pub fn new(env: Env) -> Self {
        EnvironmentProvider { env }
    }

    /// The credentials the variables hold now.
    ///
    /// # Errors
    /// See the type's documentation.
    pub fn read(&self) -> Result<Credentials, CredentialsError> {
        let (id, secret) = (self.env.get(env::ACCESS_KEY_ID), self.env.get(env::ACCESS_KEY_SECRET));
        let (id, secret) = match (id, secret) {
            (None, None) => {
                return Err(CredentialsError::not_configured(
                    "environment",
                    format!("{} and {} are not set", env::ACCESS_KEY_ID, env::ACCESS_KEY_SECRET),
                ));
            }
            (Some(id), Some(secret)) => (id, secret),
            (Some(_), None) => return Err(missing(env::ACCESS_KEY_SECRET, env::ACCESS_KEY_ID)),
            (None, Some(_)) => return Err(missing(env::ACCESS_KEY_ID, env::ACCESS_KEY_SECRET)),
        };
        let token = self.env.get(env::SECURITY_TOKEN);
        for (var, value) in [
            (env::ACCESS_KEY_ID, Some(&id)),
            (env::ACCESS_KEY_SECRET, Some(&secret)),
            (env::SECURITY_TOKEN, token.as_ref()),
        ] {
            if value.is_some_and(|v| v.trim() != v) {
                return Err(CredentialsError::invalid(
                    format!("environment variable {var}"),
                    "it has leading or trailing whitespace: every request would fail with SignatureDoesNotMatch; remove it",
                ));
            }
        }
        let credentials = Credentials::new(id, secret);
        Ok(match token {
            Some(token) => credentials.with_security_token(token),
            None => credentials,
        })
    }
}

fn missing(var: &str, other: &str) -> CredentialsError {
    CredentialsError::invalid(format!("environment variable {var}"), format!("it is not set, but {other} is: set both"))
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        let read = self.read();
        Box::pin(async move { read })
    }
}
