//! A gateway killed in the middle of an answer, then started again.

use serde_json::{Value, json};

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
