//! The chat token travels in the chat page's query string; it must never
//! reach the log. This binary holds this one test, so it can own the global
//! log subscriber and capture everything the gateway logs.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gateway::App;
use sdk::jwt::{ChatClaims, JwtSecret, mint};
use testkit::{Database, TestGateway, Upstream};
use tower::ServiceExt;

const SECRET: &str = "log-tests-secret-0123456789abcdef";

fn token(exp_offset: i64) -> String {
    let mut claims = ChatClaims::new("drillquiz", "alice", Duration::from_secs(600));
    claims.exp += exp_offset;
    mint(&claims, &JwtSecret::new(SECRET)).unwrap()
}

async fn get(app: &App, uri: &str) -> StatusCode {
    app.router()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap()
        .status()
}

/// A `Write` that appends to a shared buffer (the captured log).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_token_never_reaches_the_log() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global, and alone in this test binary: every thread logs into it.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let app = TestGateway::builder()
        .upstream(Upstream::Demo)
        .database(Database::SqliteMemory)
        .secret(SECRET)
        .api_key("log-tests-api-key-0123456789")
        .app()
        .await
        .unwrap();
    let good = token(0);
    let bad = token(-4000);
    assert_eq!(
        get(&app, &format!("/chat?token={good}&lang=ko")).await,
        StatusCode::OK
    );
    assert_eq!(
        get(&app, &format!("/chat-api?token={bad}")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, &format!("/v1/conversations?token={good}")).await,
        StatusCode::UNAUTHORIZED
    );
    // Not an upgrade request, but the token is in its query all the same.
    assert_eq!(
        get(&app, &format!("/v1/ws?token={good}")).await,
        StatusCode::BAD_REQUEST
    );
    let resp = app
        .router()
        .oneshot(
            Request::get("/v1/conversations")
                .header(header::AUTHORIZATION, format!("Bearer {good}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    // The capture works: the requests were logged, by path.
    assert!(text.contains("path=/chat"), "{text}");
    assert!(text.contains("path=/chat-api"), "{text}");
    assert!(text.contains("path=/v1/conversations"), "{text}");
    assert!(text.contains("path=/v1/ws"), "{text}");
    // The token, or any part of it, was not.
    for secret in [good.as_str(), bad.as_str()] {
        for part in secret.split('.') {
            assert!(!text.contains(part), "a token part was logged:\n{text}");
        }
    }
    assert!(!text.contains("token="), "{text}");
}
