//! Which browser origins may call the API (CORS) and request chat tokens.
//!
//! Allowed: every origin in `ALLOWED_CHAT_TOKEN_ORIGINS`, the gateway's own
//! public origin, and — in development mode only — any loopback origin
//! (`http://localhost:<any port>`, `http://127.0.0.1:<any port>`), so local
//! sites work without configuration.
//!
//! This is a browser guard, not authentication: any program can send any
//! `Origin` header. It stops other web sites from using a key that leaked
//! into a page; it does not make a public key secret.

use std::collections::HashSet;

use crate::config::{Config, Mode, normalise_origin};

/// The listed origins plus the gateway's own, and loopback ones in
/// development (see the module docs).
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    exact: HashSet<String>,
    loopback: bool,
}

impl OriginPolicy {
    pub fn from_config(config: &Config) -> Self {
        let mut exact: HashSet<String> = config.allowed_origins.iter().cloned().collect();
        if let Some(own) = normalise_origin(&config.public_url) {
            exact.insert(own);
        }
        Self {
            exact,
            loopback: config.mode == Mode::Development,
        }
    }

    /// Whether `origin` (an `Origin` header, or a `Referer` URL) is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let Some(origin) = normalise_origin(origin) else {
            return false;
        };
        if self.exact.contains(&origin) {
            return true;
        }
        self.loopback && is_loopback(&origin)
    }

    /// The explicitly listed origins (for `frame-ancestors`).
    pub fn listed(&self) -> impl Iterator<Item = &str> {
        self.exact.iter().map(String::as_str)
    }

    /// Whether loopback origins are allowed (development mode).
    pub fn allows_loopback(&self) -> bool {
        self.loopback
    }
}

fn is_loopback(origin: &str) -> bool {
    let host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(loopback: bool) -> OriginPolicy {
        OriginPolicy {
            exact: ["https://quiz.example.com".to_owned()].into(),
            loopback,
        }
    }

    #[test]
    fn exact_origins_and_referers() {
        let p = policy(false);
        assert!(p.allows("https://quiz.example.com"));
        assert!(p.allows("https://QUIZ.example.com/page?x=1"));
        assert!(!p.allows("https://quiz.example.com.evil.com"));
        assert!(!p.allows("http://quiz.example.com"));
        assert!(!p.allows("http://localhost:3000"));
        assert!(!p.allows("null"));
    }

    #[test]
    fn loopback_only_in_development() {
        let p = policy(true);
        assert!(p.allows("http://localhost:3000"));
        assert!(p.allows("http://127.0.0.1:9"));
        assert!(p.allows("http://[::1]:8080"));
        assert!(!p.allows("http://localhost.evil.com"));
    }
}
