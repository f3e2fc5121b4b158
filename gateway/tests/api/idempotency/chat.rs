//! Keys on the chat door (`POST /v1/chat`, and the SDK's client of it):
//! blocking and streamed answers, a failed turn, and two replicas racing.

use reqwest::StatusCode;
use sdk::StreamEvent;
use serde_json::json;
use testkit::fake_dify::{FakeOptions, Fault, Gate};
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway, Upstream};

use super::{Db, KEY_HEADER, Keyed, chat_body, replayed};
use crate::support::{API_KEY, answer_of, code, json_of, read_events};

async fn a_blocking_chat_is_replayed(db: Db) {
    let k = Keyed::start(db, FakeOptions::default()).await;
    let first = k
        .send("/v1/chat", "order-1", &chat_body("What is Rust?"))
        .await;
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
        k.send("/v1/chat", "order-1", &chat_body("What is Go?"))
            .await,
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
    let first = k.send("/v1/chat", "s-1", &body).await;
    assert!(!replayed(&first));
    let first = read_events(first).await;
    let again = k.send("/v1/chat", "s-1", &body).await;
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

#[tokio::test]
async fn a_failed_turn_is_replayed_as_the_same_error() {
    let k = Keyed::start(Db::Sqlite, FakeOptions::default()).await;
    k.fake().push_fault(Fault::Status {
        status: 500,
        code: "internal_server_error".into(),
        message: "boom".into(),
    });
    let first = k.send("/v1/chat", "fails", &chat_body("Will fail")).await;
    let (status, body) = json_of(first).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::BAD_GATEWAY, "upstream_error")
    );
    assert!(body["error"]["message_id"].is_string(), "{body}");
    let again = k.send("/v1/chat", "fails", &chat_body("Will fail")).await;
    assert!(replayed(&again));
    assert_eq!(json_of(again).await, (status, body));
    assert_eq!(k.upstream_calls(), 1);
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
