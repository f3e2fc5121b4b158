//! What only OpenAI-compatible upstreams do: the history sent with each
//! message, and OpenAI's error bodies.

use serde_json::{Value, json};
use testkit::fake_openai::OpenAiFault;

use crate::kinds::Kind;

#[tokio::test]
async fn each_message_carries_the_earlier_complete_turns() {
    let gw = Kind::OpenAi.gateway().await;
    let fake = gw.server.fake_openai().unwrap().clone();
    let (_, first) = gw
        .chat(json!({"system_id": "team", "user_id": "h", "message": "first question"}))
        .await;
    let conversation = first["conversation_id"].as_str().unwrap().to_owned();
    // A failed turn in between is not sent again.
    fake.push_fault(OpenAiFault::Status {
        status: 500,
        kind: "server_error".into(),
        code: None,
        message: "boom".into(),
    });
    let (status, _) = gw
        .chat(
            json!({"system_id": "team", "user_id": "h", "message": "lost question",
            "conversation_id": conversation}),
        )
        .await;
    assert_eq!(status, 502);
    let events = gw
        .stream(
            json!({"system_id": "team", "user_id": "h", "message": "third question",
            "conversation_id": conversation}),
        )
        .await;
    assert!(matches!(events.last(), Some(sdk::StreamEvent::End { .. })));

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    let roles_and_texts = |request: &Value| -> Vec<(String, String)> {
        request["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["role"].as_str().unwrap().to_owned(),
                    m["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pair = |role: &str, text: &str| (role.to_owned(), text.to_owned());
    assert_eq!(
        roles_and_texts(&requests[0]),
        [pair("user", "first question")]
    );
    assert_eq!(
        roles_and_texts(&requests[2]),
        [
            pair("user", "first question"),
            pair("assistant", "Echo: first question"),
            pair("user", "third question"),
        ]
    );
    let last = &requests[2];
    assert_eq!(last["model"], "fake-gpt");
    assert_eq!(last["stream"], true);
    assert_eq!(last["stream_options"], json!({"include_usage": true}));
    assert_eq!(last["user"], requests[0]["user"]);
    assert!(last["user"].as_str().unwrap().contains('h'));
    assert_eq!(requests[0]["stream"], false);
}

#[tokio::test]
async fn openai_errors_map_to_statuses_and_never_echo_the_key() {
    let gw = Kind::OpenAi.gateway().await;
    let fake = gw.server.fake_openai().unwrap().clone();

    fake.push_fault(OpenAiFault::RateLimited(17));
    let resp = gw
        .http
        .post(format!("{}/v1/chat", gw.server.url()))
        .header("X-API-Key", gw.server.api_key())
        .json(&json!({"system_id": "team", "user_id": "r", "message": "busy?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "17");

    fake.push_fault(OpenAiFault::ContextTooLong);
    let (status, body) = gw
        .chat(json!({"system_id": "team", "user_id": "r", "message": "long"}))
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (422, Some("validation_failed"))
    );
    assert!(
        body["error"]["message_id"].is_string(),
        "the question is kept: {body}"
    );

    fake.push_fault(OpenAiFault::Status {
        status: 401,
        kind: "invalid_request_error".into(),
        code: Some("invalid_api_key".into()),
        message: "Incorrect API key provided: sk-fake-0123****".into(),
    });
    let (status, body) = gw
        .chat(json!({"system_id": "team", "user_id": "r", "message": "key?"}))
        .await;
    assert_eq!(status, 502, "{body}");
    assert!(!body.to_string().contains("sk-fake"), "{body}");
}
