//! # tz-chat gateway
//!
//! One chat API in front of LLM back ends. Client systems authenticate with
//! API keys (servers) or short-lived chat tokens (end users); each system is
//! routed to its upstream (a Dify app, an n8n webhook, an OpenAI-compatible
//! API, or the built-in demo), or to one of its named agents; replies stream
//! back; every conversation and message is stored centrally.
//!
//! The binary (`chat-gateway`, see `main.rs`) only wires things together;
//! everything lives here so that tests, benchmarks and the sample site can
//! start a gateway in-process with [`App`].
//!
//! Where things are:
//! - [`config`]: the one configuration struct, from the environment (the
//!   only place that knows how variables are spelled, including each
//!   system's upstream target);
//! - [`identity`]: system and user ids, and the upstream user name;
//! - [`auth`]: API keys, chat tokens, the allowlist;
//! - [`store`]: the `Store` trait and its SQLite and PostgreSQL implementations;
//! - [`upstream`]: the `Upstream` trait and its optional history capability,
//!   the routing table from systems (and agents) to upstreams, the demo, and
//!   the Dify, n8n and OpenAI-compatible clients;
//! - [`chat`]: one chat turn — input checks, persistence rules, and the
//!   stream of turn events a door frames;
//! - [`routes`]: the HTTP API (framing turns as JSON, SSE, WebSocket frames
//!   or OpenAI chat completions); [`extract`]:
//!   request extractors, callers included; [`error`]: how failures become
//!   HTTP;
//! - [`operators`]: operator accounts, sessions, roles, scoped API keys
//!   and the audit log, and [`operators::Access`], the one extractor of
//!   every admin handler; [`scope`]: permissions and the systems they cover;
//! - [`pages`]: the chat page end users see, and its assets;
//! - [`stored_text`]: what text a request may hand the store;
//! - [`server`]: accepting connections, with their timeouts and limits.
//!
//! Dependencies point one way, with no cycles: `routes` → `extract`,
//! `chat` → `state` → `operators`, `auth`, `store`, `upstream`, `origins` →
//! `scope`, `config` → `identity`. `error` maps the store's and the upstreams' errors to HTTP;
//! `store` and `upstream` import neither `error` nor each other.

pub mod auth;
pub mod chat;
pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod identity;
pub mod markdown;
pub mod operators;
pub mod origins;
pub mod pages;
pub mod routes;
pub mod scope;
pub mod secrets;
pub mod server;
pub mod state;
pub mod store;
pub mod stored_text;
pub mod upstream;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::config::Config;
use crate::origins::OriginPolicy;
use crate::state::{AppState, Shared};
use crate::store::Store;
use crate::upstream::Upstreams;

/// A ready-to-serve gateway.
pub struct App {
    state: AppState,
}

impl App {
    /// Open the store and build the upstreams named by `config`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = store::open(&config.database_url).await?;
        let upstreams = Upstreams::from_settings(&config.upstreams)?;
        Self::from_parts(config, store, upstreams)
    }

    /// Assemble a gateway from parts (tests and benchmarks bring their own
    /// store or upstream).
    pub fn from_parts(
        config: Config,
        store: Arc<dyn Store>,
        upstreams: Upstreams,
    ) -> anyhow::Result<Self> {
        let auth = Auth::from_config(&config)?;
        let origins = OriginPolicy::from_config(&config);
        let keys = operators::keys::KeyCache::new(store.clone());
        Ok(Self {
            state: AppState::new(Shared {
                config,
                keys,
                store,
                upstreams,
                auth,
                origins,
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                draining: CancellationToken::new(),
                sockets: TaskTracker::new(),
            }),
        })
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The HTTP application.
    pub fn router(&self) -> Router {
        routes::router(self.state.clone())
    }

    /// Serve on `listener` until `shutdown` completes. Then stop accepting
    /// connections, let open requests and streams finish for up to
    /// `shutdown_grace`, cut what is still open (partial answers are stored
    /// and the clients told `shutting_down`), and wait for background writes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let token = self.state.shutdown.clone();
        let grace = self.state.config.shutdown_grace;
        let cut = token.clone();
        let draining = self.state.draining.clone();
        // The router is built once and shared by every connection.
        server::serve(
            listener,
            self.router(),
            self.state.config.connections,
            async move {
                shutdown.await;
                draining.cancel();
                tokio::spawn(async move {
                    tokio::time::sleep(grace).await;
                    cut.cancel();
                });
            },
        )
        .await?;
        // WebSockets outlive their HTTP connection: wait for them too, until
        // the grace period cuts what is still running.
        self.state.sockets.close();
        tokio::select! {
            () = self.state.sockets.wait() => {}
            () = token.cancelled() => {}
        }
        token.cancel();
        self.state.tasks.close();
        self.state.tasks.wait().await;
        self.state.sockets.wait().await;
        Ok(())
    }
}
