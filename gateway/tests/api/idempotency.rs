//! `Idempotency-Key` on `POST /v1/chat` and `POST /v1/chat/completions`:
//! a retry with the same key and body is answered with the first result and
//! no second upstream call (counted on the fake Dify), on SQLite and on
//! PostgreSQL, including two replicas racing on one key.

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::traits::RequestOptionsBuilder;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestUserMessage, CreateChatCompletionRequest,
};
use futures::StreamExt;
use reqwest::StatusCode;
use sdk::StreamEvent;
use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions, Fault, Gate};
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway, Upstream};

use crate::support::{API_KEY, answer_of, code, json_of, read_events};

const KEY_HEADER: &str = "Idempotency-Key";
const REPLAYED: &str = "idempotent-replayed";

/// A gateway on SQLite or on a throwaway PostgreSQL (kept alive with it).
struct Keyed {
    gw: TestGateway,
    http: reqwest::Client,
    _postgres: Option<ThrowawayPostgres>,
}

#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

impl Keyed {
    async fn start(db: Db, options: FakeOptions) -> Self {
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

    fn fake(&self) -> &FakeDify {
        self.gw.fake().unwrap()
    }

    fn upstream_calls(&self) -> usize {
        self.fake().chats().len()
    }

    fn post(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.gw.url()))
            .header("X-API-Key", API_KEY)
            .header(KEY_HEADER, key)
    }

    fn openai(&self) -> Client<OpenAIConfig> {
        Client::with_config(
            OpenAIConfig::new()
                .with_api_base(format!("{}/v1", self.gw.url()))
                .with_api_key(API_KEY),
        )
    }
}

fn replayed(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(REPLAYED)
        .is_some_and(|v| v.as_bytes() == b"true")
}

fn chat_body(message: &str) -> Value {
    json!({"system_id": "drillquiz", "user_id": "alice", "message": message})
}

