//! Sealing secrets at rest (agent credentials) with XChaCha20-Poly1305
//! under `CHAT_GATEWAY_SECRET_KEY`.
//!
//! A sealed text is `v1.` + base64url(24-byte random nonce ‖ ciphertext ‖
//! tag). The associated data names what the secret belongs to (an agent's
//! `system/agent`), so a sealed credential copied onto another row does not
//! open there. Changing the key makes every stored credential unreadable:
//! those agents then fail to load (logged) until their credential is set
//! again.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// Bytes in a key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
const PREFIX: &str = "v1.";

/// The key secrets are sealed with.
#[derive(Clone)]
pub struct SecretKey([u8; KEY_BYTES]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Why a key or a sealed text was refused. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealingError {
    #[error(
        "expected {KEY_BYTES} bytes as 64 hexadecimal characters or base64 (`chat-gateway secrets` prints one); got {0}"
    )]
    BadKey(String),
    #[error("the sealed text is malformed")]
    Malformed,
    #[error("the sealed text does not open with this key (was CHAT_GATEWAY_SECRET_KEY changed?)")]
    WrongKey,
}

impl SecretKey {
    /// Parse 32 bytes given as 64 hex characters or as base64 (standard or
    /// URL-safe, padded or not).
    pub fn parse(text: &str) -> Result<Self, SealingError> {
        let text = text.trim();
        let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..KEY_BYTES)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| SealingError::BadKey("malformed hexadecimal".into()))?
        } else {
            let unpadded = text.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(unpadded)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
                .map_err(|_| SealingError::BadKey("neither hexadecimal nor base64".into()))?
        };
        let key: [u8; KEY_BYTES] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| SealingError::BadKey(format!("{} bytes", b.len())))?;
        Ok(Self(key))
    }

    /// A fresh random key, base64url (for `chat-gateway secrets`).
    pub fn generate() -> String {
        let mut key = [0u8; KEY_BYTES];
        #[expect(clippy::expect_used, reason = "a failing OS random source is fatal")]
        getrandom::fill(&mut key).expect("the operating system's random source failed");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
    }

    /// Seal `secret` for the owner named by `context`.
    pub fn seal(&self, secret: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        #[expect(clippy::expect_used, reason = "a failing OS random source is fatal")]
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: context.as_bytes(),
        };
        #[expect(
            clippy::expect_used,
            reason = "encryption fails only for messages near 256 GiB"
        )]
        let sealed = cipher
            .encrypt(&XNonce::from(nonce), payload)
            .expect("XChaCha20-Poly1305 encryption");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// Open what [`Self::seal`] sealed for `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, SealingError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b)
                    .ok()
            })
            .filter(|b| b.len() > NONCE_BYTES)
            .ok_or(SealingError::Malformed)?;
        let (nonce, body) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| SealingError::Malformed)?;
        let cipher = XChaCha20Poly1305::new(&self.0.into());
        let plain = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealingError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealingError::Malformed)
    }
}

/// The last characters of a secret, to recognise it by: `…` and up to
/// four characters, fewer for short secrets (never more than a quarter).
pub fn hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let shown = (chars.len() / 4).min(4);
    let tail: String = chars[chars.len() - shown..].iter().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::parse(&"ab".repeat(32)).unwrap()
    }

    #[test]
    fn keys_in_hex_and_base64_and_nothing_else() {
        let generated = SecretKey::generate();
        assert!(SecretKey::parse(&generated).is_ok());
        let standard = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(
            SecretKey::parse(&standard).is_ok(),
            "padded standard base64"
        );
        for bad in ["", "short", &"ab".repeat(31), &"zz".repeat(32)] {
            assert!(
                matches!(SecretKey::parse(bad), Err(SealingError::BadKey(_))),
                "{bad:?}"
            );
        }
        assert!(!format!("{:?}", key()).contains("ab"));
    }

    #[test]
    fn sealed_text_hides_the_secret_and_opens_only_in_its_context() {
        let sealed = key().seal("sk-very-secret", "quiz/sales");
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("secret"));
        assert_ne!(
            sealed,
            key().seal("sk-very-secret", "quiz/sales"),
            "fresh nonce"
        );
        assert_eq!(key().open(&sealed, "quiz/sales").unwrap(), "sk-very-secret");
        assert_eq!(
            key().open(&sealed, "quiz/other"),
            Err(SealingError::WrongKey)
        );
        let other = SecretKey::parse(&"cd".repeat(32)).unwrap();
        assert_eq!(
            other.open(&sealed, "quiz/sales"),
            Err(SealingError::WrongKey)
        );
        assert_eq!(
            key().open("v1.AAAA", "quiz/sales"),
            Err(SealingError::Malformed)
        );
        assert_eq!(
            key().open("plain", "quiz/sales"),
            Err(SealingError::Malformed)
        );
    }

    #[test]
    fn hints_show_little() {
        assert_eq!(hint("sk-abcdefghijklmnop"), "…mnop");
        assert_eq!(hint("abcdefgh"), "…gh");
        assert_eq!(hint("abc"), "…");
    }
}
