//! Where the credentials come from: [`resolve`], the one function every call goes through.

use alibaba_credentials::DefaultChain;
use alibaba_rpc_runtime::client::Credentials;

use crate::exit::Failure;
use crate::settings::Settings;

/// The credentials of one invocation.
pub enum Source {
    /// Given on the command line.
    Flags(Credentials),
    /// The official SDKs' default chain (`alibaba-credentials`): the environment
    /// (`ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`,
    /// `ALIBABA_CLOUD_SECURITY_TOKEN`), an OIDC role, the aliyun CLI's `~/.aliyun/config.json`
    /// (its current profile, or `--profile`), the credentials file `~/.alibabacloud/credentials`,
    /// the ECS instance's RAM role. Nothing is read until the first request is signed; a chain
    /// that finds nothing says what it tried.
    Chain(DefaultChain),
}

/// The credentials of one invocation, in order: `--access-key-id` and `--access-key-secret` (with
/// `--sts-token` for temporary ones) — both or neither — else the default chain with `--profile`.
///
/// # Errors
/// [`Failure::Config`] when only one of the two flags is given.
pub fn resolve(settings: &Settings) -> Result<Source, Failure> {
    match (&settings.access_key_id, &settings.access_key_secret) {
        (Some(id), Some(secret)) => {
            let credentials = Credentials::new(id.clone(), secret.expose());
            Ok(Source::Flags(match &settings.sts_token {
                Some(token) => credentials.with_security_token(token.expose()),
                None => credentials,
            }))
        }
        (Some(_), None) => {
            Err(Failure::Config("--access-key-id was given without --access-key-secret: give both".into()))
        }
        (None, Some(_)) => {
            Err(Failure::Config("--access-key-secret was given without --access-key-id: give both".into()))
        }
        (None, None) => Ok(Source::Chain(DefaultChain::builder().profile(settings.profile.clone()).build())),
    }
}
