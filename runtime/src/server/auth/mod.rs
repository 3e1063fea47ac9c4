//! Request authentication, both signature versions the official SDKs speak, and what they share:
//! the key lookup, the date window, the STS token and the one replay memory.
//!
//! [`Scheme::of`] decides the version from the request: an `Authorization: ACS3-…` header (or,
//! without any `Action` parameter, `x-acs-action` headers) means version 3, anything else
//! version 1.0. [`check`] then runs that version's checks ([`v1`], [`v3`]), each in an
//! order that lets a forged request neither learn which keys exist before its shape is right nor
//! burn a legitimate nonce: shape, key, date, token, payload, signature, and only then the nonce.

mod v1;
mod v3;

use std::pin::Pin;
use std::task::{Context, Poll};

use time::OffsetDateTime;

use super::credentials::{CredentialStore, KeyMaterial};
use super::decode::{Incoming, Sent};
use super::error::ErrorReply;
use super::nonce::{BoxedCheck, Checked, NonceOutcome, Replay, ReplayCacheError};
use crate::errors::{ErrorSpec, ProtocolErrors};
use crate::signature::parse_timestamp;
use crate::signature::v3::headers;

pub(crate) use crate::signature::SignatureVersion as Scheme;

/// The longest nonce accepted, in bytes (the SDKs send 32 or 36 characters); a bound on what the
/// nonce cache holds per entry.
pub(crate) const MAX_NONCE_LEN: usize = 128;

impl Scheme {
    /// The signature version `request` (whose headers are `sent`) claims.
    pub(crate) fn of(request: &Incoming, sent: &Sent<'_>) -> Scheme {
        let claims_v3 = sent.get(headers::AUTHORIZATION).is_some_and(|a| a.trim_start().starts_with("ACS3-"));
        let v3_shaped = !request.params.contains("Action") && sent.get(headers::ACTION).is_some();
        if claims_v3 || v3_shaped { Scheme::V3 } else { Scheme::V1 }
    }
}

/// What [`check`] and [`remember`] need besides the request.
#[derive(Clone, Copy)]
pub(crate) struct Verifier<'a> {
    /// The keys.
    pub store: &'a dyn CredentialStore,
    /// The protocol errors answered.
    pub errors: &'static ProtocolErrors,
    /// Accepted clock skew either way.
    pub window: time::Duration,
    /// The replay cache, for both versions.
    pub nonces: &'a Replay,
}

/// A request whose every check but the nonce has passed: what the replay cache is asked about.
pub(crate) struct Verified<'r> {
    /// The verified AccessKeyId.
    pub key_id: String,
    /// The request's nonce.
    pub nonce: &'r str,
    /// Where the nonce was sent (the parameter or header a refusal names).
    pub field: &'static str,
    /// The request's date.
    pub sent_at: OffsetDateTime,
}

/// Authenticates `request` (whose headers are `sent`) under `scheme`, but for its nonce: that
/// version's checks; [`remember`] asks the replay cache last.
pub(crate) fn check<'r>(
    v: &Verifier<'_>,
    scheme: Scheme,
    request: &'r Incoming,
    sent: &Sent<'r>,
    now: OffsetDateTime,
) -> Result<Verified<'r>, ErrorReply> {
    match scheme {
        Scheme::V1 => v1::check(v, request, now),
        Scheme::V3 => v3::check(v, request, sent, now),
    }
}

/// The last check of a request [`check`] verified: its nonce, asked of the replay cache. The
/// router's own memory answers within the call; an installed cache's answer is to be awaited
/// ([`Remembered::Pending`]).
pub(crate) fn remember<'a>(v: &Verifier<'a>, verified: Verified<'_>, now: OffsetDateTime) -> Remembered<'a> {
    let expires = (verified.sent_at.max(now) + v.window).unix_timestamp();
    match v.nonces.check_and_remember(&verified.key_id, verified.nonce, expires, now.unix_timestamp()) {
        Checked::Ready(checked) => Remembered::Done(v.nonce_answer(verified.field, checked).map(|()| verified.key_id)),
        Checked::Pending(check) => {
            Remembered::Pending(PendingNonce { check, verifier: *v, key_id: verified.key_id, field: verified.field })
        }
    }
}

