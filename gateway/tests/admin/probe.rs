//! "Test" on a system or an agent: one probe through the real upstream,
//! the answer or the upstream's error, a chat link, and nothing stored.

use reqwest::Method;
use serde_json::json;
use testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions, OpenAiFault};

use crate::support::{call, code, gateway};

#[tokio::test]
async fn a_probe_answers_or_shows_the_upstream_error_and_stores_nothing() {
    let fake = FakeOpenAi::new(FakeOpenAiOptions::default());
    let fake_url = fake.spawn().await.unwrap();
    let gw = gateway(&[]).await;
    let (status, _) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems",
        Some(json!({"id": "quiz"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents",
        Some(json!({
            "id": "tutor",
            "kind": "openai",
            "url": fake_url,
            "credential": fake.options().api_key,
            "model": "fake-gpt",
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (status, probe) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents/tutor/test",
        Some(json!({"message": "Are you there?"})),
    )
    .await;
    assert_eq!(status, 200, "{probe}");
    assert_eq!(
        (&probe["ok"], &probe["kind"], &probe["answer"]),
        (
            &json!(true),
            &json!("openai"),
            &json!("Echo: Are you there?")
        )
    );
    // The link opens the chat page as the test user.
    let link = probe["chat_url"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("{}/chat?token=", gw.url())),
        "{link}"
    );
    let page = reqwest::get(link).await.unwrap();
    assert_eq!(page.status(), 200);

    // The system's own test goes to its only agent; with no body too.
    let (status, probe) = call(&gw, Method::POST, "/v1/admin/systems/quiz/test", None).await;
    assert_eq!((status, &probe["ok"]), (200, &json!(true)), "{probe}");

    fake.push_fault(OpenAiFault::Status {
        status: 401,
        kind: "invalid_request_error".into(),
        code: Some("invalid_api_key".into()),
        message: "Incorrect API key provided".into(),
    });
    let (status, probe) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents/tutor/test",
        None,
    )
    .await;
    assert_eq!(status, 200, "{probe}");
    assert_eq!(probe["ok"], false);
    assert!(
        probe["error"]
            .as_str()
            .is_some_and(|e| e.contains("401") && e.contains("invalid_api_key")),
        "what the upstream said: {probe}"
    );

    // Probes are not conversations.
    let (status, listed) = call(
        &gw,
        Method::GET,
        "/v1/conversations?system_id=quiz&user_id=admin-test",
        None,
    )
    .await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed, json!([]), "{listed}");

    let (status, err) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents/nobody/test",
        None,
    )
    .await;
    assert_eq!((status, code(&err)), (404, "not_found"), "{err}");
}
