//! Chat tokens: short-lived HS256 JWTs naming one end user of one system.
//!
//! A chat token carries `{system_id, user_id, exp}` and optionally `iat`,
//! `jti`, `iss` and `aud`. The gateway accepts it as `Authorization: Bearer …` and on
//! the chat page (`/chat?token=…`). It is signed with the secret shared
//! between the gateway (`CHAT_GATEWAY_JWT_SECRET`) and the backends allowed to
//! send their users to the chat.
//!
//! Rules, checked by [`Verifier`]:
//! - the algorithm is pinned to HS256 (`alg: none` and every other algorithm
//!   are refused);
//! - `exp` is required, with a small leeway for clock skew (30 s unless
//!   [`Verifier::with_leeway`] says otherwise); `nbf` and `iat`, when
//!   present, may not lie in the future beyond the same leeway;
//! - a token may not live longer than the maximum lifetime (30 days unless
//!   [`Verifier::with_max_lifetime`] says otherwise): `exp - iat`, or
//!   `exp - now` for a token without `iat`;
//! - a header naming extensions as critical (`crit`, RFC 7515 §4.1.11) is
//!   refused: this verifier understands none;
//! - `system_id` and `user_id` must be non-empty (a numeric `user_id` is
//!   accepted and read as its decimal string, as the seed gateway did);
//! - `iss`/`aud` are checked when the verifier is configured with them.
//!
//! ```
//! use std::time::Duration;
//! use tz_chat_sdk::jwt::{mint, ChatClaims, JwtSecret, Verifier};
//!
//! let secret = JwtSecret::new("a-long-random-secret-shared-with-the-gateway");
//! let token = mint(&ChatClaims::new("cointutor", "42", Duration::from_secs(3600)), &secret).unwrap();
//! let claims = Verifier::new(&secret).verify(&token).unwrap();
//! assert_eq!((claims.system_id.as_str(), claims.user_id.as_str()), ("cointutor", "42"));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

/// The HMAC secret that signs chat tokens. Its `Debug` output never shows the
/// secret.
///
/// ```
/// let s = tz_chat_sdk::jwt::JwtSecret::new("super-secret-value-0123456789abcdef");
/// assert_eq!(format!("{s:?}"), "JwtSecret(<redacted, 35 bytes>)");
/// ```
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    /// Wrap a secret.
    ///
    /// ```
    /// let s = tz_chat_sdk::jwt::JwtSecret::new(b"bytes work too".to_vec());
    /// assert_eq!(s.len(), 14);
    /// ```
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    /// Length of the secret in bytes (the gateway requires at least 32 in
    /// production).
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::jwt::JwtSecret::new("abc").len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    ///
    /// ```
    /// assert!(tz_chat_sdk::jwt::JwtSecret::new("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtSecret(<redacted, {} bytes>)", self.0.len())
    }
}

/// Why a token could not be minted or was refused.
///
/// ```
/// let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let err = tz_chat_sdk::jwt::verify("not-a-jwt", &secret).unwrap_err();
/// assert!(matches!(err, tz_chat_sdk::jwt::JwtError::Malformed(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// The signature does not match the secret.
    #[error("token signature does not match the secret")]
    BadSignature,
    /// Not a well-formed HS256 JWT.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// A required claim is absent or empty.
    #[error("token lacks the `{0}` claim")]
    MissingClaim(&'static str),
    /// `iss` differs from the expected issuer.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// `aud` differs from the expected audience.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway): the issuer's clock is
    /// wrong, or the token was made to outlive the lifetime check.
    #[error("token is issued in the future")]
    IssuedInFuture,
    /// The token lives longer than the verifier's maximum lifetime.
    #[error("token lifetime exceeds {max_secs} s")]
    LifetimeTooLong {
        /// The maximum, in seconds.
        max_secs: u64,
    },
    /// The header names extensions as critical (`crit`) that the verifier
    /// does not understand (it understands none).
    #[error("token header marks extensions critical: {0}")]
    UnknownCritical(String),
    /// Signing failed (for example an empty secret).
    #[error("could not sign token: {0}")]
    Signing(String),
}

/// Sign `claims` with `secret` (HS256).
///
/// ```
/// let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let claims = tz_chat_sdk::jwt::ChatClaims::new("drillquiz", "1", std::time::Duration::from_secs(60));
/// let token = tz_chat_sdk::jwt::mint(&claims, &secret).unwrap();
/// assert_eq!(token.split('.').count(), 3);
/// ```
pub fn mint(claims: &ChatClaims, secret: &JwtSecret) -> Result<String, JwtError> {
    Signer::new(secret)?.sign(claims)
}

