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
mod conversations;
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

/// The socket's read buffer. tungstenite zero-fills the whole buffer before
/// each read, so its default (128 KiB) is 128 KiB of memory per socket and a
/// 128 KiB fill per read; chat frames are small, and a larger one grows the
/// buffer for as long as it needs.
const READ_BUFFER: usize = 4 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/ws", get(upgrade))
}

#[utoipa::path(get, path = "/v1/ws", tag = "chat",
    summary = "The WebSocket door: chat turns as JSON frames",
    description = "Upgrade to a WebSocket. The client sends `ClientFrame`s and receives `ServerFrame`s (JSON text frames, tagged by `type`, payload in `data`). Credentials: a chat token as `?token=`, `Authorization: Bearer`, `X-API-Key` with `system_id` and `user_id`, or an `auth` frame first within 10 seconds.",
    params(WsQuery),
    responses((status = 101, description = "Switched to the WebSocket protocol"),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody)),
    security((), ("chat_token" = []), ("chat_token_query" = []), ("api_key" = [])))]
pub(super) async fn upgrade(
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
    // The socket's log lines keep the upgrade request's span (its id).
    let span = tracing::Span::current();
    Ok(ws
        .read_buffer_size(READ_BUFFER)
        .max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| {
            let session = async move {
                let open = crate::metrics::OpenStream::open(crate::metrics::Door::WebSocket);
                session::run(state, socket, credentials).await;
                drop(open);
                drop(tracked);
            };
            tracing::Instrument::instrument(session, span)
        }))
}
