//! Where the credentials come from: [`resolve`], the one function every call goes through.

use alibaba_rpc_runtime::client::{Credentials, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET};

use crate::exit::Failure;
use crate::settings::Settings;

/// The credentials of one invocation, in order:
///
/// 1. `--access-key-id` and `--access-key-secret` (with `--sts-token` for temporary ones) — both
///    or neither;
/// 2. the environment, through the runtime's
///    [`Credentials::from_env`](alibaba_rpc_runtime::client::Credentials::from_env)
///    (`ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`,
///    `ALIBABA_CLOUD_SECURITY_TOKEN`).
///
/// `--profile` is refused for now: profiles are read by the credential chain
/// (`alibaba-credentials`), which is not part of this build yet.
///
/// # Errors
/// [`Failure::Config`] saying which credential is missing and how to give it.
pub fn resolve(settings: &Settings) -> Result<Credentials, Failure> {
    match (&settings.access_key_id, &settings.access_key_secret) {
        (Some(id), Some(secret)) => {
            let credentials = Credentials::new(id.clone(), secret.expose());
            return Ok(match &settings.sts_token {
                Some(token) => credentials.with_security_token(token.expose()),
                None => credentials,
            });
        }
        (Some(_), None) => {
            return Err(Failure::Config("--access-key-id was given without --access-key-secret: give both".into()));
        }
        (None, Some(_)) => {
            return Err(Failure::Config("--access-key-secret was given without --access-key-id: give both".into()));
        }
        (None, None) => {}
    }
    // SEAM (credential chain): once `alibaba-credentials` is merged, replace everything below with
    // `alibaba_credentials::DefaultChain::builder().profile(settings.profile.clone()).build()`
    // (environment, the aliyun CLI's config file and its profile, ECS RAM role, …) and hand the
    // provider to the client configuration; the chain's profile also gives the region when
    // neither --region nor ALIBABA_CLOUD_REGION_ID does (`Settings::region`).
    if let Some(profile) = &settings.profile {
        return Err(Failure::Config(format!(
            "--profile {profile}: profiles are read by the credential chain (alibaba-credentials), which this build does not include yet; \
             pass --access-key-id/--access-key-secret or set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET}"
        )));
    }
    Credentials::from_env().map_err(|e| {
        Failure::Config(format!(
            "no credentials: {e}; or pass --access-key-id and --access-key-secret (the environment keeps them out of the shell history)"
        ))
    })
}
