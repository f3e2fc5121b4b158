//! `GET /metrics`: every series of [`crate::metrics`] in the text format
//! Prometheus scrapes. With `CHAT_GATEWAY_METRICS_TOKEN` set, only a
//! scraper sending `Authorization: Bearer <token>` gets them.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq as _;

use crate::auth::bearer_token;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    summary = "Prometheus metrics (OpenMetrics text)",
    description = "Bounded labels only. With `CHAT_GATEWAY_METRICS_TOKEN` set, send it as a bearer token.",
    responses((status = 200, description = "The metrics", content_type = "application/openmetrics-text", body = String),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody)),
    security((), ("metrics_token" = [])))]
pub(super) async fn scrape(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(expected) = &state.config.observability.metrics_token {
        let given = bearer_token(&headers).ok_or(ApiError::MissingCredentials)?;
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ApiError::InvalidMetricsToken);
        }
    }
    if state.config.sync_every.is_some() {
        crate::metrics::scheduled_sync(&state.sync.snapshot());
    }
    let mut resp = crate::metrics::render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