/// Verify `token` with `secret` and the default rules (no issuer or audience
/// check). Build a [`Verifier`] once when verifying many tokens.
///
/// ```
/// let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let other = tz_chat_sdk::jwt::JwtSecret::new("another-secret-another-secret-xx");
/// let token = tz_chat_sdk::jwt::mint(&tz_chat_sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(60)), &secret).unwrap();
/// assert_eq!(tz_chat_sdk::jwt::verify(&token, &other), Err(tz_chat_sdk::jwt::JwtError::BadSignature));
/// ```
pub fn verify(token: &str, secret: &JwtSecret) -> Result<ChatClaims, JwtError> {
    Verifier::new(secret).verify(token)
}

/// A reusable signing key.
///
/// ```
/// let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let signer = tz_chat_sdk::jwt::Signer::new(&secret).unwrap();
/// let t = signer.sign(&tz_chat_sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(5))).unwrap();
/// assert!(!t.is_empty());
/// ```
#[derive(Clone)]
pub struct Signer {
    secret: JwtSecret,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(HS256, <redacted>)")
    }
}

impl Signer {
    /// A signer for `secret`. Fails on an empty secret.
    ///
    /// ```
    /// assert!(tz_chat_sdk::jwt::Signer::new(&tz_chat_sdk::jwt::JwtSecret::new("")).is_err());
    /// ```
    pub fn new(secret: &JwtSecret) -> Result<Self, JwtError> {
        if secret.is_empty() {
            return Err(JwtError::Signing("the secret is empty".into()));
        }
        Ok(Self {
            secret: secret.clone(),
        })
    }

    /// Sign `claims`.
    ///
    /// ```
    /// # let signer = tz_chat_sdk::jwt::Signer::new(&tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef")).unwrap();
    /// let token = signer.sign(&tz_chat_sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(5))).unwrap();
    /// # assert!(token.starts_with("ey"));
    /// ```
    pub fn sign(&self, claims: &ChatClaims) -> Result<String, JwtError> {
        if claims.system_id.is_empty() {
            return Err(JwtError::MissingClaim("system_id"));
        }
        if claims.user_id.is_empty() {
            return Err(JwtError::MissingClaim("user_id"));
        }
        compact::sign(self.secret.as_bytes(), claims)
    }
}

/// Checks chat tokens. Build it once and share it.
///
/// ```
/// use std::time::Duration;
/// use tz_chat_sdk::jwt::{mint, ChatClaims, JwtError, JwtSecret, Verifier};
///
/// let secret = JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let verifier = Verifier::new(&secret).with_audience("tz-chat");
/// let wrong = mint(&ChatClaims::new("s", "u", Duration::from_secs(60)).with_audience("other"), &secret).unwrap();
/// assert_eq!(verifier.verify(&wrong), Err(JwtError::WrongAudience));
/// ```
#[derive(Clone)]
pub struct Verifier {
    secret: JwtSecret,
    leeway_secs: u64,
    max_lifetime_secs: u64,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("leeway", &self.leeway_secs)
            .field("max_lifetime", &self.max_lifetime_secs)
            .field("iss", &self.issuer)
            .field("aud", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Default clock-skew allowance for `exp`, in seconds.
    pub const DEFAULT_LEEWAY_SECS: u64 = 30;

    /// Default longest lifetime of a token, in seconds (30 days).
    pub const DEFAULT_MAX_LIFETIME_SECS: u64 = 30 * 86_400;

    /// A verifier for `secret`: HS256 only, `exp` required, 30 s leeway,
    /// lifetime at most 30 days, no issuer or audience check.
    ///
    /// ```
    /// let v = tz_chat_sdk::jwt::Verifier::new(&tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef"));
    /// # let _ = v;
    /// ```
    pub fn new(secret: &JwtSecret) -> Self {
        Self {
            secret: secret.clone(),
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
            max_lifetime_secs: Self::DEFAULT_MAX_LIFETIME_SECS,
            issuer: None,
            audience: None,
        }
    }

    /// Require `iss` to equal `issuer`.
    ///
    /// ```
    /// # let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let v = tz_chat_sdk::jwt::Verifier::new(&secret).with_issuer("cointutor-backend");
    /// # let _ = v;
    /// ```
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    /// Require `aud` to equal `audience`.
    ///
    /// ```
    /// # let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let v = tz_chat_sdk::jwt::Verifier::new(&secret).with_audience("tz-chat");
    /// # let _ = v;
    /// ```
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
        self
    }

