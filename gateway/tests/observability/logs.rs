//! Log lines as an operator's collector reads them: one JSON object per
//! line, each line of a request carrying its id, none carrying a secret.

use std::sync::{Arc, Mutex};

use gateway::config::LogFormat;
use serde_json::{Value, json};
use testkit::fake_dify::{FakeOptions, Fault};
use testkit::postgres::ThrowawayPostgres;
use testkit::test_gateway::{API_KEY, SECRET};
use testkit::{Database, TestGateway};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// Everything written to it, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The request id of a JSON log line: a field of its `request` span.
fn request_id(line: &Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|span| span["name"] == "request")?["request_id"]
        .as_str()
}

/// Everything the gateway logs (every level, every crate) while it starts
/// on PostgreSQL with a password in its URL, answers requests carrying a
/// chat token in the query, an API key, a bearer token and a wrong key,
/// fails a turn, and stops: JSON lines, the failure's lines tagged with its
/// request id, and not one secret.
///
/// One thread (`current_thread`), so the subscriber set for it sees every
/// task the gateway spawns.
#[tokio::test(flavor = "current_thread")]
async fn json_lines_carry_the_request_id_and_no_secret() {
    const DB_PASSWORD: &str = "db-password-Zq81x";
    const WRONG_KEY: &str = "wrong-key-but-still-secret-7731";
    const REQUEST_ID: &str = "req-fail-42";
    let postgres = ThrowawayPostgres::start().await.unwrap();
    let database = postgres.url().replacen('@', &format!(":{DB_PASSWORD}@"), 1);
    crate::keep_callsites_alive();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(
        gateway::logs::layer(LogFormat::Json, captured.clone())
            .with_filter(EnvFilter::new("trace")),
    );
    let guard = tracing::subscriber::set_default(subscriber);

    let mut gw = TestGateway::builder()
        .database(Database::Url(database))
        .start()
        .await
        .unwrap();
    let url = gw.url().to_owned();
    let http = reqwest::Client::new();
    let token = gw.token("logged", "someone");
    let chat = json!({"system_id": "logged", "user_id": "someone", "message": "Hello"});

    // A chat token in the query string (the chat page's link).
    let resp = http
        .get(format!("{url}/chat?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = http
        .post(format!("{url}/v1/sync/me?token={token}"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    // The API key header.
    let resp = http
        .post(format!("{url}/v1/chat"))
        .header("x-api-key", API_KEY)
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A bearer token.
    let resp = http
        .get(format!("{url}/v1/conversations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A wrong key: refused, with a made-up request id in header and body.
    let resp = http
        .post(format!("{url}/v1/chat"))
        .header("x-api-key", WRONG_KEY)
        .header("x-request-id", "not a safe id")
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let made = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(made, "not a safe id");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], made.as_str());
    // A failed turn, with the client's own request id.
    gw.fake().unwrap().push_fault(Fault::Status {
        status: 500,
        code: "internal_server_error".into(),
        message: "boom".into(),
    });
    let resp = http
        .post(format!("{url}/v1/chat"))
        .header("x-api-key", API_KEY)
        .header("x-request-id", REQUEST_ID)
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-request-id"], REQUEST_ID);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["request_id"], REQUEST_ID);
    assert_eq!(body["error"]["code"], "upstream_error");

    gw.stop().await.unwrap();
    drop(guard);

    let text = captured.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines.len() > 5, "{text}");
    let failure: Vec<&Value> = lines
        .iter()
        .filter(|line| request_id(line) == Some(REQUEST_ID))
        .collect();
    assert!(
        failure
            .iter()
            .any(|line| line["level"] == "WARN"
                && line["fields"]["message"] == "upstream call failed"),
        "the failure is logged with its request id: {failure:#?}"
    );
    for secret in [
        token.as_str(),
        API_KEY,
        WRONG_KEY,
        DB_PASSWORD,
        SECRET,
        &FakeOptions::default().api_key,
    ] {
        assert!(!text.contains(secret), "a log line holds {secret:?}");
    }
}
