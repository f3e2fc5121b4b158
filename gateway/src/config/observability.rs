//! Logs and metrics settings: `CHAT_GATEWAY_LOG_FORMAT` and
//! `CHAT_GATEWAY_METRICS_TOKEN`.

use super::{ConfigError, EnvVars, Mode};

/// How the gateway can be watched.
#[derive(Clone, PartialEq, Eq)]
pub struct Observability {
    /// How log lines look.
    pub log_format: LogFormat,
    /// When set, `GET /metrics` needs `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
}

impl std::fmt::Debug for Observability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observability")
            .field("log_format", &self.log_format)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (production's default).
    Json,
    /// Text for people (development's default).
    Pretty,
}

pub(super) fn observability(vars: &EnvVars, mode: Mode) -> Result<Observability, ConfigError> {
    let log_format = match vars.get_nonempty("CHAT_GATEWAY_LOG_FORMAT").as_deref() {
        None if mode == Mode::Production => LogFormat::Json,
        None => LogFormat::Pretty,
        Some("json") => LogFormat::Json,
        Some("pretty") => LogFormat::Pretty,
        Some(other) => {
            return Err(ConfigError(format!(
                "CHAT_GATEWAY_LOG_FORMAT={other:?}: expected json or pretty"
            )));
        }
    };
    let metrics_token = vars.get_nonempty("CHAT_GATEWAY_METRICS_TOKEN");
    if let Some(token) = &metrics_token
        && token.len() < 16
    {
        return Err(ConfigError(format!(
            "CHAT_GATEWAY_METRICS_TOKEN: {} characters is too short to guess-proof (at least 16)",
            token.len()
        )));
    }
    Ok(Observability {
        log_format,
        metrics_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(mode: Mode, pairs: &[(&str, &str)]) -> Result<Observability, ConfigError> {
        observability(&EnvVars::from_pairs(pairs.iter().copied()), mode)
    }

    #[test]
    fn json_logs_by_default_in_production_and_text_in_development() {
        let production = read(Mode::Production, &[]).unwrap();
        assert_eq!(production.log_format, LogFormat::Json);
        let development = read(Mode::Development, &[]).unwrap();
        assert_eq!(development.log_format, LogFormat::Pretty);
        let chosen = read(Mode::Development, &[("CHAT_GATEWAY_LOG_FORMAT", "json")]).unwrap();
        assert_eq!(chosen.log_format, LogFormat::Json);
        let e = read(Mode::Production, &[("CHAT_GATEWAY_LOG_FORMAT", "xml")]).unwrap_err();
        assert!(e.0.contains("CHAT_GATEWAY_LOG_FORMAT"), "{e}");
    }

    #[test]
    fn a_metrics_token_must_be_long_and_never_shows_in_debug_output() {
        let e = read(Mode::Production, &[("CHAT_GATEWAY_METRICS_TOKEN", "short")]).unwrap_err();
        assert!(e.0.contains("CHAT_GATEWAY_METRICS_TOKEN"), "{e}");
        let token = "scrape-token-0123456789";
        let ok = read(Mode::Production, &[("CHAT_GATEWAY_METRICS_TOKEN", token)]).unwrap();
        assert_eq!(ok.metrics_token.as_deref(), Some(token));
        assert!(!format!("{ok:?}").contains(token));
    }
}
