//! Each system's upstreams and whether they answer, for the front page of
//! a signed-in operator.
//!
//! A round of checks probes every distinct upstream once, all at once,
//! with the cheap probe `chat-gateway check` uses
//! ([`crate::upstream::probe`]), each waiting at most [`PROBE_LIMIT`]. The
//! round's result is kept for [`FRESH_FOR`], or until the routing table is
//! swapped (a system or agent changed): page loads within that time call no
//! upstream, and loads that arrive while a round runs wait for that round
//! instead of starting their own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Mutex;

use super::{Catalog, CatalogError, SystemView};
use crate::identity::SystemId;
use crate::upstream::{RouteKey, Upstream, Upstreams};

/// How long a round of checks stands for the current state.
pub const FRESH_FOR: Duration = Duration::from_secs(30);

/// Longest wait for one upstream's answer.
const PROBE_LIMIT: Duration = Duration::from_secs(3);

/// What a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// It answered (for Dify and OpenAI-compatible, accepting the key); the
    /// built-in demo always is.
    Reachable,
    /// No answer in time, a refused key, or a server error.
    Unreachable,
    /// Not probed: the system is disabled.
    NotChecked,
}

/// One upstream of a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteHealth {
    /// The agent it serves; `None` for messages that name no agent.
    pub agent: Option<String>,
    /// `dify`, `n8n`, `openai` or `demo`.
    pub kind: &'static str,
    pub health: Health,
}

/// One system and its upstreams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemHealth {
    /// The system; `None` for the row that stands for every system the
    /// catalog does not list (answered by the shared upstream or the demo).
    pub system: Option<String>,
    pub enabled: bool,
    /// Empty when nothing would answer it.
    pub routes: Vec<RouteHealth>,
}

/// The last round of checks.
#[derive(Default)]
pub(super) struct HealthCache {
    last: Mutex<Option<Round>>,
}

struct Round {
    at: Instant,
    /// The routing table it checked.
    routes: Arc<Upstreams>,
    systems: Arc<Vec<SystemHealth>>,
}

impl Catalog {
    /// Every system with its upstreams' health, at most [`FRESH_FOR`] old.
    /// Callers filter by what the viewer may see.
    pub async fn health(&self) -> Result<Arc<Vec<SystemHealth>>, CatalogError> {
        let mut last = self.health.last.lock().await;
        let routes = self.routes();
        if let Some(round) = last.as_ref()
            && Arc::ptr_eq(&round.routes, &routes)
            && round.at.elapsed() < FRESH_FOR
        {
            return Ok(round.systems.clone());
        }
        let listed = self.list_systems().await?;
        let systems = Arc::new(check(&self.http, &routes, &listed).await);
        *last = Some(Round {
            at: Instant::now(),
            routes,
            systems: systems.clone(),
        });
        Ok(systems)
    }
}

/// A system's upstreams before they are probed.
struct Found {
    system: Option<String>,
    enabled: bool,
    /// Each agent (`None`: the default) and what answers it.
    routes: Vec<(Option<String>, Arc<dyn Upstream>)>,
}

/// One row per listed system, then the row for the others; each distinct
/// upstream probed once.
async fn check(
    http: &reqwest::Client,
    routes: &Upstreams,
    listed: &[SystemView],
) -> Vec<SystemHealth> {
    let mut rows: Vec<Found> = Vec::new();
    for view in listed {
        let Ok(id) = SystemId::parse(&view.id) else {
            continue;
        };
        let mut found = Vec::new();
        if let Some(upstream) = routes.resolve(&RouteKey::system(&id)) {
            found.push((None, upstream.clone()));
        }
        for agent in routes.agents(&id) {
            let key = RouteKey {
                system: &id,
                agent: Some(&agent.name),
            };
            if let Some(upstream) = routes.resolve(&key) {
                found.push((Some(agent.name.clone()), upstream.clone()));
            }
        }
        rows.push(Found {
            system: Some(view.id.clone()),
            enabled: view.enabled,
            routes: found,
        });
    }
    if let Some(upstream) = routes.for_unnamed_systems() {
        rows.push(Found {
            system: None,
            enabled: true,
            routes: vec![(None, upstream.clone())],
        });
    }

    let mut distinct: Vec<Arc<dyn Upstream>> = Vec::new();
    for row in rows.iter().filter(|row| row.enabled) {
        for (_, upstream) in &row.routes {
            if !distinct.iter().any(|d| same(d, upstream)) {
                distinct.push(upstream.clone());
            }
        }
    }
    let probes = distinct
        .iter()
        .map(|upstream| probe(http, upstream.as_ref()));
    let results = futures::future::join_all(probes).await;
    let health_of = |upstream: &Arc<dyn Upstream>| {
        distinct
            .iter()
            .zip(&results)
            .find(|(d, _)| same(d, upstream))
            .map_or(Health::NotChecked, |(_, health)| *health)
    };

    rows.into_iter()
        .map(|row| SystemHealth {
            system: row.system,
            enabled: row.enabled,
            routes: row
                .routes
                .into_iter()
                .map(|(agent, upstream)| RouteHealth {
                    agent,
                    kind: upstream.kind(),
                    health: if row.enabled {
                        health_of(&upstream)
                    } else {
                        Health::NotChecked
                    },
                })
                .collect(),
        })
        .collect()
}

/// Whether two routes are the same built upstream.
fn same(a: &Arc<dyn Upstream>, b: &Arc<dyn Upstream>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

async fn probe(http: &reqwest::Client, upstream: &dyn Upstream) -> Health {
    let Some(target) = upstream.target() else {
        // Nothing to reach: the demo answers from inside the gateway.
        return Health::Reachable;
    };
    match crate::upstream::probe::probe(http, &target, PROBE_LIMIT).await {
        Ok(_) => Health::Reachable,
        Err(e) => {
            tracing::info!(kind = upstream.kind(), error = %e, "an upstream did not pass its health probe");
            Health::Unreachable
        }
    }
}
