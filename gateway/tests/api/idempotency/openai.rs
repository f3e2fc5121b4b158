//! Keys on the OpenAI-compatible door (`POST /v1/chat/completions`).

use async_openai::traits::RequestOptionsBuilder;
use futures::StreamExt;
use serde_json::json;
use testkit::fake_dify::FakeOptions;

use super::{Db, KEY_HEADER, Keyed, completion_request, replayed};

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
    let first = k.send("/v1/chat/completions", "c-3", &body).await;
    assert!(!replayed(&first));
    let again = k.send("/v1/chat/completions", "c-3", &body).await;
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
