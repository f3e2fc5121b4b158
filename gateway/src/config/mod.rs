//! Configuration: one typed struct, read once from the environment at start-up
//! and validated there, so a mistake stops the gateway with a clear message
//! instead of surfacing on the first request.
//!
//! Every variable is listed in [`VARIABLES`] (printed by `chat-gateway
//! --help`) and in the README. Per-system upstreams and named agents can
//! also come from a TOML file named by `CHAT_GATEWAY_CONFIG` (`file`). A `.env` file in the working directory is read
//! first; variables already set in the environment win.
//!
//! In **development** mode (the default) unset secrets get development values,
//! kept in a local file so that printed chat URLs survive a restart. In
//! **production** mode (`CHAT_GATEWAY_ENV=production`) the gateway refuses to
//! start without a strong JWT secret and at least one API key.

mod background;
mod dev_secrets;
mod env;
mod file;
mod observability;
mod operators;
mod rates;
mod secrets;
mod upstream_kinds;
mod upstreams;
mod variables;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

pub use self::background::ArchiveSettings;
pub use self::env::EnvVars;
pub use self::file::ConfiguredAgent;
use self::observability::observability;
pub use self::observability::{LogFormat, Observability};
pub use self::operators::SessionLifetimes;
pub use self::rates::{Budgets, Rate, RateLimits, SystemRates};
use self::secrets::Credentials;
pub use self::secrets::{DevValues, JwtSettings, MIN_SECRET_BYTES};
pub use self::upstream_kinds::{HistoryLimits, N8nTarget, OPENAI_DEFAULT_BASE_URL, OpenAiTarget};
use self::upstreams::upstream_settings;
pub use self::upstreams::{
    ConfiguredTarget, DemoSettings, DifyTarget, UpstreamHttp2, UpstreamSettings, UpstreamTarget,
    UpstreamTimeouts, system_env_key,
};
pub use self::variables::VARIABLES;

/// The gateway's whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development or production.
    pub mode: Mode,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Public base URL of the gateway, used in printed and minted links.
    pub public_url: String,
    /// Whether `public_url` was derived from `listen` (not set explicitly).
    pub public_url_is_default: bool,
    /// Database URL (`sqlite://…` or `postgres://…`).
    pub database_url: String,
    /// Chat-token settings.
    pub jwt: JwtSettings,
    /// Accepted `X-API-Key` values. Empty means API-key auth is off and every
    /// key is rejected.
    pub api_keys: Vec<String>,
    /// Systems allowed to use the gateway; `None` allows every system.
    pub allowed_system_ids: Option<HashSet<String>>,
    /// Browser origins allowed to request chat tokens and to call the API
    /// (CORS). Normalised `scheme://host[:port]`.
    pub allowed_origins: Vec<String>,
    /// Which upstream answers which system.
    pub upstreams: UpstreamSettings,
    /// Request size limits.
    pub limits: Limits,
    /// Rate limits per user, API key and client address (per replica).
    pub rates: RateLimits,
    /// Daily token budgets per system and user.
    pub budgets: Budgets,
    /// How often each replica reloads revoked tokens from the database.
    pub revocation_refresh: Duration,
    /// Bounds on client connections.
    pub connections: ConnectionLimits,
    /// After a stop signal: how long open streams may run to their end
    /// before they are cut (their partial answers stored).
    pub shutdown_grace: Duration,
    /// How long a streamed answer goes on after its client left, for the
    /// client to reattach (`GET …/messages/{id}/stream`); zero cuts it at
    /// once.
    pub resume_grace: Duration,
    /// How often to import upstream history in the background; `None`: never.
    pub sync_every: Option<Duration>,
    /// Where finished turns are archived; `None`: nowhere.
    pub archive: Option<ArchiveSettings>,
    /// Conversations with no activity for longer are purged (`None`: kept
    /// forever).
    pub retention: Option<time::Duration>,
    /// How long an operator's session lasts.
    pub sessions: SessionLifetimes,
    /// What was filled with development values, for the start-up banner.
    pub dev: DevValues,
    /// Seals agent credentials stored at runtime (`CHAT_GATEWAY_SECRET_KEY`);
    /// without it, such credentials are refused.
    pub secret_key: Option<crate::sealing::SecretKey>,
    /// Logs and metrics.
    pub observability: Observability,
}

