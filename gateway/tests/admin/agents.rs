//! Agents stored at runtime: they answer chats through the real upstream
//! clients, change without a restart, and keep their credential sealed.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::fake_n8n::{FakeN8n, FakeN8nOptions};
use testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions};

use crate::support::{call, code, gateway, gateway_without_key};

fn chat(agent: Option<&str>, message: &str) -> Value {
    let mut body = json!({"system_id": "quiz", "user_id": "ann", "message": message});
    if let Some(agent) = agent {
        body["agent"] = json!(agent);
    }
    body
}

async fn create_system(gw: &testkit::TestGateway, id: &str) {
    let (status, body) = call(
        gw,
        Method::POST,
        "/v1/admin/systems",
        Some(json!({"id": id})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_runtime_openai_agent_answers_and_follows_its_edits() {
    let fake = FakeOpenAi::new(FakeOpenAiOptions::default());
    let fake_url = fake.spawn().await.unwrap();
    let gw = gateway(&[]).await;
    create_system(&gw, "quiz").await;
    let secret = fake.options().api_key.clone();
    let (status, agent) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents",
        Some(json!({
            "id": "tutor",
            "kind": "openai",
            "url": fake_url,
            "credential": secret,
            "model": "fake-gpt",
            "system_prompt": "You are a patient tutor.",
            "options": {"temperature": 0.25},
            "title": "Tutor",
        })),
    )
    .await;
    assert_eq!(status, 201, "{agent}");
    assert_eq!(agent["has_credential"], true);
    assert_eq!(
        agent["credential_hint"],
        format!("…{}", &secret[secret.len() - 4..])
    );
    assert!(!agent.to_string().contains(&secret), "{agent}");

    // The chat API knows it at once, by name and as the only agent.
    let (status, listed) = call(&gw, Method::GET, "/v1/agents?system_id=quiz", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        listed["agents"],
        json!([{"name": "tutor", "title": "Tutor", "description": ""}])
    );
    for agent in [Some("tutor"), None] {
        let (status, answer) = call(
            &gw,
            Method::POST,
            "/v1/chat",
            Some(chat(agent, "What is 2+2?")),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["answer"], "Echo: What is 2+2?");
    }
    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["model"], "fake-gpt");
    assert_eq!(sent[0]["temperature"], 0.25);
    assert_eq!(
        sent[0]["messages"][0],
        json!({"role": "system", "content": "You are a patient tutor."})
    );

    // A new prompt applies to the next message, the credential kept.
    let (status, edited) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/quiz/agents/tutor",
        Some(json!({"system_prompt": "Answer in one word."})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["has_credential"], true);
    let (status, answer) = call(
        &gw,
        Method::POST,
        "/v1/chat",
        Some(chat(Some("tutor"), "Again")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        fake.requests()[2]["messages"][0]["content"],
        "Answer in one word."
    );

    // Disabled, the agent is gone from routing; deleted, from the API.
    let (status, _) = call(
        &gw,
        Method::PATCH,
        "/v1/admin/systems/quiz/agents/tutor",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, err) = call(
        &gw,
        Method::POST,
        "/v1/chat",
        Some(chat(Some("tutor"), "Hello?")),
    )
    .await;
    assert_eq!((status, code(&err)), (404, "agent_not_found"), "{err}");
    let (status, _) = call(
        &gw,
        Method::DELETE,
        "/v1/admin/systems/quiz/agents/tutor",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, err) = call(
        &gw,
        Method::GET,
        "/v1/admin/systems/quiz/agents/tutor",
        None,
    )
    .await;
    assert_eq!((status, code(&err)), (404, "not_found"), "{err}");
}

#[tokio::test]
async fn a_runtime_n8n_agent_answers_with_its_token() {
    let fake = FakeN8n::new(FakeN8nOptions::default());
    let webhook = fake.spawn().await.unwrap();
    let gw = gateway(&[]).await;
    create_system(&gw, "quiz").await;
    let token = fake.options().token.clone().unwrap();
    let (status, body) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents",
        Some(json!({"id": "flow", "kind": "n8n", "url": webhook, "credential": token})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, answer) = call(
        &gw,
        Method::POST,
        "/v1/chat",
        Some(chat(Some("flow"), "Hi n8n")),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["answer"].as_str().unwrap().contains("Hi n8n"),
        "{answer}"
    );
    let recorded = fake.requests();
    assert_eq!(
        recorded[0].authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
}

#[tokio::test]
async fn agents_are_validated_per_kind() {
    let gw = gateway(&[]).await;
    create_system(&gw, "quiz").await;
    for (body, why) in [
        (
            json!({"kind": "n8n", "url": "https://n8n.example/webhook/a"}),
            "id is required",
        ),
        (
            json!({"id": "a/b", "kind": "n8n", "url": "https://n8n.example/webhook/a"}),
            "agent id",
        ),
        (
            json!({"id": "a", "url": "https://n8n.example/webhook/a"}),
            "kind is required",
        ),
        (
            json!({"id": "a", "kind": "llama", "url": "https://x.example"}),
            "kind",
        ),
        (
            json!({"id": "a", "kind": "n8n", "url": "n8n.example/webhook"}),
            "url",
        ),
        (
            json!({"id": "a", "kind": "dify", "url": "https://dify.example"}),
            "credential",
        ),
        (
            json!({"id": "a", "kind": "openai", "credential": "sk-x"}),
            "model",
        ),
        (
            json!({"id": "a", "kind": "n8n", "url": "https://n8n.example/w", "model": "m"}),
            "openai",
        ),
        (
            json!({"id": "a", "kind": "openai", "credential": "sk-x", "model": "m", "options": {"top_k": 3}}),
            "unknown field",
        ),
    ] {
        let (status, err) = call(
            &gw,
            Method::POST,
            "/v1/admin/systems/quiz/agents",
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (status, code(&err)),
            (422, "validation_failed"),
            "{body}: {err}"
        );
        assert!(
            err["error"]["message"].as_str().unwrap().contains(why),
            "{body}: {err}"
        );
        assert!(!err.to_string().contains("sk-x"), "{err}");
    }
    let (status, err) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/nobody/agents",
        Some(json!({"id": "a", "kind": "n8n", "url": "https://n8n.example/w"})),
    )
    .await;
    assert_eq!((status, code(&err)), (404, "not_found"), "{err}");
}

#[tokio::test]
async fn without_a_secret_key_no_credential_is_stored() {
    let gw = gateway_without_key().await;
    create_system(&gw, "quiz").await;
    let (status, err) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents",
        Some(json!({"id": "a", "kind": "openai", "credential": "sk-plain-text-secret", "model": "m"})),
    )
    .await;
    assert_eq!((status, code(&err)), (422, "validation_failed"), "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CHAT_GATEWAY_SECRET_KEY"),
        "{err}"
    );
    let (_, agents) = call(&gw, Method::GET, "/v1/admin/systems/quiz/agents", None).await;
    assert_eq!(agents["agents"], json!([]), "nothing was stored");
    // An agent without a credential needs no key.
    let (status, body) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents",
        Some(json!({"id": "open", "kind": "n8n", "url": "https://n8n.example/webhook/open"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_stored_credential_cannot_be_read_from_the_database_file() {
    let gw = gateway(&[]).await;
    create_system(&gw, "quiz").await;
    let secret = "sk-live-do-not-leak-7Hq2Zp9Wm4";
    let title = "Findable-Title-For-The-Scan";
    let (status, body) = call(
        &gw,
        Method::POST,
        "/v1/admin/systems/quiz/agents",
        Some(json!({
            "id": "sealed",
            "kind": "openai",
            "url": "http://127.0.0.1:9/v1",
            "credential": secret,
            "model": "m",
            "title": title,
        })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let path = gw
        .database_url()
        .strip_prefix("sqlite://")
        .unwrap()
        .to_owned();
    // The database and its write-ahead log, where a fresh row lives first.
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(contains(title), "the scan reads the rows that were written");
    assert!(!contains(secret), "the credential is stored in plain text");
    assert!(
        !contains(&secret[3..20]),
        "a part of the credential is stored in plain text"
    );
    // Nor does any answer of the API carry it.
    for path in [
        "/v1/admin/systems/quiz/agents",
        "/v1/admin/systems/quiz/agents/sealed",
    ] {
        let (status, body) = call(&gw, Method::GET, path, None).await;
        assert_eq!(status, 200);
        assert!(!body.to_string().contains(secret), "{body}");
        assert!(body.to_string().contains("…"), "a hint is shown: {body}");
    }
}
