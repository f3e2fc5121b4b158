//! Who a socket is for: credentials from the upgrade request, or the
//! `auth` frame a browser sends first.

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use axum::http::HeaderMap;
use futures::StreamExt;
use futures::stream::SplitStream;
use sdk::ClientFrame;
use serde::Deserialize;
use tokio::time::timeout;

use super::frames;
use crate::auth::{Caller, KeyId, bearer_token};
use crate::error::ApiError;
use crate::identity::Identity;
use crate::state::AppState;

/// How long a socket without credentials has to send its `auth` frame.
const AUTH_WAIT: Duration = Duration::from_secs(10);

/// The query string of `GET /v1/ws`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(in crate::routes) struct WsQuery {
    token: Option<String>,
    system_id: Option<String>,
    user_id: Option<String>,
}

/// Who the socket is for, as far as the upgrade request tells.
pub(super) enum Credentials {
    /// The user, and the agent their chat token pins, if any.
    Verified(Identity, Option<String>),
    /// The user a server named, with the API key it used (its turns count
    /// against that key's rate limit).
    ForServer(Identity, KeyId),
    Refused(ApiError),
    /// Expect an `auth` frame.
    Later,
}

pub(super) fn credentials(state: &AppState, headers: &HeaderMap, query: &WsQuery) -> Credentials {
    let token = query
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .or_else(|| bearer_token(headers));
    if let Some(token) = token {
        return match state.auth.verify_caller(token) {
            Ok((identity, pinned)) => Credentials::Verified(identity, pinned),
            Err(e) => Credentials::Refused(e),
        };
    }
    match state.auth.verify_key(headers) {
        None => Credentials::Later,
        Some(Err(e)) => Credentials::Refused(e),
        Some(Ok(())) => match Caller::Server.identity(
            &state.auth,
            query.system_id.as_deref(),
            query.user_id.as_deref(),
        ) {
            Ok(identity) => match KeyId::presented(headers) {
                Some(key) => Credentials::ForServer(identity, key),
                None => Credentials::Refused(ApiError::MissingCredentials),
            },
            Err(e) => Credentials::Refused(e),
        },
    }
}

/// Wait for the `auth` frame. `Err(None)`: the client left first.
pub(super) async fn await_auth(
    state: &AppState,
    incoming: &mut SplitStream<WebSocket>,
) -> Result<(Identity, Option<String>), Option<ApiError>> {
    let first = timeout(AUTH_WAIT, async {
        loop {
            match incoming.next().await {
                Some(Ok(Message::Text(text))) => return Some(frames::parse(&text)),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Binary(_))) => {
                    return Some(Err(ApiError::BadRequest(
                        "binary frames are not accepted".into(),
                    )));
                }
                None | Some(Ok(Message::Close(_)) | Err(_)) => return None,
            }
        }
    })
    .await;
    match first {
        Err(_) => Err(Some(ApiError::MissingCredentials)),
        Ok(None) => Err(None),
        Ok(Some(Ok(ClientFrame::Auth { token }))) => state.auth.verify_caller(&token).map_err(Some),
        Ok(Some(Ok(_))) => Err(Some(ApiError::MissingCredentials)),
        Ok(Some(Err(e))) => Err(Some(e)),
    }
}