/// What [`remember`] found: the verified AccessKeyId (or the refusal) at once, or the installed
/// cache's answer still to come.
pub(crate) enum Remembered<'a> {
    /// The answer.
    Done(Result<String, ErrorReply>),
    /// The installed cache has yet to answer.
    Pending(PendingNonce<'a>),
}

/// An installed replay cache's answer about a verified request's nonce, owning what it needs
/// (the request itself need not be kept while it is awaited).
pub(crate) struct PendingNonce<'a> {
    check: BoxedCheck,
    verifier: Verifier<'a>,
    key_id: String,
    field: &'static str,
}

/// Resolves to the verified AccessKeyId once the cache has answered that the nonce is fresh,
/// else to the refusal.
impl Future for PendingNonce<'_> {
    type Output = Result<String, ErrorReply>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let checked = std::task::ready!(self.check.as_mut().poll(cx));
        let answer = self.verifier.nonce_answer(self.field, checked);
        Poll::Ready(answer.map(|()| std::mem::take(&mut self.key_id)))
    }
}

/// A refusal with `spec`, logged at info level with `why` (never a secret).
pub(super) fn refuse(spec: &ErrorSpec, vars: &[(&str, &str)], why: &str) -> ErrorReply {
    tracing::info!(code = spec.code, why, "request not authenticated");
    ErrorReply::from_spec(spec, vars)
}

impl Verifier<'_> {
    /// The key `key_id`, or the protocol's unknown-key error.
    pub(super) fn key(&self, key_id: &str) -> Result<KeyMaterial, ErrorReply> {
        self.store.key(key_id).ok_or_else(|| refuse(&self.errors.invalid_access_key_id, &[], "unknown access key"))
    }

    /// The time `raw` (from `field`), which must be well formed and within the window of `now`.
    pub(super) fn sent_at(&self, raw: &str, field: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ErrorReply> {
        let errors = self.errors;
        let sent_at = parse_timestamp(raw)
            .ok_or_else(|| refuse(&errors.invalid_timestamp_format, &[("param", field)], "malformed date"))?;
        let skew = now - sent_at;
        if skew.abs() > self.window {
            tracing::info!(skew_seconds = skew.whole_seconds(), "date outside the window");
            return Err(refuse(&errors.invalid_timestamp_expired, &[("param", field)], "date outside the window"));
        }
        Ok(sent_at)
    }

    /// A temporary key requires its own token in `field`; a permanent key ignores any.
    pub(super) fn check_token(&self, key: &KeyMaterial, sent: Option<&str>, field: &str) -> Result<(), ErrorReply> {
        let Some(expected) = &key.security_token else {
            return Ok(());
        };
        match sent.filter(|t| !t.is_empty()) {
            None => Err(refuse(&self.errors.missing_security_token, &[("param", field)], "security token missing")),
            Some(token) if expected.matches(token) => Ok(()),
            Some(_) => Err(refuse(&self.errors.invalid_security_token, &[("param", field)], "security token mismatch")),
        }
    }

    /// What the replay cache `checked` about the nonce of `verified` (remembered until the window
    /// after its date has passed) means: a replay (from either signature version, at any server
    /// sharing the cache) is refused, as is any request while the cache is full; a cache failure
    /// is answered `request_timeout` (`ServiceUnavailable`, retryable).
    fn nonce_answer(&self, field: &str, checked: Result<NonceOutcome, ReplayCacheError>) -> Result<(), ErrorReply> {
        let param = [("param", field)];
        match checked {
            Ok(NonceOutcome::Fresh) => Ok(()),
            Ok(NonceOutcome::Used) => Err(refuse(&self.errors.signature_nonce_used, &param, "nonce replayed")),
            Ok(NonceOutcome::Full) => {
                tracing::warn!(capacity = self.nonces.capacity(), "replay cache full; refusing");
                Err(refuse(&self.errors.throttling, &[], "replay cache full"))
            }
            Err(e) => {
                // The cache's error says what failed (its contract: no secret in it); the nonce
                // and the signature are not logged.
                let cause = std::error::Error::source(&e).map(ToString::to_string);
                tracing::warn!(error = %e, cause = cause.as_deref(), "replay cache failed; answering ServiceUnavailable");
                Err(ErrorReply::from_spec(&self.errors.request_timeout, &[]))
            }
        }
    }
}
