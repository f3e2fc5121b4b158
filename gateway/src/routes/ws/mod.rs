//! `GET /v1/ws`: chat over a WebSocket, with the ChatBot service's typed
//! JSON frames (the types are [`sdk::ClientFrame`] and [`sdk::ServerFrame`]).
//!
//! Authentication, decided before the upgrade and told after it (a browser
//! cannot read a refused upgrade's status): a chat token as `?token=` or
//! `Authorization: Bearer`; an `X-API-Key` with `system_id` and `user_id`
//! query parameters; or, with none of these, an `auth` frame within
//! 10 seconds. A refusal is an `error` frame, then close code 1008.
//!
//! Each `send_message` is the same turn as `POST /v1/chat` (stored first,
//! streamed, a partial answer kept), framed as `{"type","data"}` messages;
//! the conversation loop is in `session`.

mod auth;
mod frames;
mod session;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;

use self::auth::{WsQuery, credentials};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/ws", get(upgrade))
}

async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<WsQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let ws = ws.map_err(|_| {
        ApiError::BadRequest("GET /v1/ws is a WebSocket endpoint: send an upgrade request".into())
    })?;
    let credentials = credentials(&state, &headers, &query).await;
    // Frames up to the body limit are read; larger ones (up to a hard cap,
    // so that the close can be said) are answered with 1009.
    let limit = state.config.limits.max_body_bytes;
    let cap = limit.saturating_mul(4).max(64 * 1024);
    let tracked = state.sockets.token();
    Ok(ws
        .max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| async move {
            session::run(state, socket, credentials).await;
            drop(tracked);
        }))
}
