//! Where the server finds an AccessKey's secret (and, for a temporary STS key, its security
//! token), and whether it authenticates at all.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::secret::Secret;

/// What the server knows of one AccessKey.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    /// The AccessKeySecret.
    pub secret: Secret,
    /// For a temporary (STS) key, the security token every request must carry: `SecurityToken`
    /// under signature version 1.0, `x-acs-security-token` under version 3.
    pub security_token: Option<Secret>,
}

impl KeyMaterial {
    /// A permanent key with `secret`.
    pub fn permanent(secret: impl Into<Secret>) -> KeyMaterial {
        KeyMaterial { secret: secret.into(), security_token: None }
    }

    /// A temporary key with `secret` and the `security_token` it was issued with.
    pub fn temporary(secret: impl Into<Secret>, security_token: impl Into<Secret>) -> KeyMaterial {
        KeyMaterial { secret: secret.into(), security_token: Some(security_token.into()) }
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("secret", &self.secret)
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Where the server finds the keys.
pub trait CredentialStore: Send + Sync + 'static {
    /// The key `access_key_id`, `None` if it is unknown.
    fn key(&self, access_key_id: &str) -> Option<KeyMaterial>;
}

impl CredentialStore for HashMap<String, String> {
    fn key(&self, access_key_id: &str) -> Option<KeyMaterial> {
        self.get(access_key_id).map(|s| KeyMaterial::permanent(s.as_str()))
    }
}

impl CredentialStore for HashMap<String, Secret> {
    fn key(&self, access_key_id: &str) -> Option<KeyMaterial> {
        self.get(access_key_id).cloned().map(KeyMaterial::permanent)
    }
}

impl CredentialStore for HashMap<String, KeyMaterial> {
    fn key(&self, access_key_id: &str) -> Option<KeyMaterial> {
        self.get(access_key_id).cloned()
    }
}

impl<T: CredentialStore + ?Sized> CredentialStore for Arc<T> {
    fn key(&self, access_key_id: &str) -> Option<KeyMaterial> {
        (**self).key(access_key_id)
    }
}

/// Whether and how the server authenticates requests. There is no default: a
/// [`ServerConfig`](super::ServerConfig) needs an explicit choice.
#[derive(Clone)]
pub struct Authentication {
    store: Option<Arc<dyn CredentialStore>>,
}

impl Authentication {
    /// Signed requests only, with keys from `store`: signature version 3 (`ACS3-HMAC-SHA256`,
    /// chosen by an `Authorization` header) or version 1.0 (`HMAC-SHA1`, parameters), the date
    /// within the configured window, and nonces never accepted twice (one replay memory for both
    /// versions).
    pub fn signature(store: impl CredentialStore) -> Authentication {
        Authentication { store: Some(Arc::new(store)) }
    }

    /// No authentication at all: every request is accepted as is. For tests and local demos.
    pub fn disabled() -> Authentication {
        Authentication { store: None }
    }

    /// Whether requests are authenticated.
    pub fn is_enabled(&self) -> bool {
        self.store.is_some()
    }

    /// The credential store, when enabled.
    pub(crate) fn store(&self) -> Option<&dyn CredentialStore> {
        self.store.as_deref()
    }
}

impl fmt::Debug for Authentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.store {
            Some(_) => f.write_str("Authentication::Signature"),
            None => f.write_str("Authentication::Disabled"),
        }
    }
}
