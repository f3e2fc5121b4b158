//! Fresh random secrets (used by `chat-gateway secrets` and development mode).

use base64::Engine as _;

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    #[expect(clippy::expect_used, reason = "a failing OS random source is fatal")]
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A JWT secret: 48 random bytes, base64url (64 characters).
pub fn jwt_secret() -> String {
    random_token(48)
}

/// An API key: `tzc_` and 32 random bytes, base64url.
pub fn api_key() -> String {
    format!("tzc_{}", random_token(32))
}

/// A scoped API key: `tzk_` and 32 random bytes, base64url (stored only
/// as its SHA-256).
pub fn scoped_key() -> String {
    format!("tzk_{}", random_token(32))
}

/// An opaque session id or CSRF token: 32 random bytes, base64url.
pub fn session_token() -> String {
    random_token(32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_long_and_distinct() {
        let (a, b) = (super::jwt_secret(), super::jwt_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(super::api_key().starts_with("tzc_"));
    }
}
