//! Request authentication: signature version 1.0, timestamp window and nonce replay.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use time::OffsetDateTime;

use super::error::ErrorReply;
use super::nonce::{NonceCache, NonceOutcome};
use crate::errors::ProtocolErrors;
use crate::params::Params;
use crate::secret::Secret;
use crate::signature::{parse_timestamp, string_to_sign, verify};
use crate::validate::{Violation, Violations};

/// Where the server finds the secret of an `AccessKeyId`.
pub trait CredentialStore: Send + Sync + 'static {
    /// The secret of `access_key_id`, `None` if the key is unknown.
    fn secret(&self, access_key_id: &str) -> Option<Secret>;
}

impl CredentialStore for HashMap<String, String> {
    fn secret(&self, access_key_id: &str) -> Option<Secret> {
        self.get(access_key_id).map(|s| Secret::new(s.as_str()))
    }
}

impl CredentialStore for HashMap<String, Secret> {
    fn secret(&self, access_key_id: &str) -> Option<Secret> {
        self.get(access_key_id).cloned()
    }
}

impl<T: CredentialStore + ?Sized> CredentialStore for Arc<T> {
    fn secret(&self, access_key_id: &str) -> Option<Secret> {
        (**self).secret(access_key_id)
    }
}

/// Whether and how the server authenticates requests. There is no default: a
/// [`ServerConfig`](super::ServerConfig) needs an explicit choice.
#[derive(Clone)]
pub struct Authentication {
    store: Option<Arc<dyn CredentialStore>>,
}

impl Authentication {
    /// Signature version 1.0 (`HMAC-SHA1`) with secrets from `store`, timestamps within the
    /// configured window, and nonces never accepted twice.
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

/// The longest `SignatureNonce` accepted, in bytes (the SDKs send 32 or 36 characters); a bound
/// on what the nonce cache holds per entry.
pub(crate) const MAX_NONCE_LEN: usize = 128;

/// What [`authenticate`] needs besides the request.
pub(crate) struct Verifier<'a> {
    /// The secrets.
    pub store: &'a dyn CredentialStore,
    /// The protocol errors answered.
    pub errors: &'static ProtocolErrors,
    /// Accepted clock skew either way.
    pub window: time::Duration,
    /// Nonces seen.
    pub nonces: &'a NonceCache,
}

/// Authenticates a request made with HTTP `method`; returns the verified `AccessKeyId`.
///
/// Order: required parameters (all missing ones reported), `SignatureMethod` and
/// `SignatureVersion` when given, the key, the timestamp's format then window, the signature over
/// every parameter but `Signature`, and only then the nonce (so that a forged request cannot burn
/// a legitimate nonce).
pub(crate) fn authenticate(
    v: &Verifier<'_>,
    method: &str,
    params: &Params,
    now: OffsetDateTime,
) -> Result<String, ErrorReply> {
    let errors = v.errors;
    let mut problems = Violations::new();
    for name in ["AccessKeyId", "Signature", "SignatureNonce", "Timestamp"] {
        if params.get(name).is_none_or(str::is_empty) {
            problems.push(Violation::from_spec(&errors.missing_parameter, name));
        }
    }
    if params.get("SignatureNonce").is_some_and(|n| n.len() > MAX_NONCE_LEN) {
        problems.push(Violation::from_spec(&errors.invalid_parameter, "SignatureNonce"));
    }
    if params.get("SignatureMethod").is_some_and(|m| m != "HMAC-SHA1") {
        problems.push(Violation::from_spec(&errors.invalid_parameter, "SignatureMethod"));
    }
    if params.get("SignatureVersion").is_some_and(|m| m != "1.0") {
        problems.push(Violation::from_spec(&errors.invalid_parameter, "SignatureVersion"));
    }
    problems.into_result()?;

    let (Some(key_id), Some(signature), Some(nonce), Some(timestamp)) =
        (params.get("AccessKeyId"), params.get("Signature"), params.get("SignatureNonce"), params.get("Timestamp"))
    else {
        return Err(ErrorReply::Internal);
    };

    let Some(secret) = v.store.secret(key_id) else {
        tracing::info!(code = errors.invalid_access_key_id.code, "unknown access key");
        return Err(ErrorReply::from_spec(&errors.invalid_access_key_id, &[]));
    };

    let Some(sent_at) = parse_timestamp(timestamp) else {
        tracing::info!(code = errors.invalid_timestamp_format.code, "malformed timestamp");
        return Err(ErrorReply::from_spec(&errors.invalid_timestamp_format, &[("param", "Timestamp")]));
    };
    let skew = now - sent_at;
    if skew.abs() > v.window {
        tracing::info!(
            code = errors.invalid_timestamp_expired.code,
            skew_seconds = skew.whole_seconds(),
            "timestamp outside the window"
        );
        return Err(ErrorReply::from_spec(&errors.invalid_timestamp_expired, &[("param", "Timestamp")]));
    }

    let to_sign = string_to_sign(method, params.iter());
    if !verify(secret.expose(), &to_sign, signature) {
        tracing::info!(code = errors.signature_does_not_match.code, "signature mismatch");
        return Err(ErrorReply::from_spec(&errors.signature_does_not_match, &[("string_to_sign", &to_sign)]));
    }

    let expires = sent_at.max(now) + v.window;
    match v.nonces.check_and_insert(key_id, nonce, expires.unix_timestamp(), now.unix_timestamp()) {
        NonceOutcome::Fresh => Ok(key_id.to_owned()),
        NonceOutcome::Used => {
            tracing::info!(code = errors.signature_nonce_used.code, "nonce replayed");
            Err(ErrorReply::from_spec(&errors.signature_nonce_used, &[("param", "SignatureNonce")]))
        }
        NonceOutcome::Full => {
            tracing::warn!(code = errors.throttling.code, capacity = v.nonces.capacity(), "nonce cache full; refusing");
            Err(ErrorReply::from_spec(&errors.throttling, &[]))
        }
    }
}
