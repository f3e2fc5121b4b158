//! The rules the gateway applies to system and user ids. The gateway uses
//! these very functions; the SDK checks them before it mints a token, so that
//! a bad id fails in the backend that minted it, not later in a browser.
//!
//! - a **system id** is 1–64 characters of ASCII letters, digits, `-`, `_` or
//!   `.` (the gateway compares it case-insensitively);
//! - a **user id** is 1–256 characters without control characters.

/// Longest system id the gateway accepts.
pub const MAX_SYSTEM_ID: usize = 64;
/// Longest user id the gateway accepts, in characters.
pub const MAX_USER_ID: usize = 256;

/// Check a system id; the error names the field and what is wrong.
///
/// ```
/// assert!(tz_chat_sdk::identity::check_system_id("drill-quiz.v2").is_ok());
/// assert!(tz_chat_sdk::identity::check_system_id("drill quiz").is_err());
/// ```
pub fn check_system_id(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err("system_id must not be empty".into());
    }
    if raw.len() > MAX_SYSTEM_ID {
        return Err(format!(
            "system_id must be at most {MAX_SYSTEM_ID} characters"
        ));
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err("system_id may contain only letters, digits, '-', '_' and '.'".into());
    }
    Ok(())
}

/// Check a user id; the error names the field and what is wrong.
///
/// ```
/// assert!(tz_chat_sdk::identity::check_user_id("user@example.com").is_ok());
/// assert!(tz_chat_sdk::identity::check_user_id("").is_err());
/// ```
pub fn check_user_id(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err("user_id must not be empty".into());
    }
    if raw.chars().count() > MAX_USER_ID {
        return Err(format!("user_id must be at most {MAX_USER_ID} characters"));
    }
    if raw.chars().any(char::is_control) {
        return Err("user_id must not contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_ids() {
        for ok in [
            "drillquiz",
            "CoinTutor",
            "my-app.v2",
            "a_b",
            &"a".repeat(64),
        ] {
            assert_eq!(check_system_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "has space",
            "percent%",
            "slash/",
            "ünï",
            &"a".repeat(65),
        ] {
            assert!(check_system_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_ids() {
        for ok in ["42", "user@example.com", "with space", &"가".repeat(256)] {
            assert_eq!(check_user_id(ok), Ok(()), "{ok}");
        }
        for bad in ["", "tab\there", "new\nline", &"가".repeat(257)] {
            assert!(check_user_id(bad).is_err(), "{bad:?}");
        }
    }
}
