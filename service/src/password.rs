//! Client-account passwords: argon2id hashing and generation.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) with a fresh random
//! 16-byte salt per hash and the `argon2` crate's default cost (19 MiB, 2 passes, 1 lane: the OWASP
//! recommendation). Verification reads the parameters from the stored string, so the cost can be
//! raised later without breaking old hashes.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;

/// Length of a [`generate_password`] password.
pub const GENERATED_LENGTH: usize = 16;

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@-";

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Hashing failed (argon2 rejected the input or parameters).
    #[error("cannot hash password")]
    Hash(#[source] argon2::password_hash::Error),
    /// The stored hash is not a PHC string argon2 understands.
    #[error("stored password hash is malformed")]
    MalformedHash(#[source] argon2::password_hash::Error),
    /// Checking the password against the hash failed for a reason other than a mismatch.
    #[error("cannot verify password")]
    Verify(#[source] argon2::password_hash::Error),
}

/// Hashes `password` with argon2id and a fresh random salt; returns the PHC string.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(PasswordError::Hash)?;
    let hash = Argon2::default().hash_password(password.as_bytes(), &salt).map_err(PasswordError::Hash)?;
    Ok(hash.to_string())
}

/// Whether `password` matches `phc_hash` (from [`hash_password`]): `Ok(false)` on a mismatch, an
/// error only when the hash itself is unusable.
pub fn verify_password(password: &str, phc_hash: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc_hash).map_err(PasswordError::MalformedHash)?;
    if parsed.hash.is_none() {
        // A PHC string without its hash output would otherwise read as a plain mismatch.
        return Err(PasswordError::MalformedHash(argon2::password_hash::Error::PhcStringField));
    }
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(error) => Err(PasswordError::Verify(error)),
    }
}

/// A random password of [`GENERATED_LENGTH`] characters that satisfies the service's password
/// rule (8–32 characters, starts with a letter or digit, may contain `_ @ -`): a letter, then
/// characters from `[A-Za-z0-9_@-]`. About 95 bits of entropy, from the thread-local CSPRNG.
pub fn generate_password() -> String {
    let mut rng = rand::rng();
    let mut password = String::with_capacity(GENERATED_LENGTH);
    password.push(char::from(LETTERS[rng.random_range(0..LETTERS.len())]));
    for _ in 1..GENERATED_LENGTH {
        password.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    password
}
