//! The test kit's own promises: a started gateway answers at once and with
//! the credentials it reports, stops for good, and says why when it cannot
//! start; the `fake-dify` command prints values a gateway can use.

use std::process::Stdio;

use serde_json::{Value, json};
use testkit::test_gateway::TestGatewayError;
use testkit::{Database, TestGateway, Upstream};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn a_started_gateway_answers_with_its_key_and_tokens_then_stops() {
    let mut gw = TestGateway::builder().start().await.unwrap();
    let http = reqwest::Client::new();
    let reply: Value = http
        .post(format!("{}/v1/chat", gw.url()))
        .header("X-API-Key", gw.api_key())
        .json(&json!({"system_id": "shop", "user_id": "ann", "message": "hi"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["answer"], "Echo: hi", "answered by the fake Dify");
    assert_eq!(gw.fake().unwrap().chats().len(), 1);

    let listed = http
        .get(format!("{}/v1/conversations", gw.url()))
        .bearer_auth(gw.token("shop", "ann"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: Vec<Value> = listed.json().await.unwrap();
    assert_eq!(listed.len(), 1, "the token is the same user's");
    assert!(gw.database_url().starts_with("sqlite://"));

    let url = gw.url().to_owned();
    gw.stop().await.unwrap();
    assert!(
        http.get(format!("{url}/health")).send().await.is_err(),
        "nothing listens after stop"
    );
}

#[tokio::test]
async fn the_demo_in_memory_answers_without_a_fake() {
    let gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .database(Database::SqliteMemory)
        .secret("kit-tests-secret-0123456789abcdefghij")
        .start()
        .await
        .unwrap();
    assert!(gw.fake().is_none());
    assert_eq!(gw.database_url(), "sqlite::memory:");
    let resp = reqwest::Client::new()
        .get(format!("{}/v1/conversations", gw.url()))
        .bearer_auth(gw.token("demo", "guest"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        200,
        "tokens are signed with the given secret"
    );
}

#[tokio::test]
async fn a_gateway_that_cannot_start_says_why() {
    let refused = TestGateway::builder()
        .env("CHAT_GATEWAY_STREAM_IDLE_SECS", "soon")
        .start()
        .await
        .err()
        .unwrap();
    assert!(matches!(refused, TestGatewayError::Config(_)), "{refused}");

    let unreachable = TestGateway::builder()
        .database(Database::Url(
            "sqlite:///nonexistent-dir/testkit/gateway.db".into(),
        ))
        .start()
        .await
        .err()
        .unwrap();
    assert!(
        matches!(unreachable, TestGatewayError::Build(_)),
        "{unreachable}"
    );

    let file = TestGateway::builder().app().await.err().unwrap();
    assert!(
        matches!(file, TestGatewayError::FileWithoutServer),
        "{file}"
    );
}

#[tokio::test]
async fn fake_dify_prints_the_values_a_gateway_needs() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-dify"))
        .args(["--listen", "127.0.0.1:0", "--api-key", "app-kit"])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let value = |name: &str| {
        first
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {first:?}"))
            .to_owned()
    };
    let (base, key) = (value("DIFY_BASE_URL="), value("DIFY_API_KEY="));
    assert_eq!(key, "app-kit");

    let gw = TestGateway::builder()
        .upstream(Upstream::None)
        .env("DIFY_BASE_URL", base)
        .env("DIFY_API_KEY", key)
        .start()
        .await
        .unwrap();
    let reply: Value = reqwest::Client::new()
        .post(format!("{}/v1/chat", gw.url()))
        .header("X-API-Key", gw.api_key())
        .json(&json!({"system_id": "shop", "user_id": "bo", "message": "ping"}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["answer"], "Echo: ping");
}
