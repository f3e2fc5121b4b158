//! A site's backend that gives its logged-in user a chat URL:
//! `GET /api/chat-url` → `{"url": "https://…/chat?token=…"}`. The frontend
//! opens it as a link, a redirect or an iframe. No secret reaches the browser.
//!
//! Run against a local gateway (from the workspace root, with the gateway's
//! development secrets loaded, see the `examples` crate docs):
//!
//! ```text
//! set -a; . ./.chat-gateway-dev.env; set +a
//! cargo run -p examples --bin cointutor-backend
//! curl -s -H 'X-Demo-User: 42' http://127.0.0.1:3000/api/chat-url
//! ```
//!
//! Reads `CHAT_GATEWAY_URL` (default `http://127.0.0.1:8088`),
//! `CHAT_GATEWAY_JWT_SECRET` and `COINTUTOR_LISTEN` (default
//! `127.0.0.1:3000`). The `X-Demo-User` header stands in for the site's own
//! login session.

use std::process::ExitCode;

use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use examples::{ExampleError, gateway_url, jwt_secret, optional_var, report};
use sdk::ChatLinks;
use serde::Serialize;

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

#[expect(clippy::print_stdout, reason = "the output is what the example shows")]
async fn run() -> Result<(), ExampleError> {
    // Built once: the gateway URL and the secret shared with it.
    let links = ChatLinks::new(&gateway_url(), jwt_secret()?)?;
    let app = Router::new()
        .route("/api/chat-url", get(chat_url))
        .with_state(links);

    let listen = optional_var("COINTUTOR_LISTEN").unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// The answer of `GET /api/chat-url`.
#[derive(Serialize)]
struct ChatUrl {
    url: String,
}

/// `GET /api/chat-url`: a fresh chat URL for the logged-in user.
async fn chat_url(
    State(links): State<ChatLinks>,
    user: LoggedInUser,
) -> Result<Json<ChatUrl>, StatusCode> {
    let url = links
        .url_for("cointutor", &user.id)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(ChatUrl { url }))
}

/// The user of the current session. A real site takes it from its login
/// session; this example trusts an `X-Demo-User` header.
struct LoggedInUser {
    id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for LoggedInUser {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, StatusCode> {
        parts
            .headers
            .get("x-demo-user")
            .and_then(|v| v.to_str().ok())
            .filter(|id| !id.is_empty())
            .map(|id| LoggedInUser { id: id.to_owned() })
            .ok_or(StatusCode::UNAUTHORIZED)
    }
}
