//! `GET /health` (the process is up) and `GET /ready` (it can serve: the
//! database answers).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use sdk::HealthResponse;

use crate::error::ApiResult;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
    })
}

async fn ready(State(state): State<AppState>) -> ApiResult<Json<HealthResponse>> {
    state.store.ping().await?;
    Ok(Json(HealthResponse {
        status: "ok".into(),
    }))
}
