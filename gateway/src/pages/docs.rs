//! `GET /docs`: the API, read from `/openapi.json` by the page's script.

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use sdk::Lang;

use super::templates;
use super::{html, render_failure};

/// `GET /docs`: the interactive API documentation.
pub(super) async fn docs() -> Response {
    // API documentation is in English, as the OpenAPI document is.
    match templates::render("docs.html", Lang::En, context! {}) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => render_failure(&e),
    }
}
