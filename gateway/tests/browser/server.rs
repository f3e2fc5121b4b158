//! A gateway running in the test process (started by the test kit), on a
//! free loopback port, with an in-memory database, plus helpers to mint chat
//! tokens and read what the gateway stored through its API.

use sdk::jwt::ChatClaims;
use serde_json::Value;
use std::time::Duration;
use testkit::{Database, Upstream};

pub(crate) const SECRET: &str = "browser-tests-secret-0123456789abcdef";
pub(crate) const API_KEY: &str = "browser-tests-api-key-0123456789";

/// A running gateway. Stops when dropped.
pub(crate) struct TestGateway {
    pub(crate) base: String,
    http: reqwest::Client,
    server: testkit::TestGateway,
}

impl TestGateway {
    /// Start a gateway (development mode, demo upstream) with `extra`
    /// variables on top of the test defaults.
    pub(crate) async fn start(extra: &[(&str, &str)]) -> TestGateway {
        let server = testkit::TestGateway::builder()
            .upstream(Upstream::Demo)
            .database(Database::SqliteMemory)
            .secret(SECRET)
            .api_key(API_KEY)
            .env("CHAT_GATEWAY_DEMO_DELAY_MS", "2")
            .envs(extra)
            .start()
            .await
            .expect("start the gateway");
        TestGateway {
            base: server.url().to_owned(),
            http: reqwest::Client::new(),
            server,
        }
    }

    /// Add an operator, as `chat-gateway operator add` does.
    pub(crate) async fn add_operator(
        &self,
        email: &str,
        role: gateway::operators::Role,
        password: &str,
    ) {
        gateway::operators::accounts::add(&*self.server.state().store, email, role, None, password)
            .await
            .expect("add the operator");
    }

    /// Add an analyst who may see only `systems`.
    pub(crate) async fn add_analyst(&self, email: &str, systems: &[&str], password: &str) {
        let systems = systems.iter().map(|s| (*s).to_owned()).collect();
        gateway::operators::accounts::add(
            &*self.server.state().store,
            email,
            gateway::operators::Role::Analyst,
            Some(systems),
            password,
        )
        .await
        .expect("add the analyst");
    }

    /// A chat token for `user` of `system`, valid for an hour.
    pub(crate) fn token(&self, system: &str, user: &str) -> String {
        self.server.token(system, user)
    }

    /// A chat token for `user` of `system`, valid for `ttl`.
    pub(crate) fn token_valid_for(&self, system: &str, user: &str, ttl: Duration) -> String {
        self.server.token_with(&ChatClaims::new(system, user, ttl))
    }

    /// From now on the gateway checks tokens as if the clock were `by` later.
    pub(crate) fn advance_token_clock(&self, by: Duration) {
        self.server.advance_token_clock(by);
    }

    /// A token that expired an hour ago (well past the verifier's leeway).
    pub(crate) fn expired_token(&self, system: &str, user: &str) -> String {
        let mut claims = ChatClaims::new(system, user, Duration::from_secs(60));
        claims.exp -= 3600;
        claims.iat = claims.iat.map(|t| t - 3600);
        self.server.token_with(&claims)
    }

    /// The chat page URL for `token` with extra query parameters.
    pub(crate) fn chat_url(&self, token: &str, query: &str) -> String {
        let mut url = format!("{}/chat?token={token}", self.base);
        if !query.is_empty() {
            url.push('&');
            url.push_str(query);
        }
        url
    }

    /// `GET path` with the user's token; the JSON body.
    pub(crate) async fn get(&self, token: &str, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.unwrap()
    }

    /// The user's conversations, newest first.
    pub(crate) async fn conversations(&self, token: &str) -> Vec<Value> {
        match self.get(token, "/v1/conversations").await {
            Value::Array(list) => list,
            other => panic!("conversations: {other}"),
        }
    }

    /// The messages of a conversation, oldest first.
    pub(crate) async fn messages(&self, token: &str, id: &str) -> Vec<Value> {
        match self
            .get(token, &format!("/v1/conversations/{id}/messages"))
            .await
        {
            Value::Array(list) => list,
            other => panic!("messages: {other}"),
        }
    }

    /// Send a message through the API (blocking answer); the conversation id.
    pub(crate) async fn chat(&self, token: &str, message: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/v1/chat", self.base))
            .bearer_auth(token)
            .json(&serde_json::json!({ "message": message }))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "POST /v1/chat: {}",
            resp.status()
        );
        let body: Value = resp.json().await.unwrap();
        body["conversation_id"].as_str().unwrap().to_owned()
    }

    /// Rate an answer as its user (`rating`: `like` or `dislike`).
    pub(crate) async fn rate(&self, token: &str, message_id: &str, rating: &str, comment: &str) {
        let resp = self
            .http
            .post(format!("{}/v1/messages/{message_id}/feedback", self.base))
            .bearer_auth(token)
            .json(&serde_json::json!({ "rating": rating, "comment": comment }))
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "POST feedback: {}",
            resp.status()
        );
    }

    /// The running gateway's state, to run its background jobs now.
    pub(crate) fn state(&self) -> &gateway::state::AppState {
        self.server.state()
    }

    /// Delete a conversation through the API.
    pub(crate) async fn delete(&self, token: &str, id: &str) {
        let resp = self
            .http
            .delete(format!("{}/v1/conversations/{id}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 204, "DELETE conversation");
    }
}
