//! The example programs, run as a user would run them, against a gateway
//! started in-process (with a fake Dify behind it, so answers are known).

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::process::{Output, Stdio};

use sdk::jwt::JwtSecret;
use sdk::{ChatLinks, ChatRequest, Client, MessageStatus};
use testkit::Upstream;
use testkit::fake_dify::FakeOptions;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const SECRET: &str = "examples-tests-secret-0123456789abcdef";
const API_KEY: &str = "examples-tests-key-0123456789";

/// A gateway in-process on a free port, with its own database file.
struct TestGateway {
    url: String,
    _server: testkit::TestGateway,
}

impl TestGateway {
    async fn start() -> Self {
        let server = testkit::TestGateway::builder()
            .upstream(Upstream::Dify(FakeOptions::default()))
            .secret(SECRET)
            .api_key(API_KEY)
            .env("CHAT_GATEWAY_DEMO", "off")
            .start()
            .await
            .unwrap();
        Self {
            url: server.url().to_owned(),
            _server: server,
        }
    }

    /// An example program, with only the environment it documents.
    fn program(&self, name: &str) -> Command {
        let path = match name {
            "chat-url" => env!("CARGO_BIN_EXE_chat-url"),
            "send-message" => env!("CARGO_BIN_EXE_send-message"),
            "stream-reply" => env!("CARGO_BIN_EXE_stream-reply"),
            "history" => env!("CARGO_BIN_EXE_history"),
            "cointutor-backend" => env!("CARGO_BIN_EXE_cointutor-backend"),
            other => panic!("no example {other}"),
        };
        let mut cmd = Command::new(path);
        cmd.env_clear()
            .env("CHAT_GATEWAY_URL", &self.url)
            .env("CHAT_GATEWAY_API_KEY", API_KEY)
            .env("CHAT_GATEWAY_JWT_SECRET", SECRET)
            .kill_on_drop(true);
        cmd
    }

    fn client(&self) -> Client {
        Client::with_api_key(&self.url, API_KEY).unwrap()
    }
}

/// Run to completion; panics with its stderr when it fails.
async fn run_ok(mut cmd: Command) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(status.success(), "{status}: {stderr}");
    String::from_utf8(stdout).unwrap()
}

/// The `token` parameter of a chat URL.
fn token_of(url: &str) -> String {
    let query = url.split_once("/chat?").unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn chat_url_prints_a_url_whose_token_the_gateway_accepts() {
    let gw = TestGateway::start().await;
    let mut cmd = gw.program("chat-url");
    cmd.args(["cointutor", "42", "--embed", "--lang", "ko"]);
    let out = run_ok(cmd).await;
    let url = out.trim();
    assert!(url.starts_with(&format!("{}/chat?token=", gw.url)), "{url}");
    assert!(url.ends_with("&embed=1&lang=ko"), "{url}");

    let claims = ChatLinks::new(&gw.url, JwtSecret::new(SECRET))
        .unwrap()
        .verify(&token_of(url))
        .unwrap();
    assert_eq!(
        (claims.system_id.as_str(), claims.user_id.as_str()),
        ("cointutor", "42")
    );
    let me = Client::with_bearer_token(&gw.url, token_of(url))
        .unwrap()
        .me();
    assert_eq!(
        me.chat(ChatRequest::new("hi")).await.unwrap().answer,
        "Echo: hi"
    );
}

#[tokio::test]
async fn send_message_prints_the_reply_and_continues_a_conversation() {
    let gw = TestGateway::start().await;
    let mut cmd = gw.program("send-message");
    cmd.args(["drillquiz", "42", "Hello", "from", "the", "example"]);
    let out = run_ok(cmd).await;
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("Echo: Hello from the example"));
    let id = lines
        .next()
        .and_then(|l| l.strip_prefix("(conversation "))
        .and_then(|l| l.strip_suffix(')'))
        .unwrap()
        .to_owned();

    let mut cmd = gw.program("send-message");
    cmd.args(["drillquiz", "42", "--conversation", &id, "And more"]);
    assert!(run_ok(cmd).await.starts_with("Echo: And more\n"));

    let user = gw.client().user("drillquiz", "42");
    let contents: Vec<String> = user
        .messages(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(
        contents,
        [
            "Hello from the example",
            "Echo: Hello from the example",
            "And more",
            "Echo: And more"
        ]
    );
}

#[tokio::test]
async fn stream_reply_prints_the_streamed_answer_and_history_lists_it() {
    let gw = TestGateway::start().await;
    let mut cmd = gw.program("stream-reply");
    cmd.args(["cointutor", "7", "stream", "this", "please"]);
    let out = run_ok(cmd).await;
    assert!(
        out.starts_with("Echo: stream this please\n(conversation "),
        "{out}"
    );

    let user = gw.client().user("cointutor", "7");
    let conversation = &user.conversations().await.unwrap()[0];
    let stored = user.messages(&conversation.id).await.unwrap();
    assert_eq!(stored[1].content, "Echo: stream this please");
    assert_eq!(stored[1].status, MessageStatus::Complete);

    let mut cmd = gw.program("history");
    cmd.args(["cointutor", "7"]);
    let out = run_ok(cmd).await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "stream this please ({}, last active ",
            conversation.id
        )),
        "{out}"
    );
    assert_eq!(
        &lines[1..],
        [
            "  user: stream this please",
            "  assistant: Echo: stream this please"
        ]
    );

    let mut cmd = gw.program("history");
    cmd.args(["cointutor", "nobody"]);
    assert_eq!(run_ok(cmd).await, "no conversations yet\n");
}

#[tokio::test]
async fn a_missing_setting_or_argument_is_reported_not_a_panic() {
    let gw = TestGateway::start().await;
    let mut cmd = gw.program("send-message");
    cmd.env_remove("CHAT_GATEWAY_API_KEY")
        .args(["drillquiz", "42", "hi"]);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CHAT_GATEWAY_API_KEY is not set"),
        "{stderr}"
    );

    let mut cmd = gw.program("chat-url");
    cmd.args(["cointutor"]);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: chat-url"));

    // A gateway error is shown with the gateway's code.
    let mut cmd = gw.program("history");
    cmd.env("CHAT_GATEWAY_API_KEY", "wrong-key")
        .args(["drillquiz", "42"]);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401 invalid_api_key"), "{stderr}");
}

#[tokio::test]
async fn the_backend_hands_its_logged_in_user_a_working_chat_url() {
    let gw = TestGateway::start().await;
    let mut cmd = gw.program("cointutor-backend");
    cmd.env("COINTUTOR_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut backend = cmd.spawn().unwrap();
    let mut stdout = BufReader::new(backend.stdout.take().unwrap()).lines();
    let first = stdout
        .next_line()
        .await
        .unwrap()
        .expect("the backend printed nothing");
    let backend_url = first.strip_prefix("listening on ").unwrap().to_owned();

    let http = sdk::reqwest::Client::new();
    let resp = http
        .get(format!("{backend_url}/api/chat-url"))
        .header("x-demo-user", "42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/chat?token=", gw.url)), "{url}");

    let me = Client::with_bearer_token(&gw.url, token_of(url))
        .unwrap()
        .me();
    let reply = me.chat(ChatRequest::new("from the site")).await.unwrap();
    let owner = &gw
        .client()
        .user("cointutor", "42")
        .conversations()
        .await
        .unwrap()[0];
    assert_eq!(owner.id, reply.conversation_id);

    let anonymous = http
        .get(format!("{backend_url}/api/chat-url"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    backend.kill().await.unwrap();
}
