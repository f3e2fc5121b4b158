//! The kinds the contract runs against, and what each needs to fail.

use futures::StreamExt;
use reqwest::StatusCode;
use sdk::sse::SseDecoder;
use sdk::{Message, StreamEvent};
use serde_json::{Value, json};
use testkit::fake_dify::{self, FakeOptions};
use testkit::fake_n8n::{FakeN8nOptions, N8nAnswer, N8nFault};
use testkit::fake_openai::{FakeOpenAiOptions, OpenAiFault};
use testkit::{TestGateway, Upstream};

/// An upstream kind, with the fake's options.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Dify,
    N8n(N8nAnswer),
    OpenAi,
}

/// Every kind and answer form.
pub(crate) const ALL: [Kind; 7] = [
    Kind::Dify,
    Kind::N8n(N8nAnswer::AgentJson),
    Kind::N8n(N8nAnswer::ItemsArray),
    Kind::N8n(N8nAnswer::PlainText),
    Kind::N8n(N8nAnswer::Streaming),
    Kind::N8n(N8nAnswer::SeedSse),
    Kind::OpenAi,
];

impl Kind {
    /// Whether answers arrive in pieces (a cut can then keep a part).
    pub(crate) fn streams(self) -> bool {
        !matches!(
            self,
            Kind::N8n(N8nAnswer::AgentJson | N8nAnswer::ItemsArray | N8nAnswer::PlainText)
        )
    }

    pub(crate) async fn gateway(self) -> Gw {
        let upstream = match self {
            Kind::Dify => Upstream::Dify(FakeOptions::default()),
            Kind::N8n(answer) => Upstream::N8n(FakeN8nOptions {
                answer,
                // Lines and events split across writes.
                piece_bytes: Some(7),
                ..FakeN8nOptions::default()
            }),
            Kind::OpenAi => Upstream::OpenAi(FakeOpenAiOptions {
                piece_bytes: Some(11),
                ..FakeOpenAiOptions::default()
            }),
        };
        let server = TestGateway::builder()
            .upstream(upstream)
            .env("CHAT_GATEWAY_STREAM_IDLE_SECS", "5")
            .env("CHAT_GATEWAY_UPSTREAM_TIMEOUT_SECS", "5")
            .start()
            .await
            .unwrap();
        Gw {
            kind: self,
            http: reqwest::Client::new(),
            server,
        }
    }
}

pub(crate) struct Gw {
    pub(crate) kind: Kind,
    pub(crate) http: reqwest::Client,
    pub(crate) server: TestGateway,
}

impl Gw {
    /// Make the next call fail with the upstream's server error.
    pub(crate) fn fail_next(&self) {
        match self.kind {
            Kind::Dify => self
                .server
                .fake()
                .unwrap()
                .push_fault(fake_dify::Fault::Status {
                    status: 500,
                    code: "internal_server_error".into(),
                    message: "secret detail from fake".into(),
                }),
            Kind::N8n(_) => self
                .server
                .fake_n8n()
                .unwrap()
                .push_fault(N8nFault::Status(500, "Error in workflow".into())),
            Kind::OpenAi => self
                .server
                .fake_openai()
                .unwrap()
                .push_fault(OpenAiFault::Status {
                    status: 500,
                    kind: "server_error".into(),
                    code: None,
                    message: "secret detail from fake".into(),
                }),
        }
    }

    /// Make the next stream stop after `words` pieces without its end.
    pub(crate) fn cut_next(&self, words: usize) {
        match self.kind {
            Kind::Dify => self
                .server
                .fake()
                .unwrap()
                .push_fault(fake_dify::Fault::CutAfter(words)),
            Kind::N8n(_) => self
                .server
                .fake_n8n()
                .unwrap()
                .push_fault(N8nFault::CutAfter(words)),
            Kind::OpenAi => self
                .server
                .fake_openai()
                .unwrap()
                .push_fault(OpenAiFault::CutAfter(words)),
        }
    }

    pub(crate) async fn chat(&self, body: Value) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/chat", self.server.url()))
            .header("X-API-Key", self.server.api_key())
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    pub(crate) async fn stream(&self, mut body: Value) -> Vec<StreamEvent> {
        body["stream"] = json!(true);
        let resp = self
            .http
            .post(format!("{}/v1/chat", self.server.url()))
            .header("X-API-Key", self.server.api_key())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{:?}", self.kind);
        let mut decoder = SseDecoder::new();
        let mut events = Vec::new();
        let mut bytes = resp.bytes_stream();
        while let Some(chunk) = bytes.next().await {
            decoder.push(&chunk.unwrap());
            while let Some(ev) = decoder.next_event().unwrap() {
                events.push(serde_json::from_str(&ev.data).unwrap());
            }
        }
        events
    }

    pub(crate) async fn messages(&self, user: &str, conversation: &str) -> Vec<Message> {
        let resp = self
            .http
            .get(format!(
                "{}/v1/conversations/{conversation}/messages?system_id=team&user_id={user}",
                self.server.url()
            ))
            .header("X-API-Key", self.server.api_key())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    pub(crate) async fn only_conversation(&self, user: &str) -> String {
        let resp = self
            .http
            .get(format!(
                "{}/v1/conversations?system_id=team&user_id={user}",
                self.server.url()
            ))
            .header("X-API-Key", self.server.api_key())
            .send()
            .await
            .unwrap();
        let list: Vec<sdk::Conversation> = resp.json().await.unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        list[0].id.clone()
    }
}

/// The text of a stream's deltas.
pub(crate) fn streamed_text(events: &[StreamEvent]) -> String {
    let mut text = String::new();
    for event in events {
        match event {
            StreamEvent::Delta { text: delta } => text.push_str(delta),
            StreamEvent::Replace { text: all } => text.clone_from(all),
            _ => {}
        }
    }
    text
}
