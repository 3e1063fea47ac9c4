//! Access key credentials used to sign requests, and [`ProvideCredentials`], the seam through which
//! a client obtains them for each attempt (a fixed value, or a provider that fetches, caches and
//! refreshes temporary credentials).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::secret::Secret;

use super::error::ConfigError;

/// Environment variable holding the AccessKey ID read by [`Credentials::from_env`].
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// Environment variable holding the AccessKey secret read by [`Credentials::from_env`].
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// Environment variable holding the optional STS security token read by [`Credentials::from_env`].
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// An AccessKey pair, optionally with an STS security token.
///
/// The secret and the token are held as [`Secret`]s: `Debug` prints `***` in their place, so a
/// `Credentials` (or a [`ClientConfig`](super::ClientConfig) holding one) can be logged safely.
///
/// Values are used exactly as given. A value with leading or trailing whitespace is rejected when
/// the client configuration is built ([`ClientConfigBuilder::build`](super::ClientConfigBuilder::build))
/// rather than trimmed silently, because a stray space makes every request fail with
/// `SignatureDoesNotMatch`.
///
/// ```
/// use alibaba_rpc_runtime::client::Credentials;
///
/// let creds = Credentials::new("LTAI-example-id", "example-secret")
///     .with_security_token("sts-token");
/// let shown = format!("{creds:?}");
/// assert!(shown.contains("LTAI-example-id"));
/// assert!(!shown.contains("example-secret"));
/// assert!(!shown.contains("sts-token"));
/// ```
#[derive(Clone)]
pub struct Credentials {
    /// The AccessKey ID, sent as `Credential=` of the `authorization` header (signature version 3)
    /// or as the `AccessKeyId` parameter (version 1.0).
    pub access_key_id: String,
    /// The AccessKey secret; it keys the HMAC and is never sent or logged.
    pub access_key_secret: Secret,
    /// The STS security token, sent when present as the `x-acs-security-token` header (signature
    /// version 3) or the `SecurityToken` parameter (version 1.0).
    pub security_token: Option<Secret>,
}

impl Credentials {
    /// Credentials from an AccessKey ID and secret, without a security token.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            access_key_secret: Secret::new(access_key_secret.into()),
            security_token: None,
        }
    }

    /// Adds an STS security token, sent with every request: as the signed `x-acs-security-token`
    /// header (next to `x-acs-accesskey-id`) under signature version 3, as the `SecurityToken`
    /// parameter under version 1.0.
    #[must_use]
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(Secret::new(token.into()));
        self
    }

    /// Reads credentials from `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET`
    /// and, optionally, `ALIBABA_CLOUD_SECURITY_TOKEN` (an empty token variable counts as unset).
    ///
    /// # Errors
    /// [`ConfigError::MissingEnv`] when the ID or secret variable is unset or empty,
    /// [`ConfigError::EnvNotUnicode`] when a variable is not valid Unicode, and
    /// [`ConfigError::CredentialWhitespace`] when a value has leading or trailing whitespace.
    ///
    /// ```no_run
    /// use alibaba_rpc_runtime::client::Credentials;
    ///
    /// let creds = Credentials::from_env()?;
    /// # Ok::<(), alibaba_rpc_runtime::client::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(std::env::var)
    }

    /// `from_env` over any variable lookup, so it can be tested without touching the process
    /// environment.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&'static str) -> Result<String, std::env::VarError>,
    ) -> Result<Self, ConfigError> {
        let read = |var: &'static str| -> Result<Option<String>, ConfigError> {
            match lookup(var) {
                Ok(value) if value.is_empty() => Ok(None),
                Ok(value) => Ok(Some(value)),
                Err(std::env::VarError::NotPresent) => Ok(None),
                Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::EnvNotUnicode { var }),
            }
        };
        let id = read(ENV_ACCESS_KEY_ID)?.ok_or(ConfigError::MissingEnv { var: ENV_ACCESS_KEY_ID })?;
        let secret = read(ENV_ACCESS_KEY_SECRET)?.ok_or(ConfigError::MissingEnv { var: ENV_ACCESS_KEY_SECRET })?;
        let mut creds = Credentials::new(id, secret);
        if let Some(token) = read(ENV_SECURITY_TOKEN)? {
            creds = creds.with_security_token(token);
        }
        creds.check()?;
        Ok(creds)
    }

    /// Checks that the values can sign a request: non-empty ID and secret, no leading or trailing
    /// whitespace anywhere.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        check_value("access key id", &self.access_key_id)?;
        check_value("access key secret", self.access_key_secret.expose())?;
        if let Some(token) = &self.security_token {
            check_value("security token", token.expose())?;
        }
        Ok(())
    }
}

