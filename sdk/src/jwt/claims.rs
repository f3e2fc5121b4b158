//! The claims a chat token carries, and making them for a new token.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::unix_now;

/// The claims of a chat token.
///
/// ```
/// use std::time::Duration;
/// let c = tz_chat_sdk::jwt::ChatClaims::new("drillquiz", "alice", Duration::from_secs(60))
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
    /// Token id (`jti`): [`ChatClaims::new`] gives every token a random one,
    /// so the gateway can revoke that one token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Issuer; checked when the verifier is configured with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience; checked when the verifier is configured with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Pins the token to one named agent of the system: messages sent with
    /// it go to this agent, and naming another is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

impl ChatClaims {
    /// Claims for `user_id` of `system_id`, issued now and valid for `ttl`,
    /// with a random `jti` (32 hex digits).
    ///
    /// ```
    /// let c = tz_chat_sdk::jwt::ChatClaims::new("drillquiz", "7", std::time::Duration::from_secs(3600));
    /// assert!(c.exp > c.iat.unwrap());
    /// assert_eq!(c.jti.map(|j| j.len()), Some(32));
    /// ```
    pub fn new(system_id: impl Into<String>, user_id: impl Into<String>, ttl: Duration) -> Self {
        let now = unix_now();
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        Self {
            system_id: system_id.into(),
            user_id: user_id.into(),
            exp: now.saturating_add(ttl),
            iat: Some(now),
            jti: random_token_id(),
            iss: None,
            aud: None,
            agent: None,
        }
    }

    /// Set the `iss` claim.
    ///
    /// ```
    /// let c = tz_chat_sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(1)).with_issuer("me");
    /// assert_eq!(c.iss.as_deref(), Some("me"));
    /// ```
    pub fn with_issuer(mut self, iss: impl Into<String>) -> Self {
        self.iss = Some(iss.into());
        self
    }

    /// Set the `aud` claim.
    ///
    /// ```
    /// let c = tz_chat_sdk::jwt::ChatClaims::new("s", "u", std::time::Duration::from_secs(1)).with_audience("tz-chat");
    /// assert_eq!(c.aud.as_deref(), Some("tz-chat"));
    /// ```
    pub fn with_audience(mut self, aud: impl Into<String>) -> Self {
        self.aud = Some(aud.into());
        self
    }
}

/// 128 random bits as 32 hex digits; `None` when the system has no
/// randomness to give (the token is then only revocable by user).
fn random_token_id() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
