//! `GET /`: a small page saying what this server is, how to open the chat
//! and where the health checks are. It shows no configuration and no
//! secrets.

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Serde;

use super::templates::{self, PRODUCT};
use super::{assets, html, render_failure};

/// `GET /`.
pub(super) async fn page() -> Response {
    let ctx = context! {
        lang => "en",
        product => PRODUCT,
        assets => Serde(assets::paths()),
    };
    match templates::render("intro.html", ctx) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => render_failure(&e),
    }
}
