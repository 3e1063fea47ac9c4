//! The HMAC of a configuration's fixed AccessKey secret, keyed once when the configuration is
//! built. HMAC hashes its key into two blocks before it hashes anything else; a signature clones
//! that keyed state (a copy of a few hundred bytes) instead of hashing the key again — two
//! compressions saved per signature, and under version 1.0 the copy of `secret + "&"` too.
//!
//! Only fixed credentials are keyed ahead ([`ProvideCredentials::fixed_credentials`]); a key is
//! used for an attempt only when the attempt's secret is the one it was keyed with (compared in
//! constant time), so a provider whose credentials change is always signed with its current ones.
//!
//! [`ProvideCredentials::fixed_credentials`]: super::ProvideCredentials::fixed_credentials

use std::borrow::Cow;
use std::fmt;

use hmac::Hmac;
use sha1::Sha1;
use sha2::Sha256;
use sm3::Sm3;

use crate::secret::Secret;
use crate::signature::v3::Algorithm;
use crate::signature::{SignatureVersion, v1, v3};

/// A secret and its HMAC, keyed for the configuration's signature version.
#[derive(Clone)]
pub(crate) struct FixedKey {
    secret: Secret,
    keyed: Keyed,
}

/// The keyed HMAC of one signature version.
#[derive(Clone)]
enum Keyed {
    /// Version 1.0: HMAC-SHA1 keyed by `secret + "&"`.
    V1(Hmac<Sha1>),
    /// Version 3, `ACS3-HMAC-SHA256`: HMAC-SHA256 keyed by the secret.
    V3(Hmac<Sha256>),
    /// Version 3, `ACS3-HMAC-SM3`: HMAC-SM3 keyed by the secret.
    V3Sm3(Hmac<Sm3>),
}

impl FixedKey {
    /// `secret` keyed for `version` and, under version 3, `algorithm` (`None` only if HMAC refused
    /// the key, which it never does).
    pub(crate) fn new(secret: &Secret, version: SignatureVersion, algorithm: Algorithm) -> Option<FixedKey> {
        let keyed = match (version, algorithm) {
            (SignatureVersion::V1, _) => Keyed::V1(v1::keyed(secret.expose())?),
            (SignatureVersion::V3, Algorithm::HmacSha256) => Keyed::V3(v3::keyed(secret.expose())?),
            (SignatureVersion::V3, Algorithm::HmacSm3) => Keyed::V3Sm3(v3::keyed_sm3(secret.expose())?),
        };
        Some(FixedKey { secret: secret.clone(), keyed })
    }

    /// The keyed HMAC, when `secret` is the one it was keyed with (compared in constant time).
    fn keyed_for(&self, secret: &Secret) -> Option<&Keyed> {
        self.secret.matches(secret.expose()).then_some(&self.keyed)
    }

    /// The version 1.0 HMAC keyed by `secret`, when this is its key.
    pub(crate) fn v1(&self, secret: &Secret) -> Option<&Hmac<Sha1>> {
        match self.keyed_for(secret)? {
            Keyed::V1(mac) => Some(mac),
            _ => None,
        }
    }

    /// The version 3 HMAC-SHA256 keyed by `secret`, when this is its key.
    pub(crate) fn v3(&self, secret: &Secret) -> Option<&Hmac<Sha256>> {
        match self.keyed_for(secret)? {
            Keyed::V3(mac) => Some(mac),
            _ => None,
        }
    }

    /// The version 3 HMAC-SM3 keyed by `secret`, when this is its key.
    pub(crate) fn v3_sm3(&self, secret: &Secret) -> Option<&Hmac<Sm3>> {
        match self.keyed_for(secret)? {
            Keyed::V3Sm3(mac) => Some(mac),
            _ => None,
        }
    }
}

/// The version 1.0 HMAC to sign with `secret`: `fixed`'s when it was keyed with that secret,
/// otherwise keyed now.
pub(crate) fn v1_key<'a>(fixed: Option<&'a FixedKey>, secret: &Secret) -> Option<Cow<'a, Hmac<Sha1>>> {
    prekeyed_or(fixed.and_then(|fixed| fixed.v1(secret)), || v1::keyed(secret.expose()))
}

/// The version 3 HMAC to sign with `secret`: `fixed`'s when it was keyed with that secret,
/// otherwise keyed now.
pub(crate) fn v3_key<'a>(fixed: Option<&'a FixedKey>, secret: &Secret) -> Option<Cow<'a, Hmac<Sha256>>> {
    prekeyed_or(fixed.and_then(|fixed| fixed.v3(secret)), || v3::keyed(secret.expose()))
}

