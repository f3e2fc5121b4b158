//! Systems and agents managed at runtime, merged with the ones from the
//! environment and the configuration file, and kept current on every
//! replica.
//!
//! - **What is stored**: systems (display name, allowed origins, enabled,
//!   default agent) and agents (kind, URL, sealed credential, model, system
//!   prompt, options, title, description, enabled), see
//!   [`crate::store::catalog`]. Credentials are sealed with
//!   `CHAT_GATEWAY_SECRET_KEY` ([`crate::sealing`]) before they reach the
//!   store and opened only to build an upstream.
//! - **Merging**: the environment and the configuration file are read-only
//!   here and win on a clash of names ([`Upstreams::with_runtime`]).
//! - **Hot reload**: [`Catalog::watch`] reads the store's catalog version
//!   every [`POLL_EVERY`]; when it moved, the catalog is loaded, the routing
//!   table rebuilt and swapped whole, and the [`Directory`] replaced. A turn
//!   already running holds its own `Arc` of its upstream, so a swap never
//!   changes the upstream of an answer in flight. A change made through
//!   this replica is applied at once ([`Catalog::reload`] after the write).
//! - **Health**: [`Catalog::health`] probes every system's upstreams for
//!   the front page, one shared round at most every [`FRESH_FOR`].

mod agents;
mod health;
mod probe;
mod systems;
mod views;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::config::UpstreamSettings;
use crate::directory::{Directory, DirectoryEntry, Snapshot};
use crate::sealing::SecretKey;
use crate::store::catalog::CatalogRecords;
use crate::store::{Store, StoreError};
use crate::upstream::{RuntimeAgent, RuntimeRoutes, UpstreamError, Upstreams};

pub use self::agents::rules::AgentOptions;
pub use self::health::{FRESH_FOR, Health, RouteHealth, SystemHealth};
pub use self::probe::{PROBE_USER, ProbeOutcome};
pub use self::views::{AgentInput, AgentView, Source, SystemInput, SystemView};

/// How often every replica checks whether the catalog changed. A change
/// reaches every replica within this plus one reload (well inside 5 s).
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// The live catalog. One per gateway process.
pub struct Catalog {
    store: Arc<dyn Store>,
    /// What the environment and the configuration file route, built once.
    env: Upstreams,
    settings: UpstreamSettings,
    /// `ALLOWED_SYSTEM_IDS`, when set (the read-only systems).
    env_systems: Vec<String>,
    http: reqwest::Client,
    key: Option<SecretKey>,
    routes: ArcSwap<Upstreams>,
    directory: Directory,
    /// The version last applied; `None` before the first load.
    applied: Mutex<Option<i64>>,
    /// The last round of upstream health checks (front page).
    health: health::HealthCache,
}

impl Catalog {
    /// A catalog routing only `env` until its first [`Self::reload`].
    pub fn new(
        env: Upstreams,
        settings: &UpstreamSettings,
        env_systems: Vec<String>,
        store: Arc<dyn Store>,
        directory: Directory,
        key: Option<SecretKey>,
    ) -> Result<Self, UpstreamError> {
        let http = crate::upstream::http::client(settings.timeouts, settings.http2)?;
        Ok(Self {
            store,
            routes: ArcSwap::from_pointee(env.clone()),
            env,
            settings: settings.clone(),
            env_systems,
            http,
            key,
            directory,
            applied: Mutex::new(None),
            health: health::HealthCache::default(),
        })
    }

    /// The routing table as of now. Hold the `Arc` for as long as one
    /// request needs a consistent view.
    pub fn routes(&self) -> Arc<Upstreams> {
        self.routes.load_full()
    }

    /// Load the stored catalog if its version moved since the last load,
    /// and apply it. Returns whether anything was applied.
    pub async fn reload(&self) -> Result<bool, StoreError> {
        let mut applied = self.applied.lock().await;
        let version = self.store.catalog_version().await?;
        if *applied == Some(version) {
            return Ok(false);
        }
        let records = self.store.load_catalog().await?;
        self.apply(&records);
        *applied = Some(records.version);
        Ok(true)
    }