fn completion_request(question: &str, stream: bool) -> CreateChatCompletionRequest {
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

async fn a_blocking_chat_is_replayed(db: Db) {
    let k = Keyed::start(db, FakeOptions::default()).await;
    let first = k
        .post("/v1/chat", "order-1")
        .json(&chat_body("What is Rust?"))
        .send()
        .await
        .unwrap();
    assert!(!replayed(&first));
    let (status, body) = json_of(first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(k.upstream_calls(), 1);

    // The same request again, its keys in another order.
    let again = k
        .post("/v1/chat", "order-1")
        .body(r#"{"message":"What is Rust?","user_id":"alice","system_id":"drillquiz"}"#)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(replayed(&again));
    assert_eq!(json_of(again).await, (StatusCode::OK, body.clone()));
    assert_eq!(k.upstream_calls(), 1, "a replay does not call the upstream");

    // Another caller (a chat token of the same user) has keys of its own.
    let token = k.gw.token("drillquiz", "alice");
    let theirs = k
        .http
        .post(format!("{}/v1/chat", k.gw.url()))
        .bearer_auth(token)
        .header(KEY_HEADER, "order-1")
        .json(&json!({"message": "What is Rust?"}))
        .send()
        .await
        .unwrap();
    assert!(!replayed(&theirs));
    let (status, theirs) = json_of(theirs).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(theirs["message_id"], body["message_id"]);
    assert_eq!(k.upstream_calls(), 2);

    // The same key with another body is refused, and stores nothing.
    let (status, refused) = json_of(
        k.post("/v1/chat", "order-1")
            .json(&chat_body("What is Go?"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    assert_eq!(k.upstream_calls(), 2);
}

#[tokio::test]
async fn a_blocking_chat_is_replayed_on_sqlite() {
    a_blocking_chat_is_replayed(Db::Sqlite).await;
}

#[tokio::test]
async fn a_blocking_chat_is_replayed_on_postgres() {
    a_blocking_chat_is_replayed(Db::Postgres).await;
}

async fn a_streamed_chat_is_replayed_as_a_stream(db: Db) {
    let k = Keyed::start(db, FakeOptions::default()).await;
    let mut body = chat_body("Tell me about streams");
    body["stream"] = json!(true);
    let first = k.post("/v1/chat", "s-1").json(&body).send().await.unwrap();
    assert!(!replayed(&first));
    let first = read_events(first).await;
    let again = k.post("/v1/chat", "s-1").json(&body).send().await.unwrap();
    assert!(replayed(&again));
    let again = read_events(again).await;
    assert_eq!(k.upstream_calls(), 1);

    assert_eq!(answer_of(&again), answer_of(&first));
    assert!(!answer_of(&first).is_empty());
    let ids = |events: &[StreamEvent]| match events.last() {
        Some(StreamEvent::End {
            conversation_id,
            message_id,
            user_message_id,
            ..
        }) => (
            conversation_id.clone(),
            message_id.clone(),
            user_message_id.clone(),
        ),
        other => panic!("a stream ends with `end`: {other:?}"),
    };
    assert_eq!(ids(&again), ids(&first));
    assert!(matches!(again.first(), Some(StreamEvent::Start { .. })));
    // Nothing was stored twice.
    let (conversation, ..) = ids(&first);
    let resp = k
        .http
        .get(format!(
            "{}/v1/conversations/{conversation}/messages?system_id=drillquiz&user_id=alice",
            k.gw.url()
        ))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let (_, messages) = json_of(resp).await;
    assert_eq!(messages.as_array().map(Vec::len), Some(2), "{messages}");
}

#[tokio::test]
async fn a_streamed_chat_is_replayed_as_a_stream_on_sqlite() {
    a_streamed_chat_is_replayed_as_a_stream(Db::Sqlite).await;
}

#[tokio::test]
async fn a_streamed_chat_is_replayed_as_a_stream_on_postgres() {
    a_streamed_chat_is_replayed_as_a_stream(Db::Postgres).await;
}

async fn the_openai_door_replays_both_ways(db: Db) {
    let k = Keyed::start(db, FakeOptions::default()).await;
    let openai = k.openai();
    let create = |key: &'static str| {
        let openai = openai.clone();
        async move {
            openai
                .chat()
                .header(KEY_HEADER, key)
                .unwrap()
                .create(completion_request("What is Rust?", false))
                .await
                .unwrap()
        }
    };
    let first = create("c-1").await;
    let again = create("c-1").await;
    assert_eq!(k.upstream_calls(), 1);
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&first).unwrap(),
        "the replay is the first body"
    );

    // Streamed, under another key: chunks and [DONE] again, same text.
    let streamed = |key: &'static str| {
        let openai = openai.clone();
        async move {
            let mut stream = openai
                .chat()
                .header(KEY_HEADER, key)
                .unwrap()
                .create_stream(completion_request("Stream it", true))
                .await
                .unwrap();
            let (mut text, mut ids) = (String::new(), Vec::new());
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.unwrap();
                ids.push(chunk.id.clone());
                if let Some(piece) = chunk.choices.first().and_then(|c| c.delta.content.clone()) {
                    text.push_str(&piece);
                }
            }
            ids.dedup();
            (text, ids)
        }
    };
    let first = streamed("c-2").await;
    let again = streamed("c-2").await;
    assert_eq!(k.upstream_calls(), 2);
    assert!(!first.0.is_empty());
    assert_eq!(again, first, "same text under the same completion id");

    // The replay is marked; the first answer is not.
    let body = json!({"model": "drillquiz", "user": "alice",
        "messages": [{"role": "user", "content": "Marked?"}]});
    let first = k
        .post("/v1/chat/completions", "c-3")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(!replayed(&first));
    let again = k
        .post("/v1/chat/completions", "c-3")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(replayed(&again));
    assert_eq!(
        again.headers().get("x-conversation-id"),
        first.headers().get("x-conversation-id")
    );
    assert_eq!(k.upstream_calls(), 3);
}

#[tokio::test]
async fn the_openai_door_replays_both_ways_on_sqlite() {
    the_openai_door_replays_both_ways(Db::Sqlite).await;
}

#[tokio::test]
async fn the_openai_door_replays_both_ways_on_postgres() {
    the_openai_door_replays_both_ways(Db::Postgres).await;
}

async fn a_running_key_is_refused_with_retry_after(db: Db) {
    let gate = Gate::after(1);
    let k = Keyed::start(
        db,
        FakeOptions {
            gate: Some(gate.clone()),
            ..FakeOptions::default()
        },
    )
    .await;
    let mut body = chat_body("Hold this answer open");
    body["stream"] = json!(true);
    let first = k.post("/v1/chat", "held").json(&body).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    gate.held(1).await;

    let second = k.post("/v1/chat", "held").json(&body).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let retry_after: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let (_, refused) = json_of(second).await;
    assert_eq!(code(&refused), "idempotency_key_in_flight");
    // On the OpenAI door too, in its error shape.
    let completion = json!({"model": "drillquiz", "user": "alice", "stream": true,
        "messages": [{"role": "user", "content": "held"}]});
    let held_openai = k
        .post("/v1/chat/completions", "held-openai")
        .json(&completion)
        .send()
        .await
        .unwrap();
    assert_eq!(held_openai.status(), StatusCode::OK);
    gate.held(2).await;
    let second = k
        .post("/v1/chat/completions", "held-openai")
        .json(&completion)
        .send()
        .await
        .unwrap();
    assert!(second.headers().contains_key("retry-after"));
    let (status, refused) = json_of(second).await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::CONFLICT, "idempotency_key_in_flight")
    );
    assert!(
        refused["error"]["message"].is_string(),
        "OpenAI's shape: {refused}"
    );

    gate.open();
    let first = read_events(first).await;
    assert!(matches!(first.last(), Some(StreamEvent::End { .. })));
    assert!(held_openai.text().await.unwrap().contains("[DONE]"));
    let again = k.post("/v1/chat", "held").json(&body).send().await.unwrap();
    assert!(replayed(&again));
    assert_eq!(answer_of(&read_events(again).await), answer_of(&first));
    assert_eq!(k.upstream_calls(), 2);
}

