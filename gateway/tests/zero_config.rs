//! The newcomer's path, with the real `chat-gateway` binary and no
//! configuration at all: it starts, prints a working API key and chat URL,
//! answers blocking and streamed chats with the demo upstream, stops cleanly
//! on SIGTERM, and after a restart still has the history and the same keys.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use testkit::fake_dify::{FakeDify, FakeOptions};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

struct Running {
    child: Child,
    url: String,
    api_key: String,
    chat_url: String,
    /// The `try:` line's command.
    curl: String,
}

fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-gateway"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Start the gateway in `dir` with nothing configured but a free port.
async fn start(dir: &Path) -> Running {
    start_with(dir, &[]).await
}

async fn start_with(dir: &Path, env: &[(&str, &str)]) -> Running {
    let mut cmd = binary();
    cmd.current_dir(dir)
        .env("CHAT_GATEWAY_LISTEN", "127.0.0.1:0")
        .env("CHAT_GATEWAY_DEMO_DELAY_MS", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut api_key, mut chat_url, mut curl) = (None, None, None, None);
    let banner = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("tz-chat gateway on ") {
                url = rest.split(' ').next().map(str::to_owned);
            } else if let Some(key) = line.trim().strip_prefix("API key:") {
                api_key = Some(key.trim().to_owned());
            } else if let Some(link) = line.trim().strip_prefix("chat page:") {
                chat_url = Some(link.trim().to_owned());
            } else if let Some(command) = line.trim().strip_prefix("try:") {
                curl = Some(command.trim().to_owned());
            } else if line.trim().starts_with("upstream:") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), banner)
        .await
        .expect("no start-up banner within 30 s");
    Running {
        child,
        url: url.expect("no URL in the banner"),
        api_key: api_key.expect("no API key in the banner"),
        chat_url: chat_url.expect("no chat URL in the banner"),
        curl: curl.expect("no curl line in the banner"),
    }
}

/// Run a command line as a shell would (words split on blanks, single
/// quotes kept together), without a shell; its standard output.
async fn run_printed_command(line: &str) -> String {
    let mut words = Vec::new();
    let (mut word, mut quoted, mut started) = (String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, started) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                }
                started = false;
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    assert!(!quoted, "unbalanced quotes in `{line}`");
    assert_eq!(words.first().map(String::as_str), Some("curl"), "{line}");
    let out = Command::new(&words[0])
        .args(&words[1..])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "`{line}` failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

async fn stop(mut running: Running) {
    let pid = running.child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(10), running.child.wait())
        .await
        .expect("did not stop within 10 s of SIGTERM")
        .unwrap();
    assert!(exit.success(), "graceful stop exits 0, got {exit:?}");
}

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
