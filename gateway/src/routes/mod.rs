//! HTTP routes. Each module owns one group of endpoints and exposes a
//! `router()`; this module merges them and adds what applies to every
//! request: limits on the request head, CORS, the body limit, HSTS when
//! served over HTTPS, panic and fallback handling, and tracing.
//!
//! The trace span records the method, the *path* only (query strings may
//! carry a chat token and never reach the log) and the request id
//! (`observe`).

mod admin;
mod agents;
mod cache;
mod chat;
mod chat_token;
mod conversations;
mod feedback;
mod health;
mod idempotent;
mod metrics;
mod observe;
mod openai;
pub mod openapi;
mod request_head;
mod resume;
mod sync;
mod tokens;
mod ws;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::state::AppState;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(chat::router())
        .merge(admin::router())
        .merge(agents::router())
        .merge(conversations::router())
        .merge(resume::router())
        .merge(feedback::router())
        .merge(chat_token::router())
        .merge(tokens::router())
        .merge(sync::router())
        .merge(cache::router())
        .merge(health::router())
        .merge(metrics::router())
        .merge(ws::router())
        .merge(openai::router())
        .merge(openapi::router())
        .merge(crate::pages::router(&state));
    let hsts = state
        .config
        .public_url
        .starts_with("https://")
        .then_some(HeaderValue::from_static("max-age=31536000"));
    api.fallback(|| async { ApiError::RouteNotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .layer(cors(&state))
        .layer(axum::middleware::from_fn(request_head::check))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Browsers remember to use HTTPS only when the gateway is public
        // over HTTPS (CHAT_GATEWAY_URL).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &Response| hsts.clone(),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }))
        .layer(axum::middleware::from_fn(observe::count))
        .layer(TraceLayer::new_for_http().make_span_with(observe::span))
        .layer(axum::middleware::from_fn(observe::identify))
        .with_state(state)
}

fn cors(state: &AppState) -> CorsLayer {
    let policy = state.origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin.to_str().is_ok_and(|o| policy.allows(o))
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static(crate::auth::API_KEY_HEADER),
            HeaderName::from_static("last-event-id"),
            HeaderName::from_static("x-conversation-id"),
            HeaderName::from_static(crate::request_id::HEADER),
            HeaderName::from_static(crate::trace_context::TRACEPARENT),
            HeaderName::from_static(crate::trace_context::TRACESTATE),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-policy"),
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("x-conversation-id"),
            HeaderName::from_static(crate::request_id::HEADER),
        ])
        .max_age(Duration::from_secs(600))
}

/// A `204 No Content` response.
pub(crate) fn no_content() -> Response {
    axum::http::StatusCode::NO_CONTENT.into_response()
}
