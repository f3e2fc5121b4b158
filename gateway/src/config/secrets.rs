//! The gateway's own secrets: the chat-token (JWT) secret and settings and
//! the `X-API-Key` values, strict in production and filled with generated
//! development values (kept in a file, see `dev_secrets`) when unset in
//! development.

use std::path::PathBuf;
use std::time::Duration;

use sdk::jwt::JwtSecret;

use super::{ConfigError, EnvVars, Mode, comma_list, dev_secrets};

/// Chat-token (JWT) settings.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// The HS256 secret.
    pub secret: JwtSecret,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Required `aud`, when set.
    pub audience: Option<String>,
    /// Lifetime of tokens minted by `GET /v1/chat-token`.
    pub token_ttl: Duration,
    /// Longest lifetime of any token accepted (`exp - iat`).
    pub max_lifetime: Duration,
}

/// Variables that were given development values, and where those live.
#[derive(Debug, Clone, Default)]
pub struct DevValues {
    /// The variables filled in.
    pub generated: Vec<&'static str>,
    /// The file holding them.
    pub file: Option<PathBuf>,
}

/// Shortest JWT secret accepted (a development secret left unset is
/// generated instead).
pub const MIN_SECRET_BYTES: usize = 32;

/// What [`credentials`] reads.
pub(super) struct Credentials {
    pub(super) jwt: JwtSettings,
    pub(super) api_keys: Vec<String>,
    pub(super) dev: DevValues,
}

/// The JWT settings and API keys, from `CHAT_GATEWAY_JWT_*`,
/// `CHAT_GATEWAY_TOKEN_*` and `CHAT_GATEWAY_API_KEY`.
pub(super) fn credentials(vars: &EnvVars, mode: Mode) -> Result<Credentials, ConfigError> {
    let mut dev = DevValues::default();
    let secret_var = vars.get("CHAT_GATEWAY_JWT_SECRET");
    if let Some(secret) = secret_var.as_deref().filter(|s| !s.is_empty())
        && secret.len() < MIN_SECRET_BYTES
        && mode == Mode::Development
    {
        return Err(ConfigError(format!(
            "CHAT_GATEWAY_JWT_SECRET is {} bytes; at least {MIN_SECRET_BYTES} are needed, or leave it unset in development for a generated one (`chat-gateway secrets` prints a good one)",
            secret.len()
        )));
    }
    let api_key_var = vars.get("CHAT_GATEWAY_API_KEY");
    let (secret, api_key_var) = match mode {
        Mode::Production => {
            let secret = secret_var.unwrap_or_default();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(ConfigError(format!(
                    "CHAT_GATEWAY_JWT_SECRET must be set to at least {MIN_SECRET_BYTES} bytes in production (`chat-gateway secrets` prints a good one)"
                )));
            }
            (secret, api_key_var)
        }
        Mode::Development if secret_var.is_some() && api_key_var.is_some() => {
            (secret_var.unwrap_or_default(), api_key_var)
        }
        Mode::Development => {
            let file = vars
                .get_nonempty("CHAT_GATEWAY_DEV_SECRETS_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(dev_secrets::DEFAULT_FILE));
            let stored = dev_secrets::load_or_create(&file)?;
            if secret_var.is_none() {
                dev.generated.push("CHAT_GATEWAY_JWT_SECRET");
            }
            if api_key_var.is_none() {
                dev.generated.push("CHAT_GATEWAY_API_KEY");
            }
            dev.file = Some(file);
            (
                secret_var.unwrap_or(stored.jwt_secret),
                Some(api_key_var.unwrap_or(stored.api_key)),
            )
        }
    };
    if secret.is_empty() {
        return Err(ConfigError(
            "CHAT_GATEWAY_JWT_SECRET is empty: chat tokens could be forged".into(),
        ));
    }
    let api_keys = comma_list(api_key_var.as_deref().unwrap_or(""));
    if mode == Mode::Production && api_keys.is_empty() {
        return Err(ConfigError(
            "CHAT_GATEWAY_API_KEY must hold at least one key in production".into(),
        ));
    }
    if let Some(short) = api_keys.iter().find(|k| k.len() < 16)
        && mode == Mode::Production
    {
        return Err(ConfigError(format!(
            "CHAT_GATEWAY_API_KEY: a key of {} characters is too short (at least 16)",
            short.len()
        )));
    }

    let jwt = JwtSettings {
        secret: JwtSecret::new(secret),
        issuer: vars.get_nonempty("CHAT_GATEWAY_JWT_ISSUER"),
        audience: vars.get_nonempty("CHAT_GATEWAY_JWT_AUDIENCE"),
        token_ttl: Duration::from_secs(vars.number("CHAT_GATEWAY_TOKEN_TTL_SECS", 86_400)?),
        max_lifetime: Duration::from_secs(vars.number(
            "CHAT_GATEWAY_TOKEN_MAX_LIFETIME_SECS",
            sdk::jwt::Verifier::DEFAULT_MAX_LIFETIME_SECS,
        )?),
    };
    if jwt.token_ttl.is_zero() {
        return Err(ConfigError(
            "CHAT_GATEWAY_TOKEN_TTL_SECS must be > 0".into(),
        ));
    }
    if jwt.token_ttl > jwt.max_lifetime {
        return Err(ConfigError(format!(
            "CHAT_GATEWAY_TOKEN_TTL_SECS ({}) exceeds CHAT_GATEWAY_TOKEN_MAX_LIFETIME_SECS ({}): the gateway would mint tokens it refuses",
            jwt.token_ttl.as_secs(),
            jwt.max_lifetime.as_secs()
        )));
    }
    Ok(Credentials { jwt, api_keys, dev })
}
