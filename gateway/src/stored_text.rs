//! What text a request may hand the store, checked where requests enter so
//! that both stores answer alike and nothing reaches an upstream first.
//!
//! PostgreSQL refuses the NUL character in text (SQLite keeps it), so a NUL
//! that reached the store would be a 500 on one database and stored on the
//! other. Every text that is stored or looked up therefore passes one of
//! these checks first and bad input is a 422 on both.

use crate::error::ApiError;

/// Longest conversation or message id accepted before lookup (ours are
/// 36-character UUIDs).
pub const MAX_ID_LEN: usize = 64;

/// Text that is stored as given (a message, a title): no NUL.
pub fn check_text(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') {
        return Err(ApiError::Validation(format!(
            "{field} must not contain NUL characters"
        )));
    }
    Ok(())
}

/// A conversation or message id from a request: at most [`MAX_ID_LEN`]
/// characters, no control characters. A well-formed id that names nothing
/// is the lookup's business (not found, or an empty page).
pub fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().count() > MAX_ID_LEN {
        return Err(ApiError::Validation(format!(
            "{field} is longer than {MAX_ID_LEN} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::Validation(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_control_characters() {
        assert!(check_text("message", "line\nnext\ttab").is_ok());
        assert!(check_text("message", "a\0b").is_err());
        assert!(check_id("before", "0192f6c4-5d2e-7c3a-9b1e-3f4a5b6c7d8e").is_ok());
        assert!(check_id("before", "a\0b").is_err());
        assert!(check_id("before", "a\u{1b}b").is_err());
        assert!(check_id("before", &"x".repeat(65)).is_err());
    }
}
