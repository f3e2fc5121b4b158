//! Settings of the operator side: how long an operator's `/admin` session
//! lasts, and the key that seals agent credentials stored at runtime.

use std::time::Duration;

use super::{ConfigError, EnvVars};

/// Expiry of operator sessions (`/admin`): a session ends after `idle`
/// without a request, and `absolute` after sign-in whatever happens.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

/// `CHAT_GATEWAY_SESSION_IDLE_SECS` and `CHAT_GATEWAY_SESSION_MAX_SECS`.
pub(super) fn session_lifetimes(vars: &EnvVars) -> Result<SessionLifetimes, ConfigError> {
    let sessions = SessionLifetimes {
        idle: Duration::from_secs(vars.number("CHAT_GATEWAY_SESSION_IDLE_SECS", 1800)?),
        absolute: Duration::from_secs(vars.number("CHAT_GATEWAY_SESSION_MAX_SECS", 43_200)?),
    };
    if sessions.idle.is_zero() || sessions.absolute < sessions.idle {
        return Err(ConfigError(
            "CHAT_GATEWAY_SESSION_IDLE_SECS must be > 0 and at most CHAT_GATEWAY_SESSION_MAX_SECS"
                .into(),
        ));
    }
    Ok(sessions)
}

/// `CHAT_GATEWAY_SECRET_KEY`, if set.
pub(super) fn secret_key(vars: &EnvVars) -> Result<Option<crate::sealing::SecretKey>, ConfigError> {
    vars.get_nonempty("CHAT_GATEWAY_SECRET_KEY")
        .map(|key| crate::sealing::SecretKey::parse(&key))
        .transpose()
        .map_err(|e| ConfigError(format!("CHAT_GATEWAY_SECRET_KEY: {e}")))
}
