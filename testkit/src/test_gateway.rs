//! A gateway served in-process on a free loopback port: the one way tests
//! start a gateway of their own.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use testkit::{TestGateway, Upstream};
//! use testkit::fake_dify::FakeOptions;
//!
//! let mut gw = TestGateway::builder()
//!     .upstream(Upstream::Dify(FakeOptions::default()))
//!     .env("CHAT_GATEWAY_STREAM_IDLE_SECS", "5")
//!     .start()
//!     .await?;
//! let token = gw.token("drillquiz", "alice");
//! # let _ = token;
//! gw.stop().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The listener is bound before the gateway is built, so the gateway knows
//! its own address (`CHAT_GATEWAY_PUBLIC_URL` defaults to it) and requests
//! can be sent as soon as [`TestGatewayBuilder::start`] returns.

use std::time::Duration;

use futures::FutureExt as _;
use gateway::App;
use gateway::config::{Config, EnvVars};
use gateway::state::AppState;
use sdk::jwt::{ChatClaims, JwtSecret, mint};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake_dify::{FakeDify, FakeOptions};
use crate::fake_n8n::{FakeN8n, FakeN8nOptions};
use crate::fake_openai::{FakeOpenAi, FakeOpenAiOptions};

/// The chat-token secret a test gateway signs with unless told otherwise.
pub const SECRET: &str = "testkit-secret-0123456789-0123456789-abcdef";
/// The API key a test gateway accepts unless told otherwise.
pub const API_KEY: &str = "testkit-api-key-0123456789";
/// In an [`env`](TestGatewayBuilder::env) value, stands for the fake Dify's
/// base URL (for variables naming several upstreams).
pub const DIFY_URL: &str = "{dify}";
/// How long [`TestGateway::stop`] waits for open requests and background
/// writes before calling the gateway stuck.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// What the gateway talks to.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// A fake Dify with these options, started for this gateway and named
    /// in `DIFY_BASE_URL`/`DIFY_API_KEY`.
    Dify(FakeOptions),
    /// A fake n8n webhook with these options, named in `N8N_WEBHOOK_URL`
    /// (and `N8N_WEBHOOK_TOKEN`).
    N8n(FakeN8nOptions),
    /// A fake OpenAI-compatible server with these options, named in
    /// `OPENAI_BASE_URL`, `OPENAI_API_KEY` and `OPENAI_MODEL`.
    OpenAi(FakeOpenAiOptions),
    /// The built-in demo, with no Dify configured.
    Demo,
    /// No upstream at all: no Dify, and `CHAT_GATEWAY_DEMO=off`.
    None,
}

/// Where the gateway stores conversations.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file in a temporary directory, removed with the gateway.
    SqliteFile,
    /// SQLite in memory.
    SqliteMemory,
    /// This `DATABASE_URL` (a throwaway PostgreSQL's, say).
    Url(String),
}

