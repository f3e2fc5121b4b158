//! Which upstream serves which request: the table built at start-up from
//! the environment and the configuration file, extended with the systems
//! and agents stored at runtime ([`Upstreams::with_runtime`]; the catalog
//! rebuilds and swaps the whole table when they change).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use sdk::AgentInfo;

use super::{Upstream, UpstreamError, demo, dify, http, n8n, openai};
use crate::config::{ConfiguredTarget, UpstreamSettings, UpstreamTarget, system_env_key};
use crate::identity::SystemId;

/// What a request is routed by: its system and, later, one of the system's
/// named agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteKey<'a> {
    /// The client system.
    pub system: &'a SystemId,
    /// The named agent asked for; `None` for the system's own upstream.
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
    /// The demo, for systems with no target.
    fallback: Option<Route>,
    /// Named agents, keyed like `per_system`, then by name.
    agents: HashMap<String, BTreeMap<String, AgentRoute>>,
}

/// A named agent: its upstream and how pickers show it.
#[derive(Clone)]
struct AgentRoute {
    route: Route,
    info: AgentInfo,
}

/// The runtime routes of one system (from the database).
pub struct RuntimeRoutes {
    /// The system id (keyed like the configuration, see [`system_env_key`]).
    pub system: String,
    /// What answers messages that name no agent, if the system says.
    pub default: Option<Arc<dyn Upstream>>,
    /// Its enabled agents.
    pub agents: Vec<RuntimeAgent>,
}

/// One agent stored at runtime, built.
pub struct RuntimeAgent {
    pub info: AgentInfo,
    pub upstream: Arc<dyn Upstream>,
}

/// Where runtime routes say they came from (start-up banner).
const RUNTIME_SOURCE: &str = "/v1/admin";

