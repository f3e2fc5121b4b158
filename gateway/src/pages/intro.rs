//! `GET /`: a small page saying what this server is, how to open the chat
//! and where the health checks are. It shows no configuration and no
//! secrets.

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use sdk::Lang;

use super::templates;
use super::{html, render_failure};

/// `GET /`.
pub(super) async fn page() -> Response {
    // The intro page is English only.
    match templates::render("intro.html", Lang::En, context! {}) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => render_failure(&e),
    }
}