/// Why a test gateway did not start or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum TestGatewayError {
    /// The fake Dify or the listener could not be set up.
    #[error("setting up the test gateway: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration was refused.
    #[error("test gateway configuration: {0}")]
    Config(#[from] gateway::config::ConfigError),
    /// The store or the upstreams could not be opened.
    #[error("building the test gateway: {0:#}")]
    Build(anyhow::Error),
    /// Serving failed.
    #[error("the gateway stopped with an error: {0}")]
    Serve(std::io::Error),
    /// The serving task panicked or was cancelled.
    #[error("the gateway crashed: {0}")]
    Crashed(#[from] tokio::task::JoinError),
    /// [`TestGatewayBuilder::app`] was asked for a SQLite file.
    #[error("a gateway built without a server needs Database::SqliteMemory or Database::Url")]
    FileWithoutServer,
    /// It did not stop in time.
    #[error("the gateway did not stop within {STOP_WAIT:?}")]
    Stuck,
}

/// How to start a [`TestGateway`].
#[derive(Debug, Clone)]
pub struct TestGatewayBuilder {
    upstream: Upstream,
    database: Database,
    secret: String,
    api_key: String,
    env: Vec<(String, String)>,
}

impl Default for TestGatewayBuilder {
    fn default() -> Self {
        Self {
            upstream: Upstream::Dify(FakeOptions::default()),
            database: Database::SqliteFile,
            secret: SECRET.to_owned(),
            api_key: API_KEY.to_owned(),
            env: Vec::new(),
        }
    }
}

impl TestGatewayBuilder {
    /// The upstream (default: a fake Dify with default options).
    #[must_use]
    pub fn upstream(mut self, upstream: Upstream) -> Self {
        self.upstream = upstream;
        self
    }

    /// The store (default: a SQLite file in a temporary directory).
    #[must_use]
    pub fn database(mut self, database: Database) -> Self {
        self.database = database;
        self
    }

    /// The chat-token secret (default: [`SECRET`]).
    #[must_use]
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = secret.into();
        self
    }

    /// The API key (default: [`API_KEY`]).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Set an environment variable of the gateway's configuration, over
    /// the test defaults and over what the builder derives (a value may
    /// contain [`DIFY_URL`]).
    #[must_use]
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// [`env`](Self::env) for each pair.
    #[must_use]
    pub fn envs(mut self, pairs: &[(&str, &str)]) -> Self {
        for (name, value) in pairs {
            self = self.env(*name, *value);
        }
        self
    }

    /// Build the gateway without serving it (for driving its router
    /// directly), on [`Database::SqliteMemory`] or a [`Database::Url`]: a
    /// SQLite file would outlive nothing that removes it. The fake Dify, if
    /// any, is started but not kept: use [`start`](Self::start) when the test
    /// needs it.
    pub async fn app(self) -> Result<App, TestGatewayError> {
        if matches!(self.database, Database::SqliteFile) {
            return Err(TestGatewayError::FileWithoutServer);
        }
        let prepared = self.prepare().await?;
        App::build(prepared.config)
            .await
            .map_err(TestGatewayError::Build)
    }

    /// Start the fake upstream, bind `127.0.0.1:0`, build the gateway and
    /// serve it in the background. Requests may be sent at once.
    pub async fn start(self) -> Result<TestGateway, TestGatewayError> {
        let Prepared {
            mut config,
            fake,
            fake_url,
            stateless,
            dir,
        } = self.prepare().await?;
        let secret = self.secret;
        let api_key = self.api_key;
        let database_url = config.database_url.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        config.bound_to(addr);
        let app = App::build(config).await.map_err(TestGatewayError::Build)?;
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(app.serve(listener, async move {
            // A dropped sender stops the gateway as well.
            let _ = stopped.await;
        }));
        Ok(TestGateway {
            url: format!("http://{addr}"),
            api_key,
            secret,
            database_url,
            fake,
            fake_url,
            stateless,
            stop: Some(stop),
            serving: Some(serving),
            state,
            _dir: dir,
        })
    }

    async fn prepare(&self) -> Result<Prepared, TestGatewayError> {
        let dir = tempfile::tempdir()?;
        let database_url = match &self.database {
            Database::SqliteFile => format!("sqlite://{}", dir.path().join("gateway.db").display()),
            Database::SqliteMemory => "sqlite::memory:".to_owned(),
            Database::Url(url) => url.clone(),
        };
        let mut vars = EnvVars::from_pairs([
            ("CHAT_GATEWAY_JWT_SECRET", self.secret.as_str()),
            ("CHAT_GATEWAY_API_KEY", self.api_key.as_str()),
            ("DATABASE_URL", database_url.as_str()),
            ("CHAT_GATEWAY_DEMO_DELAY_MS", "0"),
            // Tests send in bursts no user would: rate limits are off
            // unless a test sets them.
            ("CHAT_GATEWAY_RATE_USER", "off"),
            ("CHAT_GATEWAY_RATE_API_KEY", "off"),
            ("CHAT_GATEWAY_RATE_TOKEN_MINT", "off"),
            // A client that leaves stops its answer at once, as the tests
            // of Stop expect, unless a test of resuming sets a grace.
            ("CHAT_GATEWAY_RESUME_GRACE_SECS", "0"),
        ]);
        let mut stateless = StatelessFakes::default();
        let (fake, fake_url) = match &self.upstream {
            Upstream::Dify(options) => {
                let fake = FakeDify::new(options.clone());
                let url = fake.spawn().await?;
                vars.set("DIFY_BASE_URL", url.clone());
                vars.set("DIFY_API_KEY", options.api_key.clone());
                (Some(fake), Some(url))
            }
            Upstream::N8n(options) => {
                let fake = FakeN8n::new(options.clone());
                vars.set("N8N_WEBHOOK_URL", fake.spawn().await?);
                if let Some(token) = &options.token {
                    vars.set("N8N_WEBHOOK_TOKEN", token.clone());
                }
                stateless.n8n = Some(fake);
                (None, None)
            }
            Upstream::OpenAi(options) => {
                let fake = FakeOpenAi::new(options.clone());
                vars.set("OPENAI_BASE_URL", fake.spawn().await?);
                vars.set("OPENAI_API_KEY", options.api_key.clone());
                vars.set("OPENAI_MODEL", options.model.clone());
                stateless.openai = Some(fake);
                (None, None)
            }
            Upstream::Demo => (None, None),
            Upstream::None => {
                vars.set("CHAT_GATEWAY_DEMO", "off");
                (None, None)
            }
        };
        for (name, value) in &self.env {
            let value = match &fake_url {
                Some(url) => value.replace(DIFY_URL, url),
                None => value.clone(),
            };
            vars.set(name.clone(), value);
        }
        Ok(Prepared {
            config: Config::from_env(&vars)?,
            fake,
            fake_url,
            stateless,
            dir,
        })
    }
}