/// The version 3 HMAC-SM3 to sign with `secret`: `fixed`'s when it was keyed with that secret,
/// otherwise keyed now.
pub(crate) fn v3_sm3_key<'a>(fixed: Option<&'a FixedKey>, secret: &Secret) -> Option<Cow<'a, Hmac<Sm3>>> {
    prekeyed_or(fixed.and_then(|fixed| fixed.v3_sm3(secret)), || v3::keyed_sm3(secret.expose()))
}

fn prekeyed_or<'a, M: Clone>(prekeyed: Option<&'a M>, key_now: impl FnOnce() -> Option<M>) -> Option<Cow<'a, M>> {
    prekeyed.map(Cow::Borrowed).or_else(|| key_now().map(Cow::Owned))
}

/// The keyed state is as good as the secret to anyone who reads it: never shown.
impl fmt::Debug for FixedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FixedKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag<M: hmac::Mac + Clone>(mac: &M, data: &[u8]) -> Vec<u8> {
        crate::signature::tag(Some(mac.clone()), data)
    }

    #[test]
    fn a_key_signs_as_its_secret_and_only_for_it() {
        let secret = Secret::new("testsecret");
        let other = Secret::new("othersecret");
        let data = b"POST&%2F&AccessKeyId%3Dtestid";

        let key = FixedKey::new(&secret, SignatureVersion::V1, Algorithm::HmacSha256).unwrap();
        let fresh = v1::keyed("testsecret").unwrap();
        assert_eq!(tag(key.v1(&secret).unwrap(), data), tag(&fresh, data));
        assert!(key.v1(&other).is_none(), "a key is never used for another secret");
        assert!(key.v3(&secret).is_none(), "a version 1.0 key does not sign version 3");

        let key = FixedKey::new(&secret, SignatureVersion::V3, Algorithm::HmacSha256).unwrap();
        let fresh = v3::keyed("testsecret").unwrap();
        assert_eq!(tag(key.v3(&secret).unwrap(), data), tag(&fresh, data));
        assert!(key.v3(&other).is_none());
        assert!(key.v1(&secret).is_none());
        assert!(key.v3_sm3(&secret).is_none(), "an HMAC-SHA256 key does not sign ACS3-HMAC-SM3");

        let key = FixedKey::new(&secret, SignatureVersion::V3, Algorithm::HmacSm3).unwrap();
        let fresh = v3::keyed_sm3("testsecret").unwrap();
        assert_eq!(tag(key.v3_sm3(&secret).unwrap(), data), tag(&fresh, data));
        assert!(key.v3_sm3(&other).is_none());
        assert!(key.v3(&secret).is_none(), "an HMAC-SM3 key does not sign ACS3-HMAC-SHA256");
        assert!(matches!(v3_sm3_key(Some(&key), &secret), Some(Cow::Borrowed(_))));
        assert!(matches!(v3_sm3_key(Some(&key), &other), Some(Cow::Owned(_))));
    }

    #[test]
    fn an_attempt_borrows_the_fixed_key_or_keys_its_own_secret() {
        let secret = Secret::new("testsecret");
        let rotated = Secret::new("rotatedsecret");
        let data = b"ACS3-HMAC-SHA256\nhash";

        let fixed = FixedKey::new(&secret, SignatureVersion::V3, Algorithm::HmacSha256);
        let borrowed = v3_key(fixed.as_ref(), &secret).unwrap();
        assert!(matches!(borrowed, Cow::Borrowed(_)));
        let own = v3_key(fixed.as_ref(), &rotated).unwrap();
        assert!(matches!(own, Cow::Owned(_)), "another secret is keyed afresh");
        assert_eq!(tag(&*own, data), tag(&v3::keyed("rotatedsecret").unwrap(), data));
        assert!(matches!(v3_key(None, &secret), Some(Cow::Owned(_))));

        let fixed = FixedKey::new(&secret, SignatureVersion::V1, Algorithm::HmacSha256);
        assert!(matches!(v1_key(fixed.as_ref(), &secret), Some(Cow::Borrowed(_))));
        let own = v1_key(fixed.as_ref(), &rotated).unwrap();
        assert_eq!(tag(&*own, data), tag(&v1::keyed("rotatedsecret").unwrap(), data));
    }

    #[test]
    fn debug_shows_nothing_of_the_key() {
        let key = FixedKey::new(&Secret::new("testsecret"), SignatureVersion::V3, Algorithm::HmacSha256).unwrap();
        assert_eq!(format!("{key:?}"), "FixedKey(***)");
    }
}
