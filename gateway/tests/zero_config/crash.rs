//! A gateway killed in the middle of an answer, then started again: the
//! cut question is offered for Retry, and a sync completes it from the
//! upstream's copy without storing anything twice.

use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions, Gate};

use crate::binary::{Running, start, start_with, stop};

#[tokio::test]
async fn a_question_cut_by_kill_9_is_failed_after_restart_and_retried_in_place() {
    let dir = tempfile::tempdir().unwrap();
    // A slow demo answer, so the gateway dies in the middle of it.
    let mut gw = start_with(dir.path(), &[("CHAT_GATEWAY_DEMO_DELAY_MS", "2000")]).await;
    let http = reqwest::Client::new();
    let mut stream = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&json!({"system_id": "demo", "user_id": "guest", "message": "Hello", "stream": true}))
        .send()
        .await
        .unwrap();
    let first = stream.chunk().await.unwrap().expect("a start event");
    let first = String::from_utf8_lossy(&first).into_owned();
    let started: Value = first
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .map(|data| serde_json::from_str(data.trim()).unwrap())
        .expect("the start event's data");
    assert_eq!(started["type"], "start", "{first}");
    let conversation = started["conversation_id"].as_str().unwrap().to_owned();
    let question = started["user_message_id"].as_str().unwrap().to_owned();
    gw.child.start_kill().unwrap();
    gw.child.wait().await.unwrap();
    drop(stream);

    let gw = start(dir.path()).await;
    let messages = |gw: &Running| {
        http.get(format!(
            "{}/v1/conversations/{conversation}/messages?system_id=demo&user_id=guest",
            gw.url
        ))
        .header("X-API-Key", &gw.api_key)
        .send()
    };
    let stored: Value = messages(&gw).await.unwrap().json().await.unwrap();
    let stored = stored.as_array().unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["id"], question.as_str());
    assert_eq!(
        stored[0]["status"], "failed",
        "Retry is offered: {stored:?}"
    );

    let retried: Value = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&json!({
            "system_id": "demo",
            "user_id": "guest",
            "message": "Hello",
            "conversation_id": conversation,
            "retry_message_id": question,
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(retried["user_message_id"], question.as_str(), "{retried}");
    let stored: Value = messages(&gw).await.unwrap().json().await.unwrap();
    let roles: Vec<_> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [("user", "complete"), ("assistant", "complete")],
        "the question is stored once: {stored}"
    );
    stop(gw).await;
}

/// The events of the SSE chunks read so far that carry `type`.
fn event_of(chunks: &str, kind: &str) -> Option<Value> {
    chunks
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find(|ev| ev["type"] == kind)
}

#[tokio::test]
async fn a_sync_after_kill_9_completes_the_cut_turn_in_its_own_conversation() {
    // A Dify that holds its answer after the first word: the gateway has
    // its upstream ids, and dies before the answer ends.
    let gate = Gate::after(1);
    let fake = FakeDify::new(FakeOptions {
        gate: Some(gate.clone()),
        ..Default::default()
    });
    let dify = fake.spawn().await.unwrap();
    let env = [
        ("DIFY_BASE_URL", dify.as_str()),
        ("DIFY_API_KEY", "app-fake"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut gw = start_with(dir.path(), &env).await;
    let http = reqwest::Client::new();
    let mut stream = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&json!({"system_id": "shop", "user_id": "ann", "message": "Hello there", "stream": true}))
        .send()
        .await
        .unwrap();
    let mut seen = String::new();
    while event_of(&seen, "delta").is_none() {
        let chunk = stream.chunk().await.unwrap().expect("a first word");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let conversation = event_of(&seen, "start").unwrap()["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    gate.held(1).await;
    gw.child.start_kill().unwrap();
    gw.child.wait().await.unwrap();
    drop(stream);
    gate.open();

    let gw = start_with(dir.path(), &env).await;
    let token: Value = http
        .get(format!(
            "{}/v1/chat-token?system_id=shop&user_id=ann",
            gw.url
        ))
        .header("X-API-Key", &gw.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let synced = http
            .post(format!("{}/v1/sync/me", gw.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(synced.status(), 200);
    }
    let listed: Value = http
        .get(format!(
            "{}/v1/conversations?system_id=shop&user_id=ann",
            gw.url
        ))
        .header("X-API-Key", &gw.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [conversation.as_str()], "no second conversation");
    let stored: Value = http
        .get(format!(
            "{}/v1/conversations/{conversation}/messages?system_id=shop&user_id=ann",
            gw.url
        ))
        .header("X-API-Key", &gw.api_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored: Vec<(&str, &str, &str)> = stored
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap(),
                m["status"].as_str().unwrap(),
                m["content"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            ("user", "complete", "Hello there"),
            ("assistant", "complete", "Echo: Hello there")
        ],
        "the question once, with the upstream's whole answer"
    );

    // The conversation goes on in the same upstream conversation.
    let next = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&json!({"system_id": "shop", "user_id": "ann", "message": "And then?", "conversation_id": conversation}))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 200);
    let chats = fake.chats();
    assert_eq!(chats.len(), 2);
    assert!(chats[1].conversation_id.is_some(), "{chats:?}");
    assert_eq!(fake.conversation_count(&chats[0].user), 1);
    stop(gw).await;
}