struct Prepared {
    config: Config,
    fake: Option<FakeDify>,
    fake_url: Option<String>,
    stateless: StatelessFakes,
    dir: tempfile::TempDir,
}

/// The fake n8n or OpenAI-compatible server behind a gateway, if any.
#[derive(Default)]
struct StatelessFakes {
    n8n: Option<FakeN8n>,
    openai: Option<FakeOpenAi>,
}

/// A gateway serving in the background. Stops when dropped; a gateway that
/// crashed makes the drop (or [`stop`](Self::stop)) fail the test with its
/// error.
pub struct TestGateway {
    url: String,
    api_key: String,
    secret: String,
    database_url: String,
    fake: Option<FakeDify>,
    fake_url: Option<String>,
    stateless: StatelessFakes,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<std::io::Result<()>>>,
    state: AppState,
    /// Holds the SQLite file, if any; removed when dropped.
    _dir: tempfile::TempDir,
}

impl TestGateway {
    /// A builder with the defaults: fake Dify, SQLite file, [`SECRET`],
    /// [`API_KEY`].
    pub fn builder() -> TestGatewayBuilder {
        TestGatewayBuilder::default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The API key it accepts.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The secret it verifies chat tokens with.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Its state (the store, the key cache, the configuration), for tests
    /// that set up data the API cannot create, such as operators.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Its `DATABASE_URL`.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The fake Dify behind it (with [`Upstream::Dify`]).
    pub fn fake(&self) -> Option<&FakeDify> {
        self.fake.as_ref()
    }

    /// The fake Dify's base URL (with [`Upstream::Dify`]).
    pub fn fake_url(&self) -> Option<&str> {
        self.fake_url.as_deref()
    }

    /// The fake n8n webhook behind it (with [`Upstream::N8n`]).
    pub fn fake_n8n(&self) -> Option<&FakeN8n> {
        self.stateless.n8n.as_ref()
    }

    /// The fake OpenAI-compatible server behind it (with
    /// [`Upstream::OpenAi`]).
    pub fn fake_openai(&self) -> Option<&FakeOpenAi> {
        self.stateless.openai.as_ref()
    }

    /// A chat token for `user` of `system`, valid for an hour.
    ///
    /// # Panics
    /// If the secret cannot sign (an empty one).
    pub fn token(&self, system: &str, user: &str) -> String {
        self.token_with(&ChatClaims::new(system, user, Duration::from_secs(3600)))
    }

    /// A chat token with these claims.
    ///
    /// # Panics
    /// If the secret cannot sign (an empty one).
    #[expect(
        clippy::expect_used,
        reason = "test support: a bad secret is a broken test"
    )]
    pub fn token_with(&self, claims: &ChatClaims) -> String {
        mint(claims, &JwtSecret::new(self.secret.as_str())).expect("minting a chat token")
    }

    /// From now on, check chat tokens as if the clock were `by` later (a
    /// token expires when the test says so, not when a timer runs out).
    pub fn advance_token_clock(&self, by: Duration) {
        self.state.auth.advance_clock(by);
    }

    /// Stop gracefully (as on SIGTERM) and wait until open requests and
    /// background writes are done. The gateway's own error, if it failed
    /// while serving, is returned here.
    pub async fn stop(&mut self) -> Result<(), TestGatewayError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(serving) = self.serving.take() else {
            return Ok(());
        };
        tokio::time::timeout(STOP_WAIT, serving)
            .await
            .map_err(|_| TestGatewayError::Stuck)??
            .map_err(TestGatewayError::Serve)
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // A gateway that already ended on its own crashed: say so, unless
        // the test is failing anyway.
        let Some(mut serving) = self.serving.take() else {
            return;
        };
        if std::thread::panicking() || !serving.is_finished() {
            return;
        }
        let error = match (&mut serving).now_or_never() {
            Some(Ok(Err(e))) => TestGatewayError::Serve(e),
            Some(Err(e)) if e.is_panic() => TestGatewayError::Crashed(e),
            // Finished cleanly, or cancelled by a runtime shutting down.
            Some(Ok(Ok(())) | Err(_)) | None => return,
        };
        panic!("{error}");
    }
}
