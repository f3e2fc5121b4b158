//! Which upstream serves which request, resolved once at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Upstream, UpstreamError, demo, dify, http};
use crate::config::{ConfiguredTarget, UpstreamSettings, UpstreamTarget, system_env_key};
use crate::identity::SystemId;

/// What a request is routed by: its system and, later, one of the system's
/// named agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteKey<'a> {
    /// The client system.
    pub system: &'a SystemId,
    /// The agent asked for. Every system has one upstream today, so this is
    /// carried but not yet used to choose.
    pub agent: Option<&'a str>,
}

impl<'a> RouteKey<'a> {
    /// The system's default agent.
    pub fn system(system: &'a SystemId) -> Self {
        Self {
            system,
            agent: None,
        }
    }
}

/// A built upstream and the configuration it came from.
#[derive(Clone)]
struct Route {
    upstream: Arc<dyn Upstream>,
    /// [`ConfiguredTarget::source`]; empty for upstreams handed in whole.
    source: String,
}

/// Which upstream serves which system.
///
/// Resolution for a system: its own target (`DIFY_<SYSTEM>_*`), else the
/// shared one, else the demo upstream when enabled, else none (requests get
/// 503 `not_configured`).
#[derive(Clone)]
pub struct Upstreams {
    /// Keyed by [`system_env_key`], as the configuration spells systems.
    per_system: HashMap<String, Route>,
    shared: Option<Route>,
    fallback: Option<Arc<dyn Upstream>>,
}

/// Build the upstream for one target. Every kind is one arm here.
fn build(
    target: &UpstreamTarget,
    http: &reqwest::Client,
    settings: &UpstreamSettings,
) -> Arc<dyn Upstream> {
    match target {
        UpstreamTarget::Dify(dify) => Arc::new(dify::DifyUpstream::new(
            http.clone(),
            dify.clone(),
            settings.timeouts,
        )),
    }
}

impl Upstreams {
    /// Build every configured upstream, sharing one HTTP connection pool.
    pub fn from_settings(settings: &UpstreamSettings) -> Result<Self, UpstreamError> {
        let http = http::client(settings.timeouts, settings.http2)?;
        let route = |configured: &ConfiguredTarget| Route {
            upstream: build(&configured.target, &http, settings),
            source: configured.source.clone(),
        };
        Ok(Self {
            per_system: settings
                .per_system
                .iter()
                .map(|(key, configured)| (key.clone(), route(configured)))
                .collect(),
            shared: settings.shared.as_ref().map(route),
            fallback: settings.demo.map(|demo| {
                Arc::new(demo::DemoUpstream::new(demo.word_delay)) as Arc<dyn Upstream>
            }),
        })
    }

    /// Registry with one upstream for every system (tests, benchmarks).
    pub fn single(upstream: Arc<dyn Upstream>) -> Self {
        Self {
            per_system: HashMap::new(),
            shared: Some(Route {
                upstream,
                source: String::new(),
            }),
            fallback: None,
        }
    }

    /// The upstream serving `key`, if any.
    pub fn resolve(&self, key: &RouteKey<'_>) -> Option<&Arc<dyn Upstream>> {
        if !self.per_system.is_empty()
            && let Some(route) = self.per_system.get(&system_env_key(key.system.as_str()))
        {
            return Some(&route.upstream);
        }
        self.shared
            .as_ref()
            .map(|route| &route.upstream)
            .or(self.fallback.as_ref())
    }

    /// One line per configured route, for the start-up banner.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .per_system
            .values()
            .map(|route| {
                format!(
                    "systems matching {}: {}",
                    route.source,
                    route.upstream.kind()
                )
            })
            .collect();
        lines.sort();
        let rest = if lines.is_empty() {
            "every system"
        } else {
            "other systems"
        };
        match (&self.shared, &self.fallback) {
            (Some(route), _) if route.source.is_empty() => {
                lines.push(format!("{rest}: {}", route.upstream.kind()));
            }
            (Some(route), _) => lines.push(format!(
                "{rest}: {} ({})",
                route.upstream.kind(),
                route.source
            )),
            (None, Some(up)) => lines.push(format!(
                "{rest}: {} (built in, no network; set DIFY_BASE_URL and DIFY_API_KEY for a real model)",
                up.kind()
            )),
            (None, None) => lines.push(format!("{rest}: none (answered with 503 not_configured)")),
        }
        lines
    }
}
