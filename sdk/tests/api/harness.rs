//! A real gateway, started in-process by the test kit on a free port with
//! its own SQLite file and a fake Dify upstream, and small stand-in servers
//! for answers a healthy gateway never gives (a proxy's HTML page, a broken
//! stream).

use sdk::jwt::JwtSecret;
use sdk::{BearerToken, ChatLinks, Client};
use testkit::Upstream;
use testkit::fake_dify::{FakeDify, FakeOptions};
use tokio::net::TcpListener;

/// The secret the test gateways sign chat tokens with.
pub(crate) const SECRET: &str = "sdk-api-tests-secret-0123456789abcdef";
/// The API key the test gateways accept.
pub(crate) const API_KEY: &str = "sdk-api-tests-key-0123456789";
/// Stands for the fake Dify's URL in [`TestGateway::start_with`] values.
pub(crate) const DIFY_URL: &str = testkit::DIFY_URL;

/// A running gateway; stopped when dropped.
pub(crate) struct TestGateway {
    /// Its base URL.
    pub(crate) url: String,
    /// The fake Dify behind it (queue faults, add upstream-only history).
    pub(crate) fake: FakeDify,
    _server: testkit::TestGateway,
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
        let server = testkit::TestGateway::builder()
            .upstream(Upstream::Dify(options))
            .secret(SECRET)
            .api_key(API_KEY)
            .env("CHAT_GATEWAY_ENV", "development")
            .env("CHAT_GATEWAY_DEMO", "off")
            .envs(overrides)
            .start()
            .await
            .unwrap();
        Self {
            url: server.url().to_owned(),
            fake: server.fake().unwrap().clone(),
            _server: server,
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

/// Serve `router` on a free loopback port; returns its base URL.
pub(crate) async fn stand_in(router: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // A stand-in that failed would otherwise show up only as a timeout.
        if let Err(e) = axum::serve(listener, router).await {
            panic!("the stand-in server on {addr} stopped: {e}");
        }
    });
    format!("http://{addr}")
}
