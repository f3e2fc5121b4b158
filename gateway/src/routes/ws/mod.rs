//! `GET /v1/ws`: chat over a WebSocket, with the ChatBot service's typed
//! JSON frames (the types are [`sdk::ClientFrame`] and [`sdk::ServerFrame`]).
//!
//! Authentication, decided before the upgrade and told after it (a browser
//! cannot read a refused upgrade's status): a chat token as `?token=` or
//! `Authorization: Bearer`; an `X-API-Key` with `system_id` and `user_id`
//! query parameters; or, with none of these, an `auth` frame within
//! [`AUTH_WAIT`]. A refusal is an `error` frame, then close code 1008.
//!
//! Each `send_message` is the same turn as `POST /v1/chat` (stored first,
//! streamed, a partial answer kept), framed as `{"type","data"}` messages;
//! the conversation loop is in `session`.

mod frames;
mod session;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::auth::{Caller, bearer_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::identity::Identity;
use crate::state::AppState;

/// How long a socket without credentials has to send its `auth` frame.
const AUTH_WAIT: Duration = Duration::from_secs(10);

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/ws", get(upgrade))
}

/// The query string of `GET /v1/ws`.
#[derive(Debug, Default, Deserialize)]
struct WsQuery {
    token: Option<String>,
    system_id: Option<String>,
    user_id: Option<String>,
}

/// Who the socket is for, as far as the upgrade request tells.
enum Credentials {
    Verified(Identity),
    Refused(ApiError),
    /// Expect an `auth` frame.
    Later,
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
    let credentials = credentials(&state, &headers, &query);
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

fn credentials(state: &AppState, headers: &HeaderMap, query: &WsQuery) -> Credentials {
    let token = query
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .or_else(|| bearer_token(headers));
    let verified = if let Some(token) = token {
        state.auth.verify_token(token)
    } else {
        match state.auth.verify_key(headers) {
            None => return Credentials::Later,
            Some(Err(e)) => Err(e),
            Some(Ok(())) => Caller::Server.identity(
                &state.auth,
                query.system_id.as_deref(),
                query.user_id.as_deref(),
            ),
        }
    };
    match verified {
        Ok(identity) => Credentials::Verified(identity),
        Err(e) => Credentials::Refused(e),
    }
}