/// Build the upstream for one target. Every kind is one arm here.
pub fn build(
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
        UpstreamTarget::N8n(target) => Arc::new(n8n::N8nUpstream::new(
            http.clone(),
            target.clone(),
            settings.timeouts,
        )),
        UpstreamTarget::OpenAi(target) => Arc::new(openai::OpenAiUpstream::new(
            http.clone(),
            target.clone(),
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
            fallback: settings.demo.map(|demo| Route {
                upstream: Arc::new(demo::DemoUpstream::new(demo.word_delay)),
                source: demo.source().to_owned(),
            }),
            agents: settings
                .agents
                .iter()
                .map(|(system, agents)| {
                    let agents = agents
                        .iter()
                        .map(|(name, agent)| {
                            let info = AgentInfo {
                                name: agent.name.clone(),
                                title: agent.title.clone(),
                                description: agent.description.clone(),
                            };
                            let route = route(&agent.target);
                            (name.clone(), AgentRoute { route, info })
                        })
                        .collect();
                    (system.clone(), agents)
                })
                .collect(),
        })
    }

    /// This table plus `runtime`. What the environment or the configuration
    /// file defines wins over a runtime entry of the same name.
    pub fn with_runtime(&self, runtime: Vec<RuntimeRoutes>) -> Self {
        let mut out = self.clone();
        for system in runtime {
            let key = system_env_key(&system.system);
            if let Some(upstream) = system.default {
                out.per_system.entry(key.clone()).or_insert(Route {
                    upstream,
                    source: RUNTIME_SOURCE.to_owned(),
                });
            }
            let agents = out.agents.entry(key).or_default();
            for agent in system.agents {
                agents
                    .entry(agent.info.name.clone())
                    .or_insert_with(|| AgentRoute {
                        route: Route {
                            upstream: agent.upstream,
                            source: RUNTIME_SOURCE.to_owned(),
                        },
                        info: agent.info,
                    });
            }
        }
        out.agents.retain(|_, agents| !agents.is_empty());
        out
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
            agents: HashMap::new(),
        }
    }

    /// The upstream serving `key`, if any. An agent the system does not
    /// have resolves to nothing (see [`Self::has_agent`]).
    pub fn resolve(&self, key: &RouteKey<'_>) -> Option<&Arc<dyn Upstream>> {
        if let Some(agent) = key.agent {
            return self
                .agents
                .get(&system_env_key(key.system.as_str()))
                .and_then(|agents| agents.get(agent))
                .map(|agent| &agent.route.upstream);
        }
        if !self.per_system.is_empty()
            && let Some(route) = self.per_system.get(&system_env_key(key.system.as_str()))
        {
            return Some(&route.upstream);
        }
        self.for_unnamed_systems()
    }

    /// What answers a system the configuration does not name: the shared
    /// upstream, else the demo.
    pub fn for_unnamed_systems(&self) -> Option<&Arc<dyn Upstream>> {
        self.shared
            .as_ref()
            .or(self.fallback.as_ref())
            .map(|route| &route.upstream)
    }

    /// Whether the configuration names `system`: an upstream or agents of
    /// its own (not the shared upstream or the demo).
    pub fn names_system(&self, system: &SystemId) -> bool {
        let key = system_env_key(system.as_str());
        self.per_system.contains_key(&key) || self.agents.contains_key(&key)
    }

    /// Whether `system` has an agent called `agent`.
    pub fn has_agent(&self, system: &SystemId, agent: &str) -> bool {
        self.agents
            .get(&system_env_key(system.as_str()))
            .is_some_and(|agents| agents.contains_key(agent))
    }

    /// The named agents of `system`, by name; empty when it has none (its
    /// own upstream answers everything).
    pub fn agents(&self, system: &SystemId) -> Vec<AgentInfo> {
        self.agents
            .get(&system_env_key(system.as_str()))
            .map(|agents| agents.values().map(|a| a.info.clone()).collect())
            .unwrap_or_default()
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
        for agents in self.agents.values() {
            lines.extend(agents.values().map(|agent| {
                format!(
                    "agent {}: {} ({})",
                    agent.info.name,
                    agent.route.upstream.kind(),
                    agent.route.source
                )
            }));
        }
        lines.sort();
        let rest = if lines.is_empty() {
            "every system"
        } else {
            "other systems"
        };
        match self.shared.as_ref().or(self.fallback.as_ref()) {
            Some(route) if route.source.is_empty() => {
                lines.push(format!("{rest}: {}", route.upstream.kind()));
            }
            Some(route) => lines.push(format!(
                "{rest}: {} ({})",
                route.upstream.kind(),
                route.source
            )),
            None => lines.push(format!("{rest}: none (answered with 503 not_configured)")),
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::config::{DemoSettings, DifyTarget, UpstreamHttp2, UpstreamTimeouts};

    fn dify(source: &str, base_url: &str) -> ConfiguredTarget {
        ConfiguredTarget {
            target: UpstreamTarget::Dify(DifyTarget {
                base_url: base_url.to_owned(),
                api_key: "app-test".to_owned(),
            }),
            source: source.to_owned(),
        }
    }

    fn settings(shared: bool) -> UpstreamSettings {
        UpstreamSettings {
            shared: shared.then(|| dify("DIFY_BASE_URL + DIFY_API_KEY", "http://shared.test")),
            per_system: BTreeMap::from([(
                "MY_APP".to_owned(),
                dify("DIFY_MY_APP_*", "http://my-app.test"),
            )]),
            agents: BTreeMap::new(),
            demo: Some(DemoSettings {
                word_delay: Duration::ZERO,
            }),
            timeouts: UpstreamTimeouts {
                connect: Duration::from_secs(1),
                request: Duration::from_secs(1),
                stream_idle: Duration::from_secs(1),
            },
            http2: UpstreamHttp2::Auto,
        }
    }

    fn resolved<'a>(upstreams: &'a Upstreams, system: &str) -> &'a Arc<dyn Upstream> {
        let system = SystemId::parse(system).unwrap();
        upstreams.resolve(&RouteKey::system(&system)).unwrap()
    }

    #[test]
    fn a_system_finds_its_own_target_by_its_env_spelling() {
        let upstreams = Upstreams::from_settings(&settings(true)).unwrap();
        let own = resolved(&upstreams, "my-app");
        assert!(Arc::ptr_eq(own, resolved(&upstreams, "MY.APP")));
        assert!(!Arc::ptr_eq(own, resolved(&upstreams, "other")));
        assert_eq!(resolved(&upstreams, "other").kind(), "dify");
    }

    #[test]
    fn the_demo_answers_only_without_a_shared_target() {
        let upstreams = Upstreams::from_settings(&settings(false)).unwrap();
        assert_eq!(resolved(&upstreams, "my-app").kind(), "dify");
        assert_eq!(resolved(&upstreams, "other").kind(), "demo");
    }

    #[test]
    fn the_banner_names_where_each_route_came_from() {
        let lines = Upstreams::from_settings(&settings(true))
            .unwrap()
            .describe();
        assert_eq!(
            lines,
            [
                "systems matching DIFY_MY_APP_*: dify",
                "other systems: dify (DIFY_BASE_URL + DIFY_API_KEY)",
            ]
        );
        let lines = Upstreams::from_settings(&settings(false))
            .unwrap()
            .describe();
        assert!(
            lines[1].starts_with("other systems: demo (built in"),
            "{lines:?}"
        );
    }
}
