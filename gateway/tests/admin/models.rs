//! `GET /v1/models` (the OpenAI door) lists the systems created at runtime
//! and their agents beside the environment's, and leaves disabled ones out.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{call, gateway};

fn ids(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn models_lists_runtime_systems_and_their_agents() {
    let gw = gateway(&[("ALLOWED_SYSTEM_IDS", "drillquiz")]).await;
    for (id, enabled) in [("quiz", true), ("paused", false)] {
        let (status, body) = call(
            &gw,
            Method::POST,
            "/v1/admin/systems",
            Some(json!({"id": id, "enabled": enabled})),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents",
        Some(json!({
            "id": "tutor",
            "kind": "n8n",
            "url": "http://127.0.0.1:9/webhook/tutor",
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (status, list) = call(&gw, Method::GET, "/v1/models", None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), ["drillquiz", "quiz", "quiz/tutor"]);

    // A chat token sees its own system only, runtime or not.
    let token = gw.token("quiz", "ann");
    let bearer = format!("Bearer {token}");
    let (status, list) = crate::support::call_with(
        &gw,
        Method::GET,
        "/v1/models",
        None,
        &[("authorization", bearer.as_str())],
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), ["quiz", "quiz/tutor"]);

    // Enabled later, it is listed at once.
    let (status, _) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/paused",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, list) = call(&gw, Method::GET, "/v1/models", None).await;
    assert_eq!(ids(&list), ["drillquiz", "paused", "quiz", "quiz/tutor"]);
}
