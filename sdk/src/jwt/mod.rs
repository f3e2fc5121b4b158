//! Chat tokens: short-lived HS256 JWTs naming one end user of one system.
//!
//! A chat token carries `{system_id, user_id, exp}` and optionally `iat`,
//! `iss` and `aud`. The gateway accepts it as `Authorization: Bearer …` and on
//! the chat page (`/chat?token=…`). It is signed with the secret shared
//! between the gateway (`CHAT_GATEWAY_JWT_SECRET`) and the backends allowed to
//! send their users to the chat.
//!
//! Rules, checked by [`Verifier`]:
//! - the algorithm is pinned to HS256 (`alg: none` and every other algorithm
//!   are refused);
//! - `exp` is required, with a small leeway for clock skew (30 s);
//! - `system_id` and `user_id` must be non-empty (a numeric `user_id` is
//!   accepted and read as its decimal string, as the seed gateway did);
//! - `iss`/`aud` are checked when the verifier is configured with them.
//!
//! ```
//! use std::time::Duration;
//! use sdk::jwt::{mint, ChatClaims, JwtSecret, Verifier};
//!
//! let secret = JwtSecret::new("a-long-random-secret-shared-with-the-gateway");
//! let token = mint(&ChatClaims::new("cointutor", "42", Duration::from_secs(3600)), &secret).unwrap();
//! let claims = Verifier::new(&secret).verify(&token).unwrap();
//! assert_eq!((claims.system_id.as_str(), claims.user_id.as_str()), ("cointutor", "42"));
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The HMAC secret that signs chat tokens. Its `Debug` output never shows the
/// secret.
///
/// ```
/// let s = sdk::jwt::JwtSecret::new("super-secret-value-0123456789abcdef");
/// assert_eq!(format!("{s:?}"), "JwtSecret(<redacted, 35 bytes>)");
/// ```
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    /// Wrap a secret.
    ///
    /// ```
    /// let s = sdk::jwt::JwtSecret::new(b"bytes work too".to_vec());
    /// assert_eq!(s.len(), 14);
    /// ```
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    /// Length of the secret in bytes (the gateway requires at least 32 in
    /// production).
    ///
    /// ```
    /// assert_eq!(sdk::jwt::JwtSecret::new("abc").len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    ///
    /// ```
    /// assert!(sdk::jwt::JwtSecret::new("").is_empty());
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

/// The claims of a chat token.
///
/// ```
/// use std::time::Duration;
/// let c = sdk::jwt::ChatClaims::new("drillquiz", "alice", Duration::from_secs(60))
///     .with_issuer("drillquiz-backend");
/// assert_eq!(c.exp - c.iat.unwrap(), 60);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatClaims {
    /// The client system.
    pub system_id: String,
    /// The end user within that system.
    pub user_id: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issued at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Pins the token to one named agent of the system: messages sent with
    /// it go to this agent, and naming another is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

impl ChatClaims {
    /// Claims for `user_id` of `system_id`, issued now and valid for `ttl`.
    ///
    /// ```
    /// let c = sdk::jwt::ChatClaims::new("drillquiz", "7", std::time::Duration::from_secs(3600));
    /// assert!(c.exp > c.iat.unwrap());
    /// ```
    pub fn new(system_id: impl Into<String>, user_id: impl Into<String>, ttl: Duration) -> Self {
        let now = unix_now();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        Self {
            system_id: system_id.into(),
            user_id: user_id.into(),
            exp: now.saturating_add(ttl),
            iat: Some(now),
            iss: None,
            aud: None,
            agent: None,
        }
    }

    /// Set the `iss` claim.
    ///
    /// ```
    /// let c = sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(1)).with_issuer("me");
    /// assert_eq!(c.iss.as_deref(), Some("me"));
    /// ```
    pub fn with_issuer(mut self, iss: impl Into<String>) -> Self {
        self.iss = Some(iss.into());
        self
    }

    /// Set the `aud` claim.
    ///
    /// ```
    /// let c = sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(1)).with_audience("tz-chat");
    /// assert_eq!(c.aud.as_deref(), Some("tz-chat"));
    /// ```
    pub fn with_audience(mut self, aud: impl Into<String>) -> Self {
        self.aud = Some(aud.into());
        self
    }
}

/// Why a token could not be minted or was refused.
///
/// ```
/// let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let err = sdk::jwt::verify("not-a-jwt", &secret).unwrap_err();
/// assert!(matches!(err, sdk::jwt::JwtError::Malformed(_)));
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
    /// `nbf` is in the future.
    #[error("token is not valid yet")]
    NotYetValid,
    /// Signing failed (for example an empty secret).
    #[error("could not sign token: {0}")]
    Signing(String),
}

/// Sign `claims` with `secret` (HS256).
///
/// ```
/// let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let claims = sdk::jwt::ChatClaims::new("drillquiz", "1", std::time::Duration::from_secs(60));
/// let token = sdk::jwt::mint(&claims, &secret).unwrap();
/// assert_eq!(token.split('.').count(), 3);
/// ```
pub fn mint(claims: &ChatClaims, secret: &JwtSecret) -> Result<String, JwtError> {
    Signer::new(secret)?.sign(claims)
}