/// Development or production behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Generated secrets, demo upstream, loopback origins allowed.
    Development,
    /// Strict: every secret must be given.
    Production,
}

/// Size limits on requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Longest message, in characters.
    pub max_message_chars: usize,
}

/// Bounds on client connections (see `crate::server`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest wait for an HTTP/1 request head.
    pub header_read_timeout: Duration,
    /// A connection with no request in progress and no traffic for this
    /// long is closed.
    pub idle_timeout: Duration,
    /// Most connections open at once; 0 for no limit.
    pub max_connections: usize,
    /// Most connections open at once from one address; 0 for no limit.
    pub max_per_address: usize,
}

/// A configuration error, naming the variable and what is expected.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Read `.env`, then the process environment.
    pub fn from_process_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a malformed one is worth stopping for.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(ConfigError(format!(".env: {e}"))),
        }
        Self::from_env(&EnvVars::from_process())
    }

    /// Build the configuration from a set of variables.
    pub fn from_env(vars: &EnvVars) -> Result<Self, ConfigError> {
        let mode = match vars.get("CHAT_GATEWAY_ENV").as_deref().map(str::trim) {
            None | Some("") | Some("development") | Some("dev") => Mode::Development,
            Some("production") | Some("prod") => Mode::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "CHAT_GATEWAY_ENV={other:?}: expected development or production"
                )));
            }
        };
        let listen: SocketAddr = vars
            .get_nonempty("CHAT_GATEWAY_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:8088".into())
            .parse()
            .map_err(|_| {
                ConfigError(
                    "CHAT_GATEWAY_LISTEN: expected host:port, e.g. 127.0.0.1:8088 or 0.0.0.0:8088"
                        .into(),
                )
            })?;
        // An unconfigured gateway prints its key and a chat link: it must
        // not be reachable from other machines by accident.
        let mode_chosen = vars.get_nonempty("CHAT_GATEWAY_ENV").is_some();
        if mode == Mode::Development && !mode_chosen && !listen.ip().is_loopback() {
            return Err(ConfigError(format!(
                "CHAT_GATEWAY_LISTEN={listen} is reachable from other machines, but CHAT_GATEWAY_ENV is not set (development mode by default, which prints its key): set CHAT_GATEWAY_ENV=production, or CHAT_GATEWAY_ENV=development to expose a development gateway on purpose"
            )));
        }
        let explicit_url = vars.get_nonempty("CHAT_GATEWAY_URL");
        let public_url_is_default = explicit_url.is_none();
        let public_url = match explicit_url {
            Some(url) => parse_base_url("CHAT_GATEWAY_URL", &url)?,
            None => default_public_url(listen),
        };
        let database_url = vars
            .get_nonempty("DATABASE_URL")
            .unwrap_or_else(|| "sqlite://chat_gateway.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError(
                "DATABASE_URL: expected sqlite://<file> or postgres://…".into(),
            ));
        }

        let Credentials { jwt, api_keys, dev } = secrets::credentials(vars, mode)?;

        let allowed: HashSet<String> =
            comma_list(&vars.get("ALLOWED_SYSTEM_IDS").unwrap_or_default())
                .into_iter()
                .map(|s| {
                    crate::identity::SystemId::parse(&s)
                        .map(|id| id.as_str().to_owned())
                        .map_err(|e| ConfigError(format!("ALLOWED_SYSTEM_IDS: {e}")))
                })
                .collect::<Result<_, _>>()?;
        let allowed_origins =
            comma_list(&vars.get("ALLOWED_CHAT_TOKEN_ORIGINS").unwrap_or_default())
                .iter()
                .map(|o| {
                    normalise_origin(o).ok_or_else(|| ConfigError(format!(
                "ALLOWED_CHAT_TOKEN_ORIGINS: {o:?} is not an origin (expected scheme://host[:port])"
            )))
                })
                .collect::<Result<Vec<_>, _>>()?;

        let upstreams = upstream_settings(vars, mode)?;
        let limits = Limits {
            max_body_bytes: vars.number("CHAT_GATEWAY_MAX_BODY_BYTES", 256 * 1024)?,
            max_message_chars: vars.number("CHAT_GATEWAY_MAX_MESSAGE_CHARS", 32_000)?,
        };

        let connections = ConnectionLimits {
            header_read_timeout: Duration::from_secs(
                vars.number("CHAT_GATEWAY_HEADER_READ_TIMEOUT_SECS", 10)?,
            ),
            idle_timeout: Duration::from_secs(vars.number("CHAT_GATEWAY_IDLE_TIMEOUT_SECS", 60)?),
            max_connections: vars.number("CHAT_GATEWAY_MAX_CONNECTIONS", 20_000)?,
            max_per_address: vars.number("CHAT_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS", 0)?,
        };
        if connections.header_read_timeout.is_zero() || connections.idle_timeout.is_zero() {
            return Err(ConfigError(
                "CHAT_GATEWAY_HEADER_READ_TIMEOUT_SECS and CHAT_GATEWAY_IDLE_TIMEOUT_SECS must be > 0"
                    .into(),
            ));
        }
        Ok(Config {
            mode,
            listen,
            public_url,
            public_url_is_default,
            database_url,
            jwt,
            api_keys,
            allowed_system_ids: (!allowed.is_empty()).then_some(allowed),
            allowed_origins,
            upstreams,
            limits,
            rates: rates::rate_limits(vars)?,
            budgets: rates::budgets(vars)?,
            revocation_refresh: Duration::from_secs(
                vars.number("CHAT_GATEWAY_REVOCATION_REFRESH_SECS", 5)?,
            )
            .max(Duration::from_secs(1)),
            connections,
            shutdown_grace: Duration::from_secs(
                vars.number("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", 30)?,
            ),
            resume_grace: Duration::from_secs(vars.number("CHAT_GATEWAY_RESUME_GRACE_SECS", 10)?),
            sync_every: background::sync_every(vars)?,
            archive: background::archive(vars)?,
            retention: match vars.number::<u32>("CHAT_GATEWAY_RETENTION_DAYS", 0)? {
                0 => None,
                days => Some(time::Duration::days(i64::from(days))),
            },
            sessions: operators::session_lifetimes(vars)?,
            dev,
            secret_key: operators::secret_key(vars)?,
            observability: observability(vars, mode)?,
        })
    }
}

