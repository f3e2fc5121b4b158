//! What only n8n does: the chat widget's request, and its failures.

use serde_json::json;
use testkit::fake_n8n::{FakeN8nOptions, N8nAnswer, N8nFault};
use testkit::{TestGateway, Upstream};

use crate::kinds::{Gw, Kind, streamed_text};

#[tokio::test]
async fn the_webhook_gets_n8n_chat_body_with_bearer_token_and_metadata() {
    let gw = Kind::N8n(N8nAnswer::AgentJson).gateway().await;
    let (status, body) = gw
        .chat(
            json!({"system_id": "team", "user_id": "alice", "message": "Hi n8n",
            "inputs": {"language": "ko", "plan": "pro"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let requests = gw.server.fake_n8n().unwrap().requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.authorization.as_deref(), Some("Bearer n8n-fake-token"));
    let conversation = body["conversation_id"].as_str().unwrap();
    let user_message = body["user_message_id"].as_str().unwrap();
    assert_eq!(
        sent.body,
        json!({
            "action": "sendMessage",
            "sessionId": conversation,
            "chatInput": "Hi n8n",
            "metadata": {
                "system_id": "team",
                "user_id": "alice",
                "conversation_id": conversation,
                "message_id": user_message,
                "inputs": {"language": "ko", "plan": "pro"},
                "language": "ko"
            }
        })
    );
}

#[tokio::test]
async fn webhook_failures_are_clear_gateway_errors() {
    let gw = Kind::N8n(N8nAnswer::Streaming).gateway().await;
    let fake = gw.server.fake_n8n().unwrap().clone();
    for (fault, want_status, want_code) in [
        (N8nFault::NotRegistered, 502, "upstream_error"),
        (N8nFault::Html502, 502, "upstream_error"),
        (N8nFault::Status(429, "busy".into()), 429, "rate_limited"),
        (N8nFault::ErrorAfter(1), 502, "upstream_error"),
    ] {
        fake.push_fault(fault.clone());
        let (status, body) = gw
            .chat(json!({"system_id": "team", "user_id": "f", "message": "Still here?"}))
            .await;
        assert_eq!(
            (status.as_u16(), body["error"]["code"].as_str().unwrap()),
            (want_status, want_code),
            "{fault:?}: {body}"
        );
        assert!(body["error"]["message_id"].is_string(), "{fault:?}: {body}");
    }
}

#[tokio::test]
async fn an_error_chunk_mid_stream_keeps_the_part_as_failed() {
    let gw = Kind::N8n(N8nAnswer::Streaming).gateway().await;
    gw.server
        .fake_n8n()
        .unwrap()
        .push_fault(N8nFault::ErrorAfter(2));
    let events = gw
        .stream(json!({"system_id": "team", "user_id": "e", "message": "a b c d"}))
        .await;
    assert!(matches!(
        events.last(),
        Some(sdk::StreamEvent::Error { .. })
    ));
    let conversation = gw.only_conversation("e").await;
    let stored = gw.messages("e", &conversation).await;
    assert_eq!(stored[1].content, streamed_text(&events));
    assert_eq!(stored[1].content, "Echo: a");
    assert_eq!(stored[1].status, sdk::MessageStatus::Failed);
}

#[tokio::test]
async fn a_wrong_token_is_a_502_and_sync_skips_n8n_systems() {
    let server = TestGateway::builder()
        .upstream(Upstream::N8n(FakeN8nOptions::default()))
        .env("N8N_WEBHOOK_TOKEN", "wrong-token")
        .start()
        .await
        .unwrap();
    let gw = Gw {
        kind: Kind::N8n(N8nAnswer::AgentJson),
        http: reqwest::Client::new(),
        server,
    };
    let (status, body) = gw
        .chat(json!({"system_id": "team", "user_id": "w", "message": "hello"}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert!(!body.to_string().contains("wrong-token"));

    let resp = gw
        .http
        .post(format!("{}/v1/sync", gw.server.url()))
        .header("X-API-Key", gw.server.api_key())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["skipped"], json!(["team"]), "{body}");
    assert_eq!(body["errors"], json!([]), "{body}");
}