/// Verify `token` with `secret` and the default rules (no issuer or audience
/// check). Build a [`Verifier`] once when verifying many tokens.
///
/// ```
/// let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let other = sdk::jwt::JwtSecret::new("another-secret-another-secret-xx");
/// let token = sdk::jwt::mint(&sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(60)), &secret).unwrap();
/// assert_eq!(sdk::jwt::verify(&token, &other), Err(sdk::jwt::JwtError::BadSignature));
/// ```
pub fn verify(token: &str, secret: &JwtSecret) -> Result<ChatClaims, JwtError> {
    Verifier::new(secret).verify(token)
}

/// A reusable signing key.
///
/// ```
/// let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let signer = sdk::jwt::Signer::new(&secret).unwrap();
/// let t = signer.sign(&sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(5))).unwrap();
/// assert!(!t.is_empty());
/// ```
#[derive(Clone)]
pub struct Signer {
    key: EncodingKey,
    header: Header,
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
    /// assert!(sdk::jwt::Signer::new(&sdk::jwt::JwtSecret::new("")).is_err());
    /// ```
    pub fn new(secret: &JwtSecret) -> Result<Self, JwtError> {
        if secret.is_empty() {
            return Err(JwtError::Signing("the secret is empty".into()));
        }
        Ok(Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            header: Header::new(Algorithm::HS256),
        })
    }

    /// Sign `claims`.
    ///
    /// ```
    /// # let signer = sdk::jwt::Signer::new(&sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef")).unwrap();
    /// let token = signer.sign(&sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(5))).unwrap();
    /// # assert!(token.starts_with("ey"));
    /// ```
    pub fn sign(&self, claims: &ChatClaims) -> Result<String, JwtError> {
        if claims.system_id.is_empty() {
            return Err(JwtError::MissingClaim("system_id"));
        }
        if claims.user_id.is_empty() {
            return Err(JwtError::MissingClaim("user_id"));
        }
        jsonwebtoken::encode(&self.header, claims, &self.key)
            .map_err(|e| JwtError::Signing(e.to_string()))
    }
}

/// Checks chat tokens. Build it once and share it.
///
/// ```
/// use std::time::Duration;
/// use sdk::jwt::{mint, ChatClaims, JwtError, JwtSecret, Verifier};
///
/// let secret = JwtSecret::new("0123456789abcdef0123456789abcdef");
/// let verifier = Verifier::new(&secret).with_audience("tz-chat");
/// let wrong = mint(&ChatClaims::new("s", "u", Duration::from_secs(60)).with_audience("other"), &secret).unwrap();
/// assert_eq!(verifier.verify(&wrong), Err(JwtError::WrongAudience));
/// ```
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("leeway", &self.validation.leeway)
            .field("iss", &self.validation.iss)
            .field("aud", &self.validation.aud)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Default clock-skew allowance for `exp`, in seconds.
    pub const DEFAULT_LEEWAY_SECS: u64 = 30;

    /// A verifier for `secret`: HS256 only, `exp` required, 30 s leeway, no
    /// issuer or audience check.
    ///
    /// ```
    /// let v = sdk::jwt::Verifier::new(&sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef"));
    /// # let _ = v;
    /// ```
    pub fn new(secret: &JwtSecret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp"]);
        validation.leeway = Self::DEFAULT_LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Self {
            key: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// Require `iss` to equal `issuer`.
    ///
    /// ```
    /// # let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let v = sdk::jwt::Verifier::new(&secret).with_issuer("cointutor-backend");
    /// # let _ = v;
    /// ```
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        self.validation.set_issuer(&[issuer]);
        self.validation
            .required_spec_claims
            .insert("iss".to_owned());
        self
    }

    /// Require `aud` to equal `audience`.
    ///
    /// ```
    /// # let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let v = sdk::jwt::Verifier::new(&secret).with_audience("tz-chat");
    /// # let _ = v;
    /// ```
    pub fn with_audience(mut self, audience: &str) -> Self {
        self.validation.set_audience(&[audience]);
        self.validation.validate_aud = true;
        self.validation
            .required_spec_claims
            .insert("aud".to_owned());
        self
    }

    /// Change the clock-skew allowance.
    ///
    /// ```
    /// # let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let strict = sdk::jwt::Verifier::new(&secret).with_leeway(std::time::Duration::ZERO);
    /// # let _ = strict;
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.validation.leeway = leeway.as_secs();
        self
    }

    /// Check `token` and return its claims.
    ///
    /// ```
    /// # let secret = sdk::jwt::JwtSecret::new("0123456789abcdef0123456789abcdef");
    /// let v = sdk::jwt::Verifier::new(&secret);
    /// assert!(matches!(v.verify("a.b.c"), Err(sdk::jwt::JwtError::Malformed(_))));
    /// ```
    pub fn verify(&self, token: &str) -> Result<ChatClaims, JwtError> {
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation)
            .map_err(|e| map_error(e.kind()))?;
        let claims = data.claims;
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

fn map_error(kind: &ErrorKind) -> JwtError {
    match kind {
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::MissingRequiredClaim(claim) => match claim.as_str() {
            "exp" => JwtError::MissingClaim("exp"),
            "iss" => JwtError::WrongIssuer,
            "aud" => JwtError::WrongAudience,
            _ => JwtError::Malformed(format!("missing claim {claim}")),
        },
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            JwtError::Malformed("only HS256 tokens are accepted".into())
        }
        other => JwtError::Malformed(format!("{other:?}")),
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
