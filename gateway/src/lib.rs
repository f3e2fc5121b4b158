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
//! - [`catalog`]: systems and agents managed at runtime (stored, sealed
//!   credentials, hot reload), merged with the environment's; [`directory`]:
//!   which runtime systems exist, are disabled, and their origins;
//!   [`sealing`]: credentials encrypted at rest;
//! - [`upstream`]: the `Upstream` trait and its optional history capability,
//!   the routing table from systems (and agents) to upstreams, the demo, and
//!   the Dify, n8n and OpenAI-compatible clients;
//! - [`chat`]: one chat turn — input checks, persistence rules, and the
//!   stream of turn events a door frames;
//! - [`feedback`]: users' ratings of answers, stored and passed upstream;
//! - [`idempotency`]: `Idempotency-Key` on the chat doors (claimed keys,
//!   kept results);
//! - [`routes`]: the HTTP API (framing turns as JSON, SSE, WebSocket frames
//!   or OpenAI chat completions); [`extract`]:
//!   request extractors, callers included; [`error`]: how failures become
//!   HTTP;
//! - [`operators`]: operator accounts, sessions, roles, scoped API keys
//!   and the audit log, and [`operators::Access`], the one extractor of
//!   every admin handler; [`scope`]: permissions and the systems they cover;
//! - [`pages`]: the chat page end users see, the front page, and their
//!   assets;
//! - [`console`]: the operator console's viewer, exports, charts and
//!   retention (its store reads are `store::console`);
//! - [`stored_text`]: what text a request may hand the store;
//! - [`server`]: accepting connections, with their timeouts and limits;
//! - [`sync`]: importing upstream history, on request and on a schedule;
//! - [`archive`]: copying finished turns to S3-compatible storage;
//! - [`metrics`]: the Prometheus series; [`logs`]: log lines and traces;
//!   [`request_id`] and [`trace_context`]: what ties a request's log lines,
//!   error body and upstream calls together.
//!
//! Dependencies point one way, with no cycles: `routes` → `extract`,
//! `chat`, `feedback`, `idempotency` → `state` → `operators`, `sync`, `archive`, `catalog`, `auth`,
//! `store`, `upstream`, `origins`; `catalog` → `store`, `upstream`,
//! `directory`; `auth`, `origins` → `directory`, `scope` → `identity`; `config` →
//! `sealing`, `identity` (`sync` uses `store` and `upstream`, never `state`;
//! `cli` sits on top, beside `routes`). `error` maps the store's, the
//! upstreams', sync's and the catalog's errors to HTTP; `store` and
//! `upstream` import neither `error` nor each other. The console:
//! `routes`, `pages` → `console` → `store`. `metrics`, `request_id` and
//! `trace_context` are leaves anyone may import, and so is [`live`] (the
//! answers this process is streaming, for reattaching clients).

pub mod archive;
pub mod auth;
pub mod catalog;
pub mod chat;
pub mod cli;
pub mod config;
pub mod console;
pub mod directory;
pub mod error;
pub mod extract;
pub mod feedback;
pub mod idempotency;
pub mod identity;
pub mod limits;
pub mod live;
pub mod logs;
pub mod markdown;
pub mod metrics;
pub mod operators;
pub mod origins;
pub mod pages;
pub mod request_id;
pub mod revocation;
pub mod routes;
pub mod scope;
pub mod sealing;
pub mod secrets;
pub mod server;
pub mod state;
pub mod store;
pub mod stored_text;
pub mod sync;
pub mod trace_context;
pub mod upstream;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::Auth;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::limits::Limiters;
use crate::origins::OriginPolicy;
use crate::state::{AppState, Shared};
use crate::store::Store;
use crate::upstream::Upstreams;

/// A ready-to-serve gateway.
pub struct App {
    state: AppState,
}

/// How often idle rate-limit buckets are dropped.
const FORGET_IDLE_BUCKETS: std::time::Duration = std::time::Duration::from_secs(60);

impl App {
    /// Open the store and build the upstreams named by `config`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = store::open(&config.database_url).await?;
        let upstreams = Upstreams::from_settings(&config.upstreams)?;
        let app = Self::from_parts(config, store, upstreams)?;
        // Revocations count from the first request on.
        revocation::refresh(app.state.store.as_ref(), app.state.auth.revocations()).await?;
        app.state.catalog.reload().await?;
        Ok(app)
    }

    /// Assemble a gateway from parts (tests and benchmarks bring their own
    /// store or upstream).
    pub fn from_parts(
        config: Config,
        store: Arc<dyn Store>,
        upstreams: Upstreams,
    ) -> anyhow::Result<Self> {
        let auth = Auth::from_config(&config)?;
        let origins = OriginPolicy::from_config(&config, auth.directory().clone());
        let mut env_systems: Vec<String> = config
            .allowed_system_ids
            .iter()
            .flatten()
            .cloned()
            .collect();
        env_systems.sort();
        let catalog = Catalog::new(
            upstreams,
            &config.upstreams,
            env_systems,
            store.clone(),
            auth.directory().clone(),
            config.secret_key.clone(),
        )?;
        let archive = config
            .archive
            .as_ref()
            .map(archive::Archive::start)
            .transpose()?;
        let limits = Limiters::new(&config.rates);
        let keys = operators::keys::KeyCache::new(store.clone());
        Ok(Self {
            state: AppState::new(Shared {
                config,
                keys,
                store,
                catalog: Arc::new(catalog),
                auth,
                limits,
                origins,
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                draining: CancellationToken::new(),
                sockets: TaskTracker::new(),
                sync: crate::sync::SyncStatus::default(),
                archive,
                live: Arc::default(),
            }),
        })
    }

    /// Start the background upkeep that serving needs: reloading revoked
    /// tokens, and dropping idle rate-limit buckets. Both stop at shutdown.
    fn spawn_upkeep(&self) {
        let state = &self.state;
        tokio::spawn(revocation::refresh_every(
            state.store.clone(),
            state.auth.revocations().clone(),
            state.config.revocation_refresh,
            state.shutdown.clone(),
        ));
        let (limits, stop) = (state.clone(), state.shutdown.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FORGET_IDLE_BUCKETS);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = tick.tick() => limits.limits.forget_idle(),
                }
            }
        });
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
        if let Some(every) = self.state.config.sync_every {
            let stop = draining.clone();
            let state = self.state.clone();
            tokio::spawn(sync::schedule::run_every(every, stop, move |round| {
                let state = state.clone();
                async move {
                    sync::schedule::run_round(
                        state.store.as_ref(),
                        &state.catalog.routes(),
                        &state.sync,
                        round,
                    )
                    .await
                }
            }));
        }
        self.spawn_upkeep();
        // Every replica follows changes to systems and agents.
        let watcher = self.state.catalog.clone().watch(token.clone());
        if let Some(keep) = self.state.config.retention {
            self.state.tasks.spawn(console::retention::run(
                self.state.store.clone(),
                keep,
                self.state.draining.clone(),
            ));
        }
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
        // Every turn has finished: upload what the archive still holds.
        if let Some(archive) = &self.state.archive {
            archive.close().await;
        }
        watcher.abort();
        Ok(())
    }
}