#[tokio::test]
async fn a_running_key_is_refused_with_retry_after_on_sqlite() {
    a_running_key_is_refused_with_retry_after(Db::Sqlite).await;
}

#[tokio::test]
async fn a_running_key_is_refused_with_retry_after_on_postgres() {
    a_running_key_is_refused_with_retry_after(Db::Postgres).await;
}

#[tokio::test]
async fn a_failed_turn_is_replayed_as_the_same_error() {
    let k = Keyed::start(Db::Sqlite, FakeOptions::default()).await;
    k.fake().push_fault(Fault::Status {
        status: 500,
        code: "internal_server_error".into(),
        message: "boom".into(),
    });
    let first = k
        .post("/v1/chat", "fails")
        .json(&chat_body("Will fail"))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(first).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_GATEWAY, "upstream_error")
    );
    assert!(body["error"]["message_id"].is_string(), "{body}");
    let again = k
        .post("/v1/chat", "fails")
        .json(&chat_body("Will fail"))
        .send()
        .await
        .unwrap();
    assert!(replayed(&again));
    assert_eq!(json_of(again).await, (status, body));
    assert_eq!(k.upstream_calls(), 1);
}

#[tokio::test]
async fn malformed_keys_are_refused() {
    let k = Keyed::start(Db::Sqlite, FakeOptions::default()).await;
    for bad in ["two words", &"k".repeat(256), ""] {
        let (status, body) = json_of(
            k.post("/v1/chat", bad)
                .json(&chat_body("hi"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_invalid"),
            "{bad:?}"
        );
    }
    let (status, body) = json_of(
        k.post("/v1/chat/completions", "two words")
            .json(&json!({"model": "drillquiz", "user": "alice",
                "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_invalid")
    );
    assert_eq!(k.upstream_calls(), 0);
}

#[tokio::test]
async fn two_replicas_racing_on_one_key_call_the_upstream_once() {
    let postgres = ThrowawayPostgres::start().await.unwrap();
    let gate = Gate::after(1);
    let first = TestGateway::builder()
        .api_key(API_KEY)
        .database(Database::Url(postgres.url()))
        .upstream(Upstream::Dify(FakeOptions {
            gate: Some(gate.clone()),
            ..FakeOptions::default()
        }))
        .start()
        .await
        .unwrap();
    let fake = first.fake().unwrap().clone();
    let second = TestGateway::builder()
        .api_key(API_KEY)
        .database(Database::Url(postgres.url()))
        .upstream(Upstream::None)
        .env("DIFY_BASE_URL", first.fake_url().unwrap())
        .env("DIFY_API_KEY", FakeOptions::default().api_key)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let mut body = chat_body("Only once, please");
    body["stream"] = json!(true);
    let send = |url: String| {
        let (http, body) = (http.clone(), body.clone());
        async move {
            http.post(format!("{url}/v1/chat"))
                .header("X-API-Key", API_KEY)
                .header(KEY_HEADER, "raced")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let (a, b) = tokio::join!(send(first.url().to_owned()), send(second.url().to_owned()));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    gate.open();
    let winner = if a.status() == StatusCode::OK { a } else { b };
    let events = read_events(winner).await;
    assert!(matches!(events.last(), Some(StreamEvent::End { .. })));
    assert_eq!(fake.chats().len(), 1, "one upstream call for one key");
    // Either replica now replays it.
    for url in [first.url(), second.url()] {
        let resp = send(url.to_owned()).await;
        assert!(replayed(&resp));
        assert_eq!(answer_of(&read_events(resp).await), answer_of(&events));
    }
    assert_eq!(fake.chats().len(), 1);
}

#[tokio::test]
async fn the_sdk_client_sends_the_key() {
    let k = Keyed::start(Db::Sqlite, FakeOptions::default()).await;
    let client = sdk::Client::with_api_key(k.gw.url(), API_KEY).unwrap();
    let user = client.user("drillquiz", "erin");
    let request = sdk::ChatRequest::new("Once only");
    let first = user
        .chat_idempotent(request.clone(), "sdk-1")
        .await
        .unwrap();
    let again = user
        .chat_idempotent(request.clone(), "sdk-1")
        .await
        .unwrap();
    assert_eq!(again, first);
    let streamed = user
        .chat_stream_idempotent(request.clone(), "sdk-2")
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap();
    let restreamed = user
        .chat_stream_idempotent(request.clone(), "sdk-2")
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap();
    assert_eq!(
        (&restreamed.message_id, &restreamed.answer),
        (&streamed.message_id, &streamed.answer)
    );
    assert_eq!(k.upstream_calls(), 2);
    let reused = user
        .chat_idempotent(sdk::ChatRequest::new("Something else"), "sdk-1")
        .await
        .unwrap_err();
    assert_eq!(
        (reused.status(), reused.code()),
        (Some(422), Some(sdk::ErrorCode::IdempotencyKeyReused))
    );
}
