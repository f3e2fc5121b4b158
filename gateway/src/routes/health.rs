//! `GET /health` (the process is up) and `GET /ready` (it can serve: the
//! database takes writes, see [`crate::store::Store::ping`]).

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

#[utoipa::path(get, path = "/health", tag = "operations",
    summary = "Liveness: the process is up",
    responses((status = 200, description = "Up", body = sdk::HealthResponse)))]
pub(super) async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
    })
}

#[utoipa::path(get, path = "/ready", tag = "operations",
    summary = "Readiness: the database takes writes",
    responses((status = 200, description = "Ready", body = sdk::HealthResponse),
        (status = 503, description = "Not ready, or the upstream is unavailable", body = sdk::ErrorBody)))]
pub(super) async fn ready(State(state): State<AppState>) -> ApiResult<Json<HealthResponse>> {
    state.store.ping().await?;
    Ok(Json(HealthResponse {
        status: "ok".into(),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    use crate::config::{Config, EnvVars};
    use crate::store::sqlite::SqliteStore;
    use crate::upstream::Upstreams;

    async fn ready_status(app: &crate::App) -> (StatusCode, serde_json::Value) {
        let resp = app
            .router()
            .oneshot(Request::get("/ready").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn not_ready_when_the_database_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        let config = Config::from_env(&EnvVars::from_pairs([
            (
                "CHAT_GATEWAY_JWT_SECRET",
                "0123456789abcdef0123456789abcdef",
            ),
            ("CHAT_GATEWAY_API_KEY", "key-one-0123456789"),
        ]))
        .unwrap();
        let upstreams = Upstreams::from_settings(&config.upstreams).unwrap();
        let app = crate::App::from_parts(config, Arc::new(store.clone()), upstreams).unwrap();
        assert_eq!(ready_status(&app).await.0, StatusCode::OK);

        // Reads still work; every write now fails as on a read-only file.
        store.refuse_writes().await;
        let (status, body) = ready_status(&app).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "database_unavailable", "{body}");
    }
}