fn check_value(field: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::EmptyCredential { field });
    }
    if value.trim() != value {
        return Err(ConfigError::CredentialWhitespace { field });
    }
    Ok(())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"***")
            .field("security_token", &self.security_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The future [`ProvideCredentials::provide_credentials`] returns.
pub type ProvideCredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, CredentialsError>> + Send + 'a>>;

/// Where a client gets the credentials it signs with: awaited once per attempt, just before
/// signing.
///
/// [`Credentials`] implements it (a ready value). Providers of temporary credentials (STS, the ECS
/// instance role, the default chain of the `alibaba-credentials` crate) cache what they fetched and
/// refresh it before it expires, so calling this on every attempt is cheap.
///
/// `Debug` must never show a secret or a token.
///
/// ```
/// use alibaba_rpc_runtime::client::{Credentials, CredentialsError, ProvideCredentials, ProvideCredentialsFuture};
///
/// /// Credentials read from a vault (here: a fixed value).
/// #[derive(Debug)]
/// struct Vault;
///
/// impl ProvideCredentials for Vault {
///     fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
///         Box::pin(async { Ok(Credentials::new("id-from-vault", "secret-from-vault")) })
///     }
/// }
///
/// # futures::executor::block_on(async {
/// let creds = Vault.provide_credentials().await?;
/// assert_eq!(creds.access_key_id, "id-from-vault");
/// # Ok::<(), CredentialsError>(())
/// # }).unwrap();
/// ```
pub trait ProvideCredentials: Send + Sync + fmt::Debug + 'static {
    /// Credentials valid now; implementations cache and refresh.
    ///
    /// # Errors
    /// A [`CredentialsError`] naming the source (file, profile, variable, endpoint) and what is
    /// wrong with it; never a secret.
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_>;

    /// The credentials this provider always answers, when they never change (default: `None`).
    /// The client then signs with them as they are, without awaiting (or copying) them for every
    /// attempt. Providers of temporary credentials keep the default.
    fn fixed_credentials(&self) -> Option<&Credentials> {
        None
    }
}

impl ProvideCredentials for Credentials {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        let ready = self.clone();
        Box::pin(async move { Ok(ready) })
    }

    fn fixed_credentials(&self) -> Option<&Credentials> {
        Some(self)
    }
}

impl<P: ProvideCredentials + ?Sized> ProvideCredentials for std::sync::Arc<P> {
    fn provide_credentials(&self) -> ProvideCredentialsFuture<'_> {
        (**self).provide_credentials()
    }

    fn fixed_credentials(&self) -> Option<&Credentials> {
        (**self).fixed_credentials()
    }
}

/// What kind of failure a [`CredentialsError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialsErrorKind {
    /// The source is not set up at all (no variable, no file, no metadata service): a chain of
    /// providers moves on to the next source.
    NotConfigured,
    /// The source is set up but wrong (a malformed file, a missing key, an unknown profile): fix it.
    Invalid,
    /// The source is set up but could not deliver now (STS refused, the metadata service failed).
    Unavailable,
}

impl fmt::Display for CredentialsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialsErrorKind::NotConfigured => "not configured",
            CredentialsErrorKind::Invalid => "invalid",
            CredentialsErrorKind::Unavailable => "unavailable",
        })
    }
}

