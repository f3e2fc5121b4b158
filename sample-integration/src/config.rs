//! The sample's configuration: the site's own variables (`SAMPLE_*`) and the
//! variables handed to the in-process gateway, read once at start-up.
//!
//! Invariants:
//! - the gateway and the CoinTutor backend share one JWT secret, and the
//!   DrillQuiz page uses one of the gateway's API keys: when
//!   `CHAT_GATEWAY_JWT_SECRET` or `CHAT_GATEWAY_API_KEY` is not set, a fresh
//!   one is generated for this run (and never printed);
//! - the gateway answers with its demo upstream unless configured otherwise
//!   (`CHAT_GATEWAY_DEMO` defaults to on, even in production mode);
//! - the site's origin is added to the gateway's `ALLOWED_CHAT_TOKEN_ORIGINS`
//!   once it is known (see [`crate::launch`]), so the DrillQuiz page's
//!   browser calls to `/v1/chat-token` pass in any mode.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use gateway::config::EnvVars;

/// The site's variables, with their meaning (`--help`, and the README).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "SAMPLE_LISTEN",
        "the site's listen address, default 127.0.0.1:3000",
    ),
    (
        "SAMPLE_URL",
        "the site's public base URL, default http://localhost:<port>",
    ),
    (
        "SAMPLE_TOKEN_TTL_SECS",
        "lifetime of the chat tokens CoinTutor's backend mints, default 900",
    ),
    (
        "SAMPLE_TOKEN_DELAY_MS",
        "answer CoinTutor's token endpoints this much later (to watch the widget load), default 0",
    ),
    (
        "SAMPLE_WIDGET_DIR",
        "the built widget (widget/build.sh), default widget/dist of this workspace",
    ),
];

/// Where `widget/build.sh` puts the widget, in this source tree.
const DEFAULT_WIDGET_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../widget/dist");

/// The sample's configuration.
#[derive(Debug, Clone)]
pub struct SampleConfig {
    /// Where the site listens.
    pub listen: SocketAddr,
    /// The site's public base URL, when set (else derived from the bound
    /// address, see [`crate::launch`]).
    pub public_url: Option<String>,
    /// Lifetime of CoinTutor's chat tokens.
    pub token_ttl: Duration,
    /// Extra wait before CoinTutor's token endpoints answer.
    pub token_delay: Duration,
    /// The built widget (`widget.js`, `widget_bg.wasm`, `loader.js`).
    pub widget_dir: PathBuf,
    /// The gateway's variables, with this sample's defaults filled in.
    pub gateway_vars: EnvVars,
}

/// A configuration mistake, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl SampleConfig {
    /// Read the configuration from `vars` (the process environment in the
    /// binary, a plain list in tests).
    pub fn from_env(vars: &EnvVars) -> Result<Self, ConfigError> {
        let listen = vars
            .get_nonempty("SAMPLE_LISTEN")
            .unwrap_or_else(|| "127.0.0.1:3000".into());
        let listen: SocketAddr = listen.parse().map_err(|_| {
            ConfigError(format!(
                "SAMPLE_LISTEN={listen:?}: expected host:port, e.g. 127.0.0.1:3000"
            ))
        })?;
        let public_url = match vars.get_nonempty("SAMPLE_URL") {
            None => None,
            Some(url) => Some(
                gateway::config::normalise_origin(&url)
                    .filter(|origin| origin.eq_ignore_ascii_case(url.trim().trim_end_matches('/')))
                    .ok_or_else(|| {
                        ConfigError(format!(
                            "SAMPLE_URL={url:?}: expected scheme://host[:port] (the site is served at the root)"
                        ))
                    })?,
            ),
        };
        let token_ttl = Duration::from_secs(number(vars, "SAMPLE_TOKEN_TTL_SECS", 900)?);
        if token_ttl.is_zero() {
            return Err(ConfigError("SAMPLE_TOKEN_TTL_SECS must be > 0".into()));
        }
        let token_delay = Duration::from_millis(number(vars, "SAMPLE_TOKEN_DELAY_MS", 0)?);
        let widget_dir = vars
            .get_nonempty("SAMPLE_WIDGET_DIR")
            .map_or_else(|| PathBuf::from(DEFAULT_WIDGET_DIR), PathBuf::from);

        let mut gateway_vars = vars.clone();
        let mut default = |name: &str, value: String| {
            if vars.get(name).is_none() {
                gateway_vars.set(name, value);
            }
        };
        default("CHAT_GATEWAY_JWT_SECRET", gateway::secrets::jwt_secret());
        default("CHAT_GATEWAY_API_KEY", gateway::secrets::api_key());
        default("DATABASE_URL", "sqlite://sample-integration.db".to_owned());
        default("CHAT_GATEWAY_DEMO", "on".to_owned());
        if gateway_vars
            .get("CHAT_GATEWAY_API_KEY")
            .is_none_or(|keys| keys.split(',').all(|k| k.trim().is_empty()))
        {
            return Err(ConfigError(
                "CHAT_GATEWAY_API_KEY is set but empty: the DrillQuiz page needs an API key".into(),
            ));
        }

        Ok(Self {
            listen,
            public_url,
            token_ttl,
            token_delay,
            widget_dir,
            gateway_vars,
        })
    }
}

