//! The state every handler receives.

use std::ops::Deref;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::limits::Limiters;
use crate::operators::keys::KeyCache;
use crate::origins::OriginPolicy;
use crate::store::Store;

/// Shared, cheaply cloned application state.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] holds.
pub struct Shared {
    /// The configuration, loaded once.
    pub config: Config,
    /// Conversations and messages.
    pub store: Arc<dyn Store>,
    /// Systems and agents, and the routing table to their upstreams
    /// (swapped whole when they change at runtime).
    pub catalog: Arc<Catalog>,
    /// Keys and tokens.
    pub auth: Auth,
    /// Rate limits (per replica).
    pub limits: Limiters,
    /// The scoped API keys (`tzk_…`), as of the last reload.
    pub keys: KeyCache,
    /// Browser origins allowed for CORS and chat tokens.
    pub origins: OriginPolicy,
    /// Cancelled when the gateway starts shutting down.
    pub shutdown: CancellationToken,
    /// Background work (stream pumps) that must finish before exit.
    pub tasks: TaskTracker,
    /// Cancelled when the gateway stops accepting connections: open
    /// WebSockets finish their running answer, then close.
    pub draining: CancellationToken,
    /// Open WebSockets. The HTTP server does not wait for upgraded
    /// connections, so shutdown waits for these (within the grace period).
    pub sockets: TaskTracker,
    /// What the scheduled sync did (for metrics and the console).
    pub sync: crate::sync::SyncStatus,
    /// Where finished turns are copied (`CHAT_GATEWAY_ARCHIVE_URL`).
    pub archive: Option<crate::archive::Archive>,
    /// The answers this process is streaming, for clients that reattach.
    pub live: Arc<crate::live::LiveTurns>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
