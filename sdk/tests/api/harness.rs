//! A real gateway, started in-process on a free port with its own SQLite file
//! and a fake Dify upstream, and small stand-in servers for answers a healthy
//! gateway never gives (a proxy's HTML page, a broken stream).

use gateway::App;
use gateway::config::{Config, EnvVars};
use gateway::fake_dify::{FakeDify, FakeOptions};
use sdk::jwt::JwtSecret;
use sdk::{BearerToken, ChatLinks, Client};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The secret the test gateways sign chat tokens with.
pub(crate) const SECRET: &str = "sdk-api-tests-secret-0123456789abcdef";
/// The API key the test gateways accept.
pub(crate) const API_KEY: &str = "sdk-api-tests-key-0123456789";
/// Stands for the fake Dify's URL in [`TestGateway::start_with`] values.
pub(crate) const DIFY_URL: &str = "{dify}";

/// A running gateway; stopped when dropped.
pub(crate) struct TestGateway {
    /// Its base URL.
    pub(crate) url: String,
    /// The fake Dify behind it (queue faults, add upstream-only history).
    pub(crate) fake: FakeDify,
    stop: Option<oneshot::Sender<()>>,
    /// Holds the database file; removed when dropped.
    _dir: tempfile::TempDir,
}

impl TestGateway {
    /// A gateway whose every system is answered by the fake Dify.
    pub(crate) async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A gateway with extra (or overriding) environment variables; a value
    /// of [`DIFY_URL`] becomes the fake Dify's URL.
    pub(crate) async fn start_with(overrides: &[(&str, &str)]) -> Self {
        Self::start_with_fake(overrides, FakeOptions::default()).await
    }

    /// Like [`start_with`](Self::start_with), with a fake Dify of `options`.
    pub(crate) async fn start_with_fake(overrides: &[(&str, &str)], options: FakeOptions) -> Self {
        let fake = FakeDify::new(options);
        let dify_url = fake.spawn().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chat.db");
        let mut env = EnvVars::from_pairs([
            ("CHAT_GATEWAY_ENV", "development".to_owned()),
            ("CHAT_GATEWAY_JWT_SECRET", SECRET.to_owned()),
            ("CHAT_GATEWAY_API_KEY", API_KEY.to_owned()),
            ("DATABASE_URL", format!("sqlite://{}", db.display())),
            ("CHAT_GATEWAY_DEMO", "off".to_owned()),
            ("CHAT_GATEWAY_DEMO_DELAY_MS", "0".to_owned()),
            ("DIFY_BASE_URL", dify_url.clone()),
            ("DIFY_API_KEY", "app-fake".to_owned()),
        ]);
        for (name, value) in overrides {
            env.set(*name, value.replace(DIFY_URL, &dify_url));
        }
        let mut config = Config::from_env(&env).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        config.bound_to(listener.local_addr().unwrap());
        let url = config.public_url.clone();
        let app = App::build(config).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Self {
            url,
            fake,
            stop: Some(stop),
            _dir: dir,
        }
    }

    /// A server-to-server client with the gateway's API key.
    pub(crate) fn client(&self) -> Client {
        Client::with_api_key(&self.url, API_KEY).unwrap()
    }

    /// Chat links signed with the gateway's secret.
    pub(crate) fn links(&self) -> ChatLinks {
        ChatLinks::new(&self.url, JwtSecret::new(SECRET)).unwrap()
    }

    /// An end user's client, with a token minted by the SDK.
    pub(crate) fn user_client(&self, system_id: &str, user_id: &str) -> Client<BearerToken> {
        let token = self.links().token_for(system_id, user_id).unwrap();
        Client::with_bearer_token(&self.url, token).unwrap()
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serve `router` on a free loopback port; returns its base URL.
pub(crate) async fn stand_in(router: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}
