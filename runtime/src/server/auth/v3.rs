//! Signature version 3 (`ACS3-HMAC-SHA256`, or `ACS3-HMAC-SM3`): the key, date, nonce and payload
//! hash travel as headers and the signature in `Authorization`; the canonical request is rebuilt
//! from the `SignedHeaders` list the client sent, since clients differ in which headers they sign,
//! and hashed and signed with the algorithm the `Authorization` header names.

use time::OffsetDateTime;

use super::{MAX_NONCE_LEN, Verified, Verifier, refuse};
use crate::server::decode::{Incoming, Sent};
use crate::server::error::ErrorReply;
use crate::signature::v1::common;
use crate::signature::v3::{self, Authorization, headers};
use crate::validate::{Violation, Violations};

/// The headers a version 3 request must send, and sign, because the server decides by them.
const REQUIRED: [&str; 6] = [
    headers::HOST,
    headers::ACTION,
    headers::VERSION,
    headers::DATE,
    headers::SIGNATURE_NONCE,
    headers::CONTENT_SHA256,
];

/// Headers that must be signed when they are sent.
const SIGNED_WHEN_SENT: [&str; 2] = [headers::SECURITY_TOKEN, headers::ACCESS_KEY_ID];

/// Parameters of version 1.0 that make no sense next to a version 3 `Authorization`.
const V1_FIELDS: [&str; 2] = [common::SIGNATURE, common::SIGNATURE_METHOD];

/// Verifies a version 3 request but for its nonce, which the caller checks last.
///
/// Order: the `Authorization` header's shape, the required headers, what is signed, the key, the
/// date's format then window, the security token, the payload hash, the signature.
pub(super) fn check<'r>(
    v: &Verifier<'_>,
    request: &'r Incoming,
    sent: &Sent<'r>,
    now: OffsetDateTime,
) -> Result<Verified<'r>, ErrorReply> {
    let errors = v.errors;
    let incomplete = |reason: &str| refuse(&errors.incomplete_signature, &[("reason", reason)], reason);

    let authorization = match sent.count(headers::AUTHORIZATION) {
        0 => return Err(incomplete("The Authorization header is missing: sign the request with ACS3-HMAC-SHA256.")),
        // A value that is not text reads as empty, which does not parse.
        1 => Authorization::parse(sent.get(headers::AUTHORIZATION).unwrap_or(""))
            .map_err(|e| incomplete(&format!("Malformed Authorization header: {e}.")))?,
        _ => return Err(incomplete("The Authorization header is sent more than once.")),
    };
    let algorithm = authorization.algorithm;
    if let Some(field) = V1_FIELDS.iter().find(|f| request.params.contains(f)) {
        return Err(incomplete(&format!(
            "The request carries both an {algorithm} Authorization header and the signature version 1.0 \
             parameter {field}: sign with one scheme only."
        )));
    }

    let mut missing = Violations::new();
    for name in REQUIRED {
        if sent.get(name).is_none_or(|h| h.trim().is_empty()) {
            missing.push(Violation::from_spec(&errors.missing_parameter, name));
        }
    }
    missing.into_result()?;
    for name in REQUIRED.iter().chain(SIGNED_WHEN_SENT.iter().filter(|h| sent.get(h).is_some())) {
        if !authorization.signs(name) {
            return Err(incomplete(&format!(
                "The header {name} is not signed: SignedHeaders must include host and every x-acs-* header sent."
            )));
        }
        if sent.count(name) > 1 {
            return Err(incomplete(&format!("The signed header {name} is sent more than once.")));
        }
    }
    let header = |name: &str| sent.get(name).map(str::trim).unwrap_or_default();
    let (date, nonce, payload_hash) =
        (header(headers::DATE), header(headers::SIGNATURE_NONCE), header(headers::CONTENT_SHA256));
    if nonce.len() > MAX_NONCE_LEN {
        return Err(refuse(&errors.invalid_parameter, &[("param", headers::SIGNATURE_NONCE)], "nonce too long"));
    }

    let key_id = authorization.credential.as_str();
    if sent.get(headers::ACCESS_KEY_ID).is_some_and(|id| id.trim() != key_id) {
        return Err(incomplete("The x-acs-accesskey-id header names another key than the Authorization Credential."));
    }
    let key = v.key(key_id)?;
    let sent_at = v.sent_at(date, headers::DATE, now)?;
    v.check_token(&key, sent.get(headers::SECURITY_TOKEN).map(str::trim), headers::SECURITY_TOKEN)?;

    let signed: Vec<&str> = authorization.signed_headers.iter().map(String::as_str).collect();
    let all_headers = request.headers_with_host();
    let (block, signed_line) = v3::canonical_headers(all_headers.iter().copied(), &signed);
    let canonical = v3::canonical_request(request.method.as_str(), request.query(), &block, &signed_line, payload_hash);
    let to_sign = algorithm.string_to_sign(&canonical);
    tracing::debug!(canonical_request = %redacted(request, &block, &signed_line, payload_hash), "version 3 canonical request");

    let actual_hash = algorithm.hash_payload(&request.body);
    if !actual_hash.eq_ignore_ascii_case(payload_hash) {
        return Err(incomplete(&format!(
            "The body ({} bytes) does not hash to x-acs-content-sha256: send the lowercase hex {} of the exact \
             body bytes ({algorithm}). server string to sign is:{to_sign}",
            request.body.len(),
            algorithm.hash_name(),
        )));
    }
    if !algorithm.verify(key.secret.expose(), &to_sign, &authorization.signature) {
        return Err(refuse(&errors.signature_does_not_match, &[("string_to_sign", &to_sign)], "signature mismatch"));
    }

    Ok(Verified { key_id: key_id.to_owned(), nonce, field: headers::SIGNATURE_NONCE, sent_at })
}

/// The canonical request for the debug log: parameter values (passwords among them) and the
/// security token replaced by `REDACTED`.
fn redacted(request: &Incoming, block: &str, signed_line: &str, payload_hash: &str) -> String {
    let query: Vec<(&str, &str)> = request.query().map(|(name, _)| (name, "REDACTED")).collect();
    let block: String = block
        .lines()
        .map(|line| match line.split_once(':') {
            Some((name, _)) if name == headers::SECURITY_TOKEN => format!("{name}:REDACTED\n"),
            _ => format!("{line}\n"),
        })
        .collect();
    v3::canonical_request(request.method.as_str(), query, &block, signed_line, payload_hash)
}
