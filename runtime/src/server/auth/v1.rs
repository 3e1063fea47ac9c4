//! Signature version 1.0: `AccessKeyId`, `Signature`, `SignatureNonce`, `Timestamp` (and
//! `SecurityToken` for STS keys) are parameters; the signature covers every other parameter.

use time::OffsetDateTime;

use super::{MAX_NONCE_LEN, Verified, Verifier, refuse};
use crate::server::decode::Incoming;
use crate::server::error::ErrorReply;
use crate::signature::v1::common::{
    ACCESS_KEY_ID, SECURITY_TOKEN, SIGNATURE, SIGNATURE_METHOD, SIGNATURE_METHOD_HMAC_SHA1, SIGNATURE_NONCE,
    SIGNATURE_VERSION, SIGNATURE_VERSION_1_0, TIMESTAMP,
};
use crate::signature::v1::{string_to_sign, verify};
use crate::validate::{Violation, Violations};

/// Verifies a version 1.0 request but for its nonce, which the caller checks last.
///
/// Order: required parameters (all missing ones reported at once), `SignatureMethod` and
/// `SignatureVersion` when given, the key, the timestamp's format then window, the security
/// token, the signature over every parameter but `Signature`.
pub(super) fn check<'r>(
    v: &Verifier<'_>,
    request: &'r Incoming,
    now: OffsetDateTime,
) -> Result<Verified<'r>, ErrorReply> {
    let errors = v.errors;
    let params = &request.params;
    let mut problems = Violations::new();
    for name in [ACCESS_KEY_ID, SIGNATURE, SIGNATURE_NONCE, TIMESTAMP] {
        if params.get(name).is_none_or(str::is_empty) {
            problems.push(Violation::from_spec(&errors.missing_parameter, name));
        }
    }
    if params.get(SIGNATURE_NONCE).is_some_and(|n| n.len() > MAX_NONCE_LEN) {
        problems.push(Violation::from_spec(&errors.invalid_parameter, SIGNATURE_NONCE));
    }
    if params.get(SIGNATURE_METHOD).is_some_and(|m| m != SIGNATURE_METHOD_HMAC_SHA1) {
        problems.push(Violation::from_spec(&errors.invalid_parameter, SIGNATURE_METHOD));
    }
    if params.get(SIGNATURE_VERSION).is_some_and(|m| m != SIGNATURE_VERSION_1_0) {
        problems.push(Violation::from_spec(&errors.invalid_parameter, SIGNATURE_VERSION));
    }
    problems.into_result()?;

    let (Some(key_id), Some(signature), Some(nonce), Some(timestamp)) =
        (params.get(ACCESS_KEY_ID), params.get(SIGNATURE), params.get(SIGNATURE_NONCE), params.get(TIMESTAMP))
    else {
        return Err(ErrorReply::Internal);
    };

    let key = v.key(key_id)?;
    let sent_at = v.sent_at(timestamp, TIMESTAMP, now)?;
    v.check_token(&key, params.get(SECURITY_TOKEN), SECURITY_TOKEN)?;

    let to_sign = string_to_sign(request.method.as_str(), params.iter());
    if !verify(key.secret.expose(), &to_sign, signature) {
        return Err(refuse(&errors.signature_does_not_match, &[("string_to_sign", &to_sign)], "signature mismatch"));
    }

    Ok(Verified { key_id: key_id.to_owned(), nonce, field: SIGNATURE_NONCE, sent_at })
}