/// `url` as it may be printed or logged: the password of its user part and
/// any `password=` parameter replaced by `***`
/// (`postgres://app:***@db/chat`).
pub fn redact_database_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &base[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme_end + 3], &base[at..]),
                None => base.to_owned(),
            }
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Comma-separated list, blanks trimmed, empties dropped.
fn comma_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `raw` as an http(s) base URL without a trailing `/`; `var` names it in
/// the error.
pub fn parse_base_url(var: &str, raw: &str) -> Result<String, ConfigError> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            ConfigError(format!(
                "{var}: {raw:?} must start with http:// or https://"
            ))
        })?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(ConfigError(format!("{var}: {raw:?} is not a base URL")));
    }
    Ok(url.to_owned())
}

impl Config {
    /// Record the address actually bound (matters when the port was 0).
    pub fn bound_to(&mut self, addr: SocketAddr) {
        self.listen = addr;
        if self.public_url_is_default {
            self.public_url = default_public_url(addr);
        }
    }
}

fn default_public_url(listen: SocketAddr) -> String {
    let host = match listen.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", listen.port())
}

/// Normalise an origin or URL to `scheme://host[:port]`, lower-case, without
/// path, query or trailing `/`. `None` when it is not an http(s) origin.
pub fn normalise_origin(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let (scheme, rest) = raw.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests;
