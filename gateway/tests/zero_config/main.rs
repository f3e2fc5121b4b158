//! The newcomer's path, with the real `chat-gateway` binary and no
//! configuration at all: it starts, prints a working API key and chat URL,
//! answers blocking and streamed chats with the demo upstream, stops cleanly
//! on SIGTERM, and after a restart still has the history and the same keys.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

mod binary;
mod commands;
mod crash;
mod export;

use std::time::Duration;

use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions};
use tokio::io::{AsyncBufReadExt, BufReader};

use binary::{binary, run_printed_command, start, start_with, stop};

#[tokio::test]
async fn zero_config_chats_and_remembers_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let gw = start(dir.path()).await;
    let http = reqwest::Client::new();
    let hello = json!({"system_id": "demo", "user_id": "guest", "message": "Hello"});

    let reply: Value = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&hello)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        reply["answer"].as_str().unwrap().contains("> Hello"),
        "{reply}"
    );

    // The printed curl line works as printed.
    let printed = run_printed_command(&gw.curl).await;
    let printed: Value = serde_json::from_str(&printed)
        .unwrap_or_else(|e| panic!("{e}: `{}` printed {printed}", gw.curl));
    assert!(
        printed["answer"].as_str().unwrap().contains("> Hello"),
        "{printed}"
    );

    let mut streamed = hello.clone();
    streamed["stream"] = json!(true);
    let sse = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&streamed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sse.contains("event: delta") && sse.contains("event: end"),
        "{sse}"
    );

    // The printed chat URL carries a token for the same demo user.
    let token = gw
        .chat_url
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let listed: Vec<sdk::Conversation> = http
        .get(format!("{}/v1/conversations", gw.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        3,
        "the two chats above and the printed curl's"
    );

    let first_key = gw.api_key.clone();
    stop(gw).await;
    assert!(dir.path().join("chat_gateway.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(".chat-gateway-dev.env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "development secrets are private to the user"
        );
    }

    let again = start(dir.path()).await;
    assert_eq!(again.api_key, first_key, "keys survive a restart");
    let listed: Vec<sdk::Conversation> = http
        .get(format!("{}/v1/conversations", again.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed.len(),
        3,
        "history survives a restart and old chat URLs still work"
    );
    stop(again).await;
}

#[tokio::test]
async fn token_and_secrets_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary()
        .current_dir(dir.path())
        .arg("secrets")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let secret = text
        .lines()
        .find_map(|l| l.strip_prefix("CHAT_GATEWAY_JWT_SECRET="))
        .unwrap();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("CHAT_GATEWAY_API_KEY="))
        .unwrap();
    assert!(secret.len() >= 32 && key.len() >= 32, "{text}");

    let out = binary()
        .current_dir(dir.path())
        .env("CHAT_GATEWAY_JWT_SECRET", secret)
        .env("CHAT_GATEWAY_API_KEY", key)
        .env("CHAT_GATEWAY_URL", "https://chat.example.com")
        .args([
            "token",
            "--system-id",
            "drillquiz",
            "--user-id",
            "12345",
            "--lang",
            "ko-KR",
            "--embed",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8(out.stdout).unwrap();
    assert!(
        url.starts_with("https://chat.example.com/chat?token="),
        "{url}"
    );
    assert!(url.trim_end().ends_with("&embed=1&lang=ko"), "{url}");
    let token = url
        .trim()
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let claims = sdk::jwt::verify(token, &sdk::jwt::JwtSecret::new(secret)).unwrap();
    assert_eq!(
        (claims.system_id.as_str(), claims.user_id.as_str()),
        ("drillquiz", "12345")
    );
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary()
        .current_dir(dir.path())
        .env("CHAT_GATEWAY_ENV", "production")
        .env("CHAT_GATEWAY_LISTEN", "127.0.0.1:0")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CHAT_GATEWAY_JWT_SECRET"), "{err}");
    assert!(
        !dir.path().join(".chat-gateway-dev.env").exists(),
        "no development values in production"
    );
}

#[tokio::test]
async fn pointing_dify_variables_at_a_dify_compatible_server_works_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeDify::new(FakeOptions {
        api_key: "app-local".into(),
        ..FakeOptions::default()
    });
    let fake_url = fake.spawn().await.unwrap();

    let gw = start_with(
        dir.path(),
        &[("DIFY_BASE_URL", &fake_url), ("DIFY_API_KEY", "app-local")],
    )
    .await;
    let http = reqwest::Client::new();
    let reply: Value = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(&json!({"system_id": "drillquiz", "user_id": "7", "message": "Hi Dify"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["answer"], "Echo: Hi Dify", "{reply}");
    let sse = http
        .post(format!("{}/v1/chat", gw.url))
        .header("X-API-Key", &gw.api_key)
        .json(
            &json!({"system_id": "drillquiz", "user_id": "7", "message": "again",
                      "conversation_id": reply["conversation_id"], "stream": true}),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sse.contains("event: end"), "{sse}");
    let upstream: Value = http
        .get(format!("{fake_url}/v1/conversations?user=drillquiz_7"))
        .bearer_auth("app-local")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        upstream["data"].as_array().unwrap().len(),
        1,
        "one conversation, continued"
    );
    stop(gw).await;
}

#[tokio::test]
async fn a_database_password_is_never_printed() {
    let postgres = testkit::postgres::ThrowawayPostgres::start().await.unwrap();
    // The test server trusts local connections, so any password works.
    let url = postgres
        .url()
        .replacen("@127.0.0.1", ":hunter2-in-url@127.0.0.1", 1);
    let url = format!("{url}?password=hunter2-in-query");
    let dir = tempfile::tempdir().unwrap();
    let mut child = binary()
        .current_dir(dir.path())
        .env("CHAT_GATEWAY_ENV", "production")
        .env("CHAT_GATEWAY_LISTEN", "127.0.0.1:0")
        .env(
            "CHAT_GATEWAY_JWT_SECRET",
            "0123456789abcdef0123456789abcdef",
        )
        .env("CHAT_GATEWAY_API_KEY", "key-0123456789abcdef")
        .env("CHAT_GATEWAY_DEMO", "on")
        .env("DATABASE_URL", &url)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let banner = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.trim().starts_with("upstream:");
            printed.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), banner)
        .await
        .expect("no start-up banner within 30 s");
    child.start_kill().unwrap();
    let rest = child.wait_with_output().await.unwrap();
    let all = format!(
        "{}\n{}{}",
        printed.join("\n"),
        String::from_utf8_lossy(&rest.stdout),
        String::from_utf8_lossy(&rest.stderr)
    );
    assert!(
        printed
            .iter()
            .any(|l| l.contains("database:") && l.contains(":***@")),
        "the banner names the database, redacted: {all}"
    );
    assert!(!all.contains("hunter2"), "a password was printed: {all}");
}