/// Credentials could not be obtained: which source, what kind of failure, and what is wrong.
///
/// The source names the file, profile, variable or endpoint; the message says what is wrong and how
/// to fix it. Neither ever holds a secret or a token (whoever creates the error is responsible for
/// that; every provider of this workspace is tested for it).
///
/// ```
/// use alibaba_rpc_runtime::client::{CredentialsError, CredentialsErrorKind};
///
/// let e = CredentialsError::invalid("credentials file /home/me/.alibabacloud/credentials, profile `dev`",
///                                   "line 3: `access_key_secret` is missing");
/// assert_eq!(e.kind(), CredentialsErrorKind::Invalid);
/// assert!(e.to_string().contains("profile `dev`"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct CredentialsError {
    kind: CredentialsErrorKind,
    source_name: String,
    message: String,
    #[source]
    cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl CredentialsError {
    /// An error of `kind` about `source_name` (a file, profile, variable or endpoint).
    pub fn new(kind: CredentialsErrorKind, source_name: impl Into<String>, message: impl Into<String>) -> Self {
        CredentialsError { kind, source_name: source_name.into(), message: message.into(), cause: None }
    }

    /// [`CredentialsErrorKind::NotConfigured`].
    pub fn not_configured(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(CredentialsErrorKind::NotConfigured, source_name, message)
    }

    /// [`CredentialsErrorKind::Invalid`].
    pub fn invalid(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(CredentialsErrorKind::Invalid, source_name, message)
    }

    /// [`CredentialsErrorKind::Unavailable`].
    pub fn unavailable(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(CredentialsErrorKind::Unavailable, source_name, message)
    }

    /// Keeps `cause` as the [`std::error::Error::source`] of this error. It must not show a
    /// secret either.
    #[must_use]
    pub fn with_cause(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> CredentialsErrorKind {
        self.kind
    }

    /// The source: a file, profile, variable or endpoint.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// What is wrong, and how to fix it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::env::VarError;

    fn lookup(vars: &[(&'static str, &'static str)]) -> impl Fn(&'static str) -> Result<String, VarError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        move |name| map.get(name).map(|v| v.to_string()).ok_or(VarError::NotPresent)
    }

    #[test]
    fn reads_id_secret_and_token() {
        let creds = Credentials::from_lookup(lookup(&[
            (ENV_ACCESS_KEY_ID, "id"),
            (ENV_ACCESS_KEY_SECRET, "secret"),
            (ENV_SECURITY_TOKEN, "token"),
        ]))
        .unwrap();
        assert_eq!(creds.access_key_id, "id");
        assert_eq!(creds.access_key_secret.expose(), "secret");
        assert_eq!(creds.security_token.as_ref().map(|t| t.expose()), Some("token"));
    }

    #[test]
    fn empty_token_is_absent() {
        let creds = Credentials::from_lookup(lookup(&[
            (ENV_ACCESS_KEY_ID, "id"),
            (ENV_ACCESS_KEY_SECRET, "secret"),
            (ENV_SECURITY_TOKEN, ""),
        ]))
        .unwrap();
        assert!(creds.security_token.is_none());
    }

    #[test]
    fn missing_secret_names_the_variable() {
        let err = Credentials::from_lookup(lookup(&[(ENV_ACCESS_KEY_ID, "id")])).unwrap_err();
        assert!(matches!(err, ConfigError::MissingEnv { var } if var == ENV_ACCESS_KEY_SECRET));
        assert!(err.to_string().contains(ENV_ACCESS_KEY_SECRET));
    }

    #[test]
    fn missing_id_names_the_variable() {
        let err = Credentials::from_lookup(lookup(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::MissingEnv { var } if var == ENV_ACCESS_KEY_ID));
    }

    #[test]
    fn not_unicode_is_reported() {
        let err = Credentials::from_lookup(|name| {
            if name == ENV_ACCESS_KEY_ID {
                Err(VarError::NotUnicode(std::ffi::OsString::from("x")))
            } else {
                Ok("v".to_string())
            }
        })
        .unwrap_err();
        assert!(matches!(err, ConfigError::EnvNotUnicode { var } if var == ENV_ACCESS_KEY_ID));
    }

    #[test]
    fn stray_space_in_secret_is_explained() {
        let err = Credentials::from_lookup(lookup(&[(ENV_ACCESS_KEY_ID, "id"), (ENV_ACCESS_KEY_SECRET, "Zq9-value ")]))
            .unwrap_err();
        assert!(matches!(err, ConfigError::CredentialWhitespace { field: "access key secret" }));
        let text = err.to_string();
        assert!(text.contains("SignatureDoesNotMatch"), "{text}");
        assert!(!text.contains("Zq9-value"), "the value itself must not be shown: {text}");
    }

    #[test]
    fn a_static_value_provides_itself() {
        let creds = Credentials::new("the-id", "the-secret").with_security_token("the-token");
        let provided = futures::executor::block_on(creds.provide_credentials()).unwrap();
        assert_eq!(provided.access_key_id, "the-id");
        assert_eq!(provided.access_key_secret.expose(), "the-secret");
        assert_eq!(provided.security_token.as_ref().map(|t| t.expose()), Some("the-token"));
    }

    #[test]
    fn credentials_errors_name_their_source_and_keep_their_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = CredentialsError::not_configured("file /x/credentials", "it does not exist").with_cause(io);
        assert_eq!(e.kind(), CredentialsErrorKind::NotConfigured);
        assert_eq!(e.to_string(), "file /x/credentials: it does not exist");
        assert_eq!(e.source_name(), "file /x/credentials");
        assert_eq!(e.message(), "it does not exist");
        assert!(std::error::Error::source(&e).is_some_and(|c| c.to_string() == "no such file"));
    }

    #[test]
    fn debug_redacts_secret_and_token() {
        let creds = Credentials::new("the-id", "the-secret").with_security_token("the-token");
        let shown = format!("{creds:?} {creds:#?}");
        assert!(shown.contains("the-id"));
        assert!(!shown.contains("the-secret"));
        assert!(!shown.contains("the-token"));
    }
}
