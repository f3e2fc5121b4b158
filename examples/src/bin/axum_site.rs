//! A small axum site with the chat widget on its page. The widget's files
//! and its token endpoint come from one call, `ChatRoutes::router`
//! (the SDK's `axum` feature); the page adds three lines of HTML.
//!
//! Run with: cargo run -p examples --bin axum-site
//!
//! against a local gateway (from the workspace root, with the gateway's
//! development secrets loaded, see the `examples` crate docs):
//!
//! ```text
//! cargo run -p gateway                              # first: writes .chat-gateway-dev.env
//! set -a; . ./.chat-gateway-dev.env; set +a
//! cargo run -p examples --bin axum-site             # then open http://localhost:3000/
//! ```
//!
//! Reads `CHAT_GATEWAY_URL` (default `http://127.0.0.1:8088`),
//! `CHAT_GATEWAY_JWT_SECRET` and `SITE_LISTEN` (default `127.0.0.1:3000`).
//! The sign-in (`/login?name=…`, a plain cookie) stands in for the site's
//! own login.

use std::process::ExitCode;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Router, serve};
use examples::{ExampleError, gateway_url, jwt_secret, optional_var, report};
use sdk::ChatLinks;
use sdk::axum::ChatRoutes;
use serde::Deserialize;

#[tokio::main]
async fn main() -> ExitCode {
    report(run().await)
}

#[expect(clippy::print_stdout, reason = "the output is what the example shows")]
async fn run() -> Result<(), ExampleError> {
    // [README: add chat to your axum site]
    let links = ChatLinks::new(&gateway_url(), jwt_secret()?)?; // the gateway and its secret
    let chat = ChatRoutes::new(links, "my-site")?; // your site's system_id at the gateway
    let app = Router::new()
        .route("/", get(home))
        .merge(chat.router(|user: SignedIn| user.name)) // who is signed in, from your login
        .with_state(Site {
            widget_tag: chat.script_tag(), // the 3 lines of HTML your pages add
        });
    // [end of the README block]
    let app = app.route("/login", get(login));

    let listen = optional_var("SITE_LISTEN").unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("open http://{}/", listener.local_addr()?);
    serve(listener, app).await?;
    Ok(())
}

/// What the site's pages need.
#[derive(Clone)]
struct Site {
    widget_tag: String,
}

/// `GET /`: the page, with the widget for a signed-in visitor.
async fn home(State(site): State<Site>, headers: HeaderMap) -> Html<String> {
    let body = match signed_in(&headers) {
        Some(name) => format!(
            "<p id=\"signed-in\">Signed in as {name}. The chat button is at the bottom right.</p>\n{}",
            site.widget_tag
        ),
        None => "<form action=\"/login\"><input name=\"name\" placeholder=\"your name\" \
                 pattern=\"[A-Za-z0-9_-]+\" required> <button>Sign in</button></form>"
            .to_owned(),
    };
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>My site</title></head>\n<body>\n<h1>My site</h1>\n{body}\n</body></html>\n"
    ))
}

#[derive(Deserialize)]
struct LoginQuery {
    name: String,
}

/// `GET /login?name=alice`: a demo sign-in (a cookie holding the name).
async fn login(Query(q): Query<LoginQuery>) -> Response {
    let valid = !q.name.is_empty()
        && q.name.len() <= 64
        && q.name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return (StatusCode::BAD_REQUEST, "letters, digits, - and _ only").into_response();
    }
    let cookie = format!("demo_user={}; Path=/; HttpOnly; SameSite=Lax", q.name);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

/// The signed-in visitor, for the token endpoint: a 401 without one.
struct SignedIn {
    name: String,
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, StatusCode> {
        let name = signed_in(&parts.headers).ok_or(StatusCode::UNAUTHORIZED)?;
        Ok(SignedIn { name })
    }
}

/// The name in the `demo_user` cookie.
fn signed_in(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("demo_user="))
        .find(|name| !name.is_empty())
        .map(str::to_owned)
}
