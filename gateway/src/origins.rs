//! Which browser origins may call the API (CORS) and request chat tokens.
//!
//! Allowed: every origin in `ALLOWED_CHAT_TOKEN_ORIGINS`, the gateway's own
//! public origin, and — in development mode only — any loopback origin
//! (`http://localhost:<any port>`, `http://127.0.0.1:<any port>`), so local
//! sites work without configuration. A system created at runtime adds its
//! own origins for itself (token minting, its chat page's
//! `frame-ancestors`); CORS, decided before the system is known, allows the
//! origins of every enabled runtime system.
//!
//! This is a browser guard, not authentication: any program can send any
//! `Origin` header. It stops other web sites from using a key that leaked
//! into a page; it does not make a public key secret.

use std::collections::HashSet;

use crate::config::{Config, Mode, normalise_origin};
use crate::directory::Directory;
use crate::identity::SystemId;

/// The listed origins plus the gateway's own, and loopback ones in
/// development (see the module docs).
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    exact: HashSet<String>,
    loopback: bool,
    /// Runtime systems and their origins.
    directory: Directory,
}

impl OriginPolicy {
    /// The configured policy; runtime systems' origins come from
    /// `directory`.
    pub fn from_config(config: &Config, directory: Directory) -> Self {
        let mut exact: HashSet<String> = config.allowed_origins.iter().cloned().collect();
        if let Some(own) = normalise_origin(&config.public_url) {
            exact.insert(own);
        }
        Self {
            exact,
            loopback: config.mode == Mode::Development,
            directory,
        }
    }

    /// Whether `origin` (an `Origin` header, or a `Referer` URL) is allowed
    /// for some system.
    pub fn allows(&self, origin: &str) -> bool {
        let Some(origin) = normalise_origin(origin) else {
            return false;
        };
        self.allows_configured(&origin) || self.directory.any_allows(&origin)
    }

    /// Whether `origin` is allowed for `system`: configured for every
    /// system, or one of `system`'s own.
    pub fn allows_for(&self, system: &SystemId, origin: &str) -> bool {
        let Some(origin) = normalise_origin(origin) else {
            return false;
        };
        self.allows_configured(&origin) || self.directory.origins_of(system).contains(&origin)
    }

    fn allows_configured(&self, origin: &str) -> bool {
        self.exact.contains(origin) || (self.loopback && is_loopback(origin))
    }

    /// The origins only `system` adds (for its chat page's `frame-ancestors`).
    pub fn own_origins(&self, system: &SystemId) -> Vec<String> {
        self.directory.origins_of(system)
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
            directory: Directory::default(),
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

    #[test]
    fn a_runtime_system_adds_origins_for_itself() {
        use crate::directory::{DirectoryEntry, Snapshot};
        let p = policy(false);
        let entry = |origin: &str| DirectoryEntry {
            enabled: true,
            origins: vec![origin.to_owned()],
        };
        p.directory.replace(Snapshot::new(
            [
                ("drill".to_owned(), entry("https://drill.example")),
                ("coin".to_owned(), entry("https://coin.example")),
            ]
            .into(),
        ));
        let drill = SystemId::parse("drill").unwrap();
        assert!(p.allows_for(&drill, "https://drill.example/page"));
        assert!(
            p.allows_for(&drill, "https://quiz.example.com"),
            "configured for all"
        );
        assert!(
            !p.allows_for(&drill, "https://coin.example"),
            "another system's"
        );
        assert!(p.allows("https://coin.example"), "CORS: some system's");
    }
}
