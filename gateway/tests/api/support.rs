//! A gateway started in-process on a free port (by the test kit), with a
//! fake Dify (or the demo upstream) behind it, and small helpers to call it
//! like a client.

use std::time::Duration;

use futures::StreamExt;
use reqwest::{RequestBuilder, StatusCode};
use sdk::sse::SseDecoder;
use sdk::{Message, StreamEvent};
use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions};
use testkit::{TestGateway, Upstream as TestUpstream};

pub(crate) const SECRET: &str = "test-secret-0123456789-0123456789-abcdef";
pub(crate) const API_KEY: &str = "test-api-key-0123456789";
pub(crate) const FAKE_KEY: &str = "app-fake";

/// Which upstream the gateway talks to.
pub(crate) enum Upstream {
    /// The fake Dify with these options.
    Dify(FakeOptions),
    /// The built-in demo upstream (no Dify configured).
    Demo,
}

pub(crate) struct Gateway {
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
    /// The fake Dify (not serving with the demo upstream).
    pub(crate) fake: FakeDify,
    /// Base URL of the fake Dify (empty with the demo upstream).
    pub(crate) fake_url: String,
    /// The gateway's database.
    pub(crate) database_url: String,
    server: TestGateway,
}

impl Gateway {
    /// A gateway in front of a fake Dify with default options.
    pub(crate) async fn start() -> Self {
        Self::with(Upstream::Dify(FakeOptions::default()), &[]).await
    }

    /// A gateway with the given upstream and extra environment variables.
    pub(crate) async fn with(upstream: Upstream, env: &[(&str, &str)]) -> Self {
        let upstream = match upstream {
            Upstream::Dify(options) => TestUpstream::Dify(options),
            Upstream::Demo => TestUpstream::Demo,
        };
        let server = TestGateway::builder()
            .upstream(upstream)
            .secret(SECRET)
            .api_key(API_KEY)
            .env("CHAT_GATEWAY_STREAM_IDLE_SECS", "5")
            .env("CHAT_GATEWAY_UPSTREAM_TIMEOUT_SECS", "5")
            .envs(env)
            .start()
            .await
            .unwrap();
        Self {
            url: server.url().to_owned(),
            http: reqwest::Client::new(),
            fake: server
                .fake()
                .cloned()
                .unwrap_or_else(|| FakeDify::new(FakeOptions::default())),
            fake_url: server.fake_url().unwrap_or_default().to_owned(),
            database_url: server.database_url().to_owned(),
            server,
        }
    }

    /// Stop the gateway gracefully and wait until it has; fails the test
    /// if the gateway ended with an error.
    pub(crate) async fn stop(&mut self) {
        self.server.stop().await.unwrap();
    }

    pub(crate) fn token(&self, system: &str, user: &str) -> String {
        self.server.token(system, user)
    }

    pub(crate) fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(format!("{}{path}", self.url))
    }

    pub(crate) fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(format!("{}{path}", self.url))
    }

    /// `POST /v1/chat` with the API key; returns status and JSON body.
    pub(crate) async fn chat(&self, body: Value) -> (StatusCode, Value) {
        let resp = self
            .post("/v1/chat")
            .header("X-API-Key", API_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        json_of(resp).await
    }

    /// `POST /v1/chat` streaming with the API key; the response as it arrives.
    pub(crate) async fn open_stream(&self, mut body: Value) -> reqwest::Response {
        body["stream"] = json!(true);
        self.post("/v1/chat")
            .header("X-API-Key", API_KEY)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// `POST /v1/chat` streaming with the API key; every event until the end.
    pub(crate) async fn stream(&self, body: Value) -> Vec<StreamEvent> {
        let resp = self.open_stream(body).await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "stream refused: {:?}",
            resp.text().await
        );
        read_events(resp).await
    }

    /// A conversation's messages, via the API.
    pub(crate) async fn messages(
        &self,
        system: &str,
        user: &str,
        conversation: &str,
    ) -> Vec<Message> {
        let resp = self
            .get(&format!(
                "/v1/conversations/{conversation}/messages?system_id={system}&user_id={user}"
            ))
            .header("X-API-Key", API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    /// A user's conversations, via the API.
    pub(crate) async fn conversations(&self, system: &str, user: &str) -> Vec<sdk::Conversation> {
        let resp = self
            .get(&format!(
                "/v1/conversations?system_id={system}&user_id={user}"
            ))
            .header("X-API-Key", API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }
}

/// Status and JSON body of a response (`Value::Null` for an empty body).
pub(crate) async fn json_of(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, value)
}

/// Read an SSE response to its end, checking that each `event:` name matches
/// the JSON `type`.
pub(crate) async fn read_events(resp: reqwest::Response) -> Vec<StreamEvent> {
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let mut body = resp.bytes_stream();
    let push = |ev: sdk::sse::SseEvent, events: &mut Vec<StreamEvent>| {
        // The tag is checked on the raw JSON against README.md's list, not
        // through the SDK's own types.
        let raw: Value = serde_json::from_str(&ev.data)
            .unwrap_or_else(|e| panic!("bad event data ({e}): {}", ev.data));
        let tag = raw["type"].as_str();
        assert_eq!(ev.event.as_deref(), tag, "event name and type differ");
        assert!(
            matches!(
                tag,
                Some("start" | "delta" | "replace" | "html" | "end" | "error")
            ),
            "not an event README.md names: {}",
            ev.data
        );
        let parsed: StreamEvent = serde_json::from_value(raw)
            .unwrap_or_else(|e| panic!("bad event data ({e}): {}", ev.data));
        events.push(parsed);
    };
    while let Some(chunk) = body.next().await {
        decoder.push(&chunk.unwrap());
        while let Some(ev) = decoder.next_event().unwrap() {
            push(ev, &mut events);
        }
    }
    while let Some(ev) = decoder.finish().unwrap() {
        push(ev, &mut events);
    }
    events
}

/// The answer text carried by a list of events.
pub(crate) fn answer_of(events: &[StreamEvent]) -> String {
    text_of(String::new(), events)
}

/// `text` with what `events` add to it, as a client puts an answer together.
pub(crate) fn text_of<'a>(
    mut text: String,
    events: impl IntoIterator<Item = &'a StreamEvent>,
) -> String {
    for ev in events {
        match ev {
            StreamEvent::Delta { text: t } => text.push_str(t),
            StreamEvent::Replace { text: t } => text.clone_from(t),
            _ => {}
        }
    }
    text
}

/// The error code of an error body.
pub(crate) fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// Poll `check` until it returns `Some`, for at most five seconds.
pub(crate) async fn eventually<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
