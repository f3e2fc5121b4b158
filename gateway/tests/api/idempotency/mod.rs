//! `Idempotency-Key` on `POST /v1/chat` and `POST /v1/chat/completions`:
//! a retry with the same key and body is answered with the first result and
//! no second upstream call (counted on the fake Dify), on SQLite and on
//! PostgreSQL, including two replicas racing on one key. One file per door
//! (`chat`, `openai`) and one for the keys refused on both (`refusals`);
//! this one holds the gateway they run on and the requests they send.

mod chat;
mod openai;
mod refusals;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
};
use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions};
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway, Upstream};

use crate::support::API_KEY;

pub(super) const KEY_HEADER: &str = "Idempotency-Key";
const REPLAYED: &str = "idempotent-replayed";

/// A gateway on SQLite or on a throwaway PostgreSQL (kept alive with it).
pub(super) struct Keyed {
    pub(super) gw: TestGateway,
    pub(super) http: reqwest::Client,
    _postgres: Option<ThrowawayPostgres>,
}

#[derive(Clone, Copy)]
pub(super) enum Db {
    Sqlite,
    Postgres,
}

impl Keyed {
    pub(super) async fn start(db: Db, options: FakeOptions) -> Self {
        let postgres = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(ThrowawayPostgres::start().await.unwrap()),
        };
        let mut builder = TestGateway::builder()
            .api_key(API_KEY)
            .upstream(Upstream::Dify(options));
        if let Some(pg) = &postgres {
            builder = builder.database(Database::Url(pg.url()));
        }
        Self {
            gw: builder.start().await.unwrap(),
            http: reqwest::Client::new(),
            _postgres: postgres,
        }
    }

    pub(super) fn fake(&self) -> &FakeDify {
        self.gw.fake().unwrap()
    }

    pub(super) fn upstream_calls(&self) -> usize {
        self.fake().chats().len()
    }

    /// `POST path` with `body` under `key`.
    pub(super) async fn send(&self, path: &str, key: &str, body: &Value) -> reqwest::Response {
        self.post(path, key).json(body).send().await.unwrap()
    }

    pub(super) fn post(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.gw.url()))
            .header("X-API-Key", API_KEY)
            .header(KEY_HEADER, key)
    }

    pub(super) fn openai(&self) -> Client<OpenAIConfig> {
        Client::with_config(
            OpenAIConfig::new()
                .with_api_base(format!("{}/v1", self.gw.url()))
                .with_api_key(API_KEY),
        )
    }
}

pub(super) fn replayed(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(REPLAYED)
        .is_some_and(|v| v.as_bytes() == b"true")
}

pub(super) fn chat_body(message: &str) -> Value {
    json!({"system_id": "drillquiz", "user_id": "alice", "message": message})
}

pub(super) fn completion_request(question: &str, stream: bool) -> CreateChatCompletionRequest {
    #[expect(
        deprecated,
        reason = "`user` is the field this door reads the end user from"
    )]
    CreateChatCompletionRequest {
        model: "drillquiz".to_owned(),
        messages: vec![ChatCompletionRequestMessage::User(
            ChatCompletionRequestUserMessage::from(question),
        )],
        user: Some("alice".to_owned()),
        stream: Some(stream),
        ..CreateChatCompletionRequest::default()
    }
}
