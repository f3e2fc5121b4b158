//! Keys refused on both doors: one whose request is still running, and
//! malformed ones.

use reqwest::StatusCode;
use sdk::StreamEvent;
use serde_json::json;
use testkit::fake_dify::{FakeOptions, Gate};

use super::{Db, Keyed, chat_body, replayed};
use crate::support::{answer_of, code, json_of, read_events};

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
    let first = k.send("/v1/chat", "held", &body).await;
    assert_eq!(first.status(), StatusCode::OK);
    gate.held(1).await;

    let second = k.send("/v1/chat", "held", &body).await;
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
        .send("/v1/chat/completions", "held-openai", &completion)
        .await;
    assert_eq!(held_openai.status(), StatusCode::OK);
    gate.held(2).await;
    let second = k
        .send("/v1/chat/completions", "held-openai", &completion)
        .await;
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
    let again = k.send("/v1/chat", "held", &body).await;
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
async fn malformed_keys_are_refused() {
    let k = Keyed::start(Db::Sqlite, FakeOptions::default()).await;
    for bad in ["two words", &"k".repeat(256), ""] {
        let (status, body) = json_of(k.send("/v1/chat", bad, &chat_body("hi")).await).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_invalid"),
            "{bad:?}"
        );
    }
    let (status, body) = json_of(
        k.send(
            "/v1/chat/completions",
            "two words",
            &json!({"model": "drillquiz", "user": "alice",
                "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_invalid")
    );
    assert_eq!(k.upstream_calls(), 0);
}
