//! Request signing of Alibaba Cloud's RPC protocol, both versions the official SDKs speak, and
//! what they share: the canonical query, timestamps and nonces.
//!
//! - [`v1`]: signature version 1.0 (`HMAC-SHA1`), every protocol field a parameter — the legacy
//!   core SDKs, and the Tea SDKs configured with `signature_algorithm='v2'`.
//! - [`v3`]: `ACS3-HMAC-SHA256`, protocol fields in `x-acs-*` headers and an `Authorization`
//!   header — what every current Tea-generation SDK sends by default.
//!
//! Which one a request uses is decided by its `Authorization` header ([`v3::is_v3_authorization`]).

pub mod v1;
pub mod v3;

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::encoding::encode_query;

pub use v1::{SIGNATURE_PARAM, canonicalized_query, sign, string_to_sign, verify};

/// Which signature scheme signs a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignatureVersion {
    /// Signature version 1.0 (`HMAC-SHA1`, parameters `Signature*`, `Timestamp`, `AccessKeyId`).
    V1,
    /// `ACS3-HMAC-SHA256` (headers `x-acs-*` and `Authorization`): the default of every current
    /// official SDK.
    #[default]
    V3,
}

impl std::fmt::Display for SignatureVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureVersion::V1 => "1.0 (HMAC-SHA1)",
            SignatureVersion::V3 => "3 (ACS3-HMAC-SHA256)",
        })
    }
}

/// The HMAC of `data` with the already keyed `key`, or nothing without a key (never: HMAC
/// takes keys of any length; a verifier never accepts an empty MAC).
pub(crate) fn tag<M: hmac::Mac>(key: Option<M>, data: &[u8]) -> Vec<u8> {
    match key {
        Some(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        None => Vec::new(),
    }
}

/// `pairs` sorted by name in byte order (ties by value), names and values percent-encoded
/// ([`percent_encode`](crate::encoding::percent_encode)), empty values kept as `name=`, joined by `&`: the canonical query of both
/// signature versions (version 1.0 first drops `Signature`).
pub fn canonical_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    pairs.sort_unstable();
    encode_query(pairs)
}

/// Formats `t` as the protocol's UTC timestamp, `YYYY-MM-DDThh:mm:ssZ`.
///
/// Written digit by digit: a client formats one per attempt, and a format description costs ten
/// times as much.
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let year = match u16::try_from(t.year()) {
        Ok(year) if year <= 9999 => year,
        // Only years outside 0..=9999 need more than four digits (or a sign); render them plainly.
        _ => {
            return format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            );
        }
    };
    let digit = |n: u16| char::from(b'0' + (n % 10) as u8);
    let two = |out: &mut String, n: u8| {
        out.push(digit(u16::from(n / 10)));
        out.push(digit(u16::from(n)));
    };
    let mut out = String::with_capacity(20);
    for divisor in [1000, 100, 10, 1] {
        out.push(digit(year / divisor));
    }
    out.push('-');
    two(&mut out, u8::from(t.month()));
    out.push('-');
    two(&mut out, t.day());
    out.push('T');
    two(&mut out, t.hour());
    out.push(':');
    two(&mut out, t.minute());
    out.push(':');
    two(&mut out, t.second());
    out.push('Z');
    out
}

/// Parses a protocol timestamp, strictly `YYYY-MM-DDThh:mm:ssZ` (UTC). `None` if malformed.
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let bytes = s.as_bytes();
    let shape = b"dddd-dd-ddTdd:dd:ddZ";
    if bytes.len() != shape.len() {
        return None;
    }
    let shaped = bytes.iter().zip(shape).all(|(b, s)| if *s == b'd' { b.is_ascii_digit() } else { b == s });
    if !shaped {
        return None;
    }
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    PrimitiveDateTime::parse(s, format).ok().map(PrimitiveDateTime::assume_utc)
}

/// The current time as a protocol timestamp.
pub fn now_timestamp() -> String {
    format_timestamp(OffsetDateTime::now_utc())
}

/// A fresh `SignatureNonce`: a random UUID v4 as 32 lowercase hex characters (never time-based).
pub fn new_nonce() -> String {
    let mut buffer = uuid::Uuid::encode_buffer();
    uuid::Uuid::new_v4().simple().encode_lower(&mut buffer).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps() {
        let t = datetime!(2016-02-23 12:46:24 UTC);
        assert_eq!(format_timestamp(t), "2016-02-23T12:46:24Z");
        let shifted = datetime!(2016-02-23 20:46:24 +08:00);
        assert_eq!(format_timestamp(shifted), "2016-02-23T12:46:24Z");
        assert_eq!(parse_timestamp("2016-02-23T12:46:24Z"), Some(t));
        for bad in [
            "",
            "2016-02-23 12:46:24Z",
            "2016-02-23T12:46:24",
            "2016-02-23T12:46:24+08:00",
            "2016-02-23T12:46:24.5Z",
            "2016-13-23T12:46:24Z",
            "2016-02-30T12:46:24Z",
            "2016-02-23T25:46:24Z",
            "+016-02-23T12:46:24Z",
            "２016-02-23T12:46:24Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
        let now = now_timestamp();
        assert!(parse_timestamp(&now).is_some(), "{now}");
    }

    /// The digit-by-digit formatting agrees with a format description, over the range of years
    /// and times, and years beyond four digits still render.
    #[test]
    fn timestamps_format_as_the_format_description_does() {
        use proptest::prelude::*;
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        proptest!(|(seconds in 0i64..253_402_300_800)| {
            let t = OffsetDateTime::from_unix_timestamp(seconds).unwrap();
            prop_assert_eq!(format_timestamp(t), t.format(format).unwrap());
        });
        assert_eq!(format_timestamp(datetime!(0001-01-01 00:00:00 UTC)), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn nonces_are_random_hex() {
        let a = new_nonce();
        let b = new_nonce();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
