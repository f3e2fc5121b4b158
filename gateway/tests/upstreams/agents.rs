//! Named agents from the configuration file: each routed to its own
//! upstream, listed by `GET /v1/agents`, unknown ones refused.

use serde_json::{Value, json};
use testkit::fake_n8n::{FakeN8n, FakeN8nOptions};
use testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions};
use testkit::{TestGateway, Upstream};

struct Agents {
    server: TestGateway,
    n8n: FakeN8n,
    openai: FakeOpenAi,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Agents {
    let n8n = FakeN8n::new(FakeN8nOptions::default());
    let n8n_url = n8n.spawn().await.unwrap();
    let openai = FakeOpenAi::new(FakeOpenAiOptions::default());
    let openai_url = openai.spawn().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.toml");
    let options = FakeOpenAiOptions::default();
    std::fs::write(
        &path,
        format!(
            r#"
[systems.team]
default_agent = "workflow"

[systems.team.agents.workflow]
kind = "n8n"
url = "{n8n_url}"
credential_env = "TEAM_WEBHOOK_TOKEN"
title = "Workflow"
description = "Runs the team's n8n workflow"

[systems.team.agents.bot]
kind = "openai"
url = "{openai_url}"
credential = "{key}"
model = "{model}"
system_prompt = "You are the team bot."
title = "Bot"
"#,
            key = options.api_key,
            model = options.model,
        ),
    )
    .unwrap();
    let server = TestGateway::builder()
        .upstream(Upstream::None)
        .env("CHAT_GATEWAY_CONFIG", path.to_str().unwrap())
        .env("TEAM_WEBHOOK_TOKEN", "n8n-fake-token")
        .start()
        .await
        .unwrap();
    Agents {
        server,
        n8n,
        openai,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Agents {
    async fn chat(&self, body: Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/chat", self.server.url()))
            .header("X-API-Key", self.server.api_key())
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }
}

#[tokio::test]
async fn each_agent_is_answered_by_its_own_upstream() {
    let gw = start().await;
    let (status, body) = gw
        .chat(json!({"system_id": "team", "user_id": "a", "message": "to the bot", "agent": "bot"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["answer"], "Echo: to the bot");
    let sent = gw.openai.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["messages"][0],
        json!({"role": "system", "content": "You are the team bot."})
    );
    assert!(gw.n8n.requests().is_empty());

    let (status, body) = gw
        .chat(json!({"system_id": "team", "user_id": "a", "message": "to whoever"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let hooks = gw.n8n.requests();
    assert_eq!(hooks.len(), 1, "the default agent answered");
    assert_eq!(hooks[0].body["metadata"].get("agent"), None);

    let (status, _) = gw
        .chat(json!({"system_id": "team", "user_id": "a", "message": "named", "agent": "workflow"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(gw.n8n.requests()[1].body["metadata"]["agent"], "workflow");
}

#[tokio::test]
async fn an_unknown_agent_is_a_404_and_nothing_is_stored() {
    let gw = start().await;
    let (status, body) = gw
        .chat(json!({"system_id": "team", "user_id": "b", "message": "hi", "agent": "nobody"}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "agent_not_found");
    let (status, body) = gw
        .chat(json!({"system_id": "other", "user_id": "b", "message": "hi", "agent": "bot"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("agent_not_found"))
    );
    assert!(gw.n8n.requests().is_empty() && gw.openai.requests().is_empty());
}

#[tokio::test]
async fn agents_are_listed_for_keys_and_tokens() {
    let gw = start().await;
    let resp = gw
        .http
        .get(format!("{}/v1/agents?system_id=team", gw.server.url()))
        .header("X-API-Key", gw.server.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let list: sdk::AgentList = resp.json().await.unwrap();
    assert_eq!(
        list.agents,
        [
            sdk::AgentInfo {
                name: "bot".into(),
                title: "Bot".into(),
                description: String::new(),
            },
            sdk::AgentInfo {
                name: "workflow".into(),
                title: "Workflow".into(),
                description: "Runs the team's n8n workflow".into(),
            },
        ]
    );
    let token = gw.server.token("team", "c");
    let resp = gw
        .http
        .get(format!("{}/v1/agents", gw.server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let by_token: sdk::AgentList = resp.json().await.unwrap();
    assert_eq!(by_token, list);
    let resp = gw
        .http
        .get(format!("{}/v1/agents", gw.server.url()))
        .header("X-API-Key", gw.server.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400, "a key needs system_id");
    let resp = gw
        .http
        .get(format!("{}/v1/agents?system_id=elsewhere", gw.server.url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn a_conversation_stays_with_its_agent() {
    let gw = start().await;
    let (status, body) = gw
        .chat(json!({"system_id": "team", "user_id": "d", "message": "first", "agent": "bot"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let conversation = body["conversation_id"].as_str().unwrap().to_owned();
    // No agent named: the conversation's answers, with its history.
    let (status, body) = gw
        .chat(
            json!({"system_id": "team", "user_id": "d", "message": "second",
            "conversation_id": conversation}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = gw.openai.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1]["messages"].as_array().unwrap().len(),
        4,
        "prompt, q1, a1, q2"
    );
    assert!(gw.n8n.requests().is_empty());
    // Another agent: refused, and nothing stored.
    let (status, body) = gw
        .chat(
            json!({"system_id": "team", "user_id": "d", "message": "third",
            "conversation_id": conversation, "agent": "workflow"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("validation_failed")),
        "{body}"
    );
    let resp = gw
        .http
        .get(format!(
            "{}/v1/conversations/{conversation}/messages?system_id=team&user_id=d",
            gw.server.url()
        ))
        .header("X-API-Key", gw.server.api_key())
        .send()
        .await
        .unwrap();
    let stored: Vec<sdk::Message> = resp.json().await.unwrap();
    assert_eq!(stored.len(), 4);
}

#[tokio::test]
async fn a_chat_token_may_pin_an_agent() {
    let gw = start().await;
    let mut claims = sdk::jwt::ChatClaims::new("team", "p", std::time::Duration::from_secs(600));
    claims.agent = Some("bot".to_owned());
    let token = gw.server.token_with(&claims);
    let send = |body: Value| {
        gw.http
            .post(format!("{}/v1/chat", gw.server.url()))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let resp = send(json!({"message": "pinned"})).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(gw.openai.requests().len(), 1, "the pinned agent answered");
    let resp = send(json!({"message": "elsewhere", "agent": "workflow"}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(gw.n8n.requests().is_empty());
}