    /// Poll the store every [`POLL_EVERY`] and apply changes, until
    /// `shutdown`. The first check is immediate.
    pub fn watch(self: Arc<Self>, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(POLL_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                if let Err(e) = self.reload().await {
                    tracing::warn!(error = %e, "reloading systems and agents failed; keeping the current ones");
                }
            }
        })
    }

    /// Apply a write made here at once (the poll would also, a little later).
    async fn reload_now(&self) {
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e, "applying a catalog change failed; the next poll retries");
        }
    }

    /// Build the routing table and the directory from `records` and swap
    /// both in. An agent that cannot be built (a credential sealed under
    /// another key) is left out and logged; the rest still apply.
    fn apply(&self, records: &CatalogRecords) {
        let mut by_system: BTreeMap<&str, Vec<RuntimeAgent>> = BTreeMap::new();
        for record in records.agents.iter().filter(|a| a.enabled) {
            match agents::rules::target_of(record, self.key.as_ref()) {
                Ok(target) => by_system
                    .entry(record.system_id.as_str())
                    .or_default()
                    .push(RuntimeAgent {
                        info: sdk::AgentInfo {
                            name: record.id.clone(),
                            title: record.title.clone(),
                            description: record.description.clone(),
                        },
                        upstream: crate::upstream::build(&target, &self.http, &self.settings),
                    }),
                Err(e) => tracing::error!(
                    system = %record.system_id,
                    agent = %record.id,
                    error = %e,
                    "a stored agent cannot be used"
                ),
            }
        }
        let mut runtime = Vec::new();
        for system in &records.systems {
            let agents = by_system.remove(system.id.as_str()).unwrap_or_default();
            let default = default_of(system.default_agent.as_deref(), &agents);
            runtime.push(RuntimeRoutes {
                system: system.id.clone(),
                default,
                agents,
            });
        }
        // Agents of systems from the environment: named agents only.
        for (system, agents) in by_system {
            runtime.push(RuntimeRoutes {
                system: system.to_owned(),
                default: None,
                agents,
            });
        }
        let table = self.env.with_runtime(runtime);
        let directory: HashMap<String, DirectoryEntry> = records
            .systems
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    DirectoryEntry {
                        enabled: s.enabled,
                        origins: s.allowed_origins.clone(),
                    },
                )
            })
            .collect();
        self.routes.store(Arc::new(table));
        self.directory.replace(Snapshot::new(directory));
        tracing::info!(
            version = records.version,
            systems = records.systems.len(),
            agents = records.agents.len(),
            "systems and agents loaded"
        );
    }
}

/// Why an operator's request was refused. Never carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A field is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A credential was given but there is no key to seal it with.
    #[error(
        "CHAT_GATEWAY_SECRET_KEY is not set, so credentials cannot be stored; set it (`chat-gateway secrets` prints one) and restart"
    )]
    NoSecretKey,
    /// The environment or the configuration file defines it.
    #[error("{0}")]
    ReadOnly(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_PROMPT_CHARS: usize = 20_000;
const MAX_CREDENTIAL_BYTES: usize = 4_096;
const MAX_ORIGINS: usize = 50;

fn invalid(message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid(message.into())
}

fn text_field(
    name: &str,
    value: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, CatalogError> {
    match value {
        Some(v) if v.chars().count() > max_chars => Err(invalid(format!(
            "{name} is longer than {max_chars} characters"
        ))),
        Some(v) if v.contains('\0') => Err(invalid(format!("{name} contains a NUL character"))),
        other => Ok(other),
    }
}

/// The upstream answering a runtime system's messages that name no agent:
/// its default agent, else its only agent, else none (the shared upstream).
fn default_of(
    named: Option<&str>,
    agents: &[RuntimeAgent],
) -> Option<Arc<dyn crate::upstream::Upstream>> {
    match named {
        Some(name) => agents
            .iter()
            .find(|a| a.info.name == name)
            .map(|a| a.upstream.clone()),
        None if agents.len() == 1 => agents.first().map(|a| a.upstream.clone()),
        None => None,
    }
}