    /// Change the clock-skew allowance for `exp` and `nbf` (whole seconds;
    /// default [30 s](Self::DEFAULT_LEEWAY_SECS)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tz_chat_sdk::jwt::{mint, ChatClaims, JwtError, JwtSecret, Verifier};
    ///
    /// let secret = JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let mut claims = ChatClaims::new("s", "u", Duration::ZERO);
    /// claims.exp -= 10; // expired ten seconds ago
    /// let token = mint(&claims, &secret)?;
    /// assert!(Verifier::new(&secret).verify(&token).is_ok());
    /// let strict = Verifier::new(&secret).with_leeway(Duration::ZERO);
    /// assert_eq!(strict.verify(&token), Err(JwtError::Expired));
    /// # Ok::<(), JwtError>(())
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway_secs = leeway.as_secs();
        self
    }

    /// Change the longest lifetime accepted (whole seconds; default
    /// [30 days](Self::DEFAULT_MAX_LIFETIME_SECS)): `exp - iat`, or
    /// `exp - now` when the token has no `iat`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tz_chat_sdk::jwt::{mint, ChatClaims, JwtError, JwtSecret, Verifier};
    ///
    /// let secret = JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let token = mint(&ChatClaims::new("s", "u", Duration::from_secs(7200)), &secret)?;
    /// assert!(Verifier::new(&secret).verify(&token).is_ok());
    /// let strict = Verifier::new(&secret).with_max_lifetime(Duration::from_secs(3600));
    /// assert_eq!(strict.verify(&token), Err(JwtError::LifetimeTooLong { max_secs: 3600 }));
    /// # Ok::<(), JwtError>(())
    /// ```
    pub fn with_max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime_secs = max.as_secs();
        self
    }

    /// The longest lifetime accepted.
    ///
    /// ```
    /// # let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// assert_eq!(tz_chat_sdk::jwt::Verifier::new(&secret).max_lifetime().as_secs(), 30 * 86_400);
    /// ```
    pub fn max_lifetime(&self) -> Duration {
        Duration::from_secs(self.max_lifetime_secs)
    }

    /// The clock-skew allowance in use.
    ///
    /// ```
    /// # let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// assert_eq!(tz_chat_sdk::jwt::Verifier::new(&secret).leeway().as_secs(), 30);
    /// ```
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway_secs)
    }

    /// Check `token` and return its claims.
    ///
    /// ```
    /// # let secret = tz_chat_sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let v = tz_chat_sdk::jwt::Verifier::new(&secret);
    /// assert!(matches!(v.verify("a.b.c"), Err(tz_chat_sdk::jwt::JwtError::Malformed(_))));
    /// ```
    pub fn verify(&self, token: &str) -> Result<ChatClaims, JwtError> {
        let claims = compact::open(self.secret.as_bytes(), token)?;
        rules::check(
            &claims,
            &rules::Policy {
                leeway_secs: self.leeway_secs,
                max_lifetime_secs: self.max_lifetime_secs,
                issuer: self.issuer.as_deref(),
                audience: self.audience.as_deref(),
            },
        )?;
        let system_id = string_claim(&claims, "system_id")?;
        let user_id = string_claim(&claims, "user_id")?;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(JwtError::MissingClaim("exp"))?;
        Ok(ChatClaims {
            system_id,
            user_id,
            exp,
            iat: claims.get("iat").and_then(Value::as_i64),
            jti: claims.get("jti").and_then(Value::as_str).map(str::to_owned),
            iss: claims.get("iss").and_then(Value::as_str).map(str::to_owned),
            aud: match claims.get("aud") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Array(items)) => {
                    items.first().and_then(Value::as_str).map(str::to_owned)
                }
                _ => None,
            },
            agent: claims
                .get("agent")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

fn string_claim(claims: &Map<String, Value>, name: &'static str) -> Result<String, JwtError> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(JwtError::MissingClaim(name)),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

mod claims;
mod compact;
mod rules;

pub use self::claims::ChatClaims;
#[cfg(test)]
mod tests;
