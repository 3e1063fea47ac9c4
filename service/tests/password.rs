//! Password hashing and generation.

use std::collections::HashSet;

use smartag_service::password::{GENERATED_LENGTH, PasswordError, generate_password, hash_password, verify_password};

/// The service's password rule: 8–32 characters, starts with a letter or digit, then letters,
/// digits and `_ @ -`.
fn satisfies_rule(password: &str) -> bool {
    let mut chars = password.chars();
    (8..=32).contains(&password.chars().count())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '@' | '-'))
}

#[test]
fn hash_verifies_and_is_not_the_plain_text() {
    let hash = hash_password("Correct_horse-1").expect("hash");
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    assert!(!hash.contains("Correct_horse-1"));
    assert!(verify_password("Correct_horse-1", &hash).expect("verify"));
    assert!(!verify_password("correct_horse-1", &hash).expect("verify"));
    assert!(!verify_password("", &hash).expect("verify"));
}

#[test]
fn each_hash_has_its_own_salt() {
    let first = hash_password("same-password").expect("hash");
    let second = hash_password("same-password").expect("hash");
    assert_ne!(first, second);
    assert!(verify_password("same-password", &second).expect("verify"));
}

#[test]
fn malformed_hash_is_an_error_not_a_mismatch() {
    for bad in ["", "plain-text", "$argon2id$v=19$broken"] {
        let error = verify_password("x", bad).expect_err(bad);
        assert!(matches!(error, PasswordError::MalformedHash(_)), "{bad}: {error:?}");
    }
}

#[test]
fn generated_passwords_follow_the_rule() {
    let passwords: Vec<_> = (0..2000).map(|_| generate_password()).collect();
    for password in &passwords {
        assert_eq!(password.len(), GENERATED_LENGTH);
        assert!(satisfies_rule(password), "{password}");
        assert!(password.starts_with(|c: char| c.is_ascii_alphabetic()), "{password}");
    }
    let distinct: HashSet<_> = passwords.iter().collect();
    assert_eq!(distinct.len(), passwords.len());
    // Over 2000 * 15 characters every symbol of the alphabet shows up.
    let symbols: HashSet<char> = passwords.iter().flat_map(|p| p.chars().skip(1)).collect();
    assert_eq!(symbols.len(), 65, "{symbols:?}");
}