fn number(vars: &EnvVars, name: &str, default: u64) -> Result<u64, ConfigError> {
    vars.number(name, default)
        .map_err(|_| ConfigError(format!("{name}: expected a whole number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> EnvVars {
        EnvVars::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn defaults_generate_shared_secrets_for_the_gateway() {
        let config = SampleConfig::from_env(&vars(&[])).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url, None);
        assert_eq!(config.token_ttl, Duration::from_secs(900));
        assert_eq!(config.token_delay, Duration::ZERO);
        assert!(config.widget_dir.ends_with("widget/dist"));
        let g = &config.gateway_vars;
        assert_eq!(g.get("CHAT_GATEWAY_JWT_SECRET").unwrap().len(), 64);
        assert!(g.get("CHAT_GATEWAY_API_KEY").unwrap().starts_with("tzc_"));
        assert_eq!(
            g.get("DATABASE_URL").as_deref(),
            Some("sqlite://sample-integration.db")
        );
        assert_eq!(g.get("CHAT_GATEWAY_DEMO").as_deref(), Some("on"));
        // Another start generates other secrets.
        let again = SampleConfig::from_env(&vars(&[])).unwrap();
        assert_ne!(
            again.gateway_vars.get("CHAT_GATEWAY_JWT_SECRET"),
            g.get("CHAT_GATEWAY_JWT_SECRET")
        );
    }

    #[test]
    fn given_values_win() {
        let config = SampleConfig::from_env(&vars(&[
            ("SAMPLE_LISTEN", "0.0.0.0:4000"),
            ("SAMPLE_URL", "https://site.example.com/"),
            ("SAMPLE_TOKEN_TTL_SECS", "5"),
            ("SAMPLE_TOKEN_DELAY_MS", "250"),
            (
                "CHAT_GATEWAY_JWT_SECRET",
                "a-secret-from-the-operator-0123456789",
            ),
            ("CHAT_GATEWAY_API_KEY", "key-one,key-two"),
            ("CHAT_GATEWAY_DEMO", "off"),
        ]))
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:4000");
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://site.example.com")
        );
        assert_eq!(config.token_ttl, Duration::from_secs(5));
        assert_eq!(config.token_delay, Duration::from_millis(250));
        let g = &config.gateway_vars;
        assert_eq!(
            g.get("CHAT_GATEWAY_JWT_SECRET").as_deref(),
            Some("a-secret-from-the-operator-0123456789")
        );
        assert_eq!(
            g.get("CHAT_GATEWAY_API_KEY").as_deref(),
            Some("key-one,key-two")
        );
        assert_eq!(g.get("CHAT_GATEWAY_DEMO").as_deref(), Some("off"));
    }

    #[test]
    fn the_readme_lists_every_variable() {
        let readme = include_str!("../README.md");
        for (name, _) in VARIABLES {
            assert!(readme.contains(&format!("| `{name}` |")), "{name}");
        }
    }

    #[test]
    fn mistakes_name_the_variable() {
        for (pairs, variable) in [
            (vec![("SAMPLE_LISTEN", "localhost")], "SAMPLE_LISTEN"),
            (vec![("SAMPLE_URL", "site.example.com")], "SAMPLE_URL"),
            (vec![("SAMPLE_URL", "https://h/sub/path")], "SAMPLE_URL"),
            (
                vec![("SAMPLE_TOKEN_TTL_SECS", "0")],
                "SAMPLE_TOKEN_TTL_SECS",
            ),
            (
                vec![("SAMPLE_TOKEN_DELAY_MS", "soon")],
                "SAMPLE_TOKEN_DELAY_MS",
            ),
            (
                vec![("CHAT_GATEWAY_API_KEY", " , ")],
                "CHAT_GATEWAY_API_KEY",
            ),
        ] {
            let err = SampleConfig::from_env(&vars(&pairs)).unwrap_err();
            assert!(err.to_string().contains(variable), "{err}");
        }
    }
}
