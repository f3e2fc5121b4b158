//! Operator passwords: Argon2id (the `argon2` crate's defaults, OWASP's
//! recommended parameters), stored as PHC strings that carry their own salt
//! and parameters.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Why a password cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("hashing the password failed: {0}")]
    Hashing(String),
}

/// Hash `password` with a fresh salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    hash_unchecked(password)
}

fn hash_unchecked(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// Whether `password` matches `stored`. A stored value that is not an
/// Argon2id hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash no password is known for: verified against when the account is
/// unknown, so an unknown email costs the same time as a wrong password.
static DUMMY: LazyLock<String> =
    LazyLock::new(|| hash_unchecked(&crate::secrets::api_key()).unwrap_or_default());

/// Spend the time of one verification, for an unknown account.
pub fn verify_dummy(password: &str) {
    let _ = verify(password, &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify_only_their_password() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
        assert!(!verify("", &stored));
        // Two hashes of one password differ (fresh salt) and both verify.
        let again = hash("correct horse battery").unwrap();
        assert_ne!(stored, again);
        assert!(verify("correct horse battery", &again));
    }

    #[test]
    fn short_passwords_and_foreign_hashes_are_refused() {
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
        // An Argon2i hash (not id) of "password", and plain text.
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$0NRYJY3XbKhrlW8DuBIpYg";
        assert!(!verify("password", argon2i));
        assert!(!verify("password", "password"));
    }
}
