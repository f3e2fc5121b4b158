//! Who a socket is for: credentials from the upgrade request, or the
//! `auth` frame a browser sends first.

use std::time::Duration;

use axum::extract::ws::WebSocket;
use axum::http::HeaderMap;
use futures::StreamExt;
use futures::stream::SplitStream;
use sdk::ClientFrame;
use serde::Deserialize;
use tokio::time::timeout;

use super::frames::{self, Read};
use crate::auth::{Auth, Caller, KeyId, bearer_token};
use crate::error::ApiError;
use crate::extract::key_grant;
use crate::identity::Identity;
use crate::revocation::Revocable;
use crate::scope::Permission;
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
    /// The user, the agent their chat token pins, if any, and what can
    /// revoke the token.
    Verified(Identity, Option<String>, Revocable),
    /// The user a server named, with the API key it used (its turns count
    /// against that key's rate limit).
    ForServer(Identity, KeyId),
    Refused(ApiError),
    /// Expect an `auth` frame.
    Later,
}

pub(super) async fn credentials(
    state: &AppState,
    headers: &HeaderMap,
    query: &WsQuery,
) -> Credentials {
    let token = query
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .or_else(|| bearer_token(headers));
    if let Some(token) = token {
        return match state.auth.verify_revocable(token) {
            Ok((identity, pinned, revocable)) => Credentials::Verified(identity, pinned, revocable),
            Err(e) => Credentials::Refused(e),
        };
    }
    let Some(key) = Auth::presented_key(headers) else {
        return Credentials::Later;
    };
    let grant = match key {
        Ok(key) => key_grant(state, key).await,
        Err(e) => Err(e),
    };
    let identity = grant.map(Caller::Server).and_then(|caller| {
        caller.require(Permission::Chat)?;
        caller.identity(
            &state.auth,
            query.system_id.as_deref(),
            query.user_id.as_deref(),
        )
    });
    // Turns on this socket count against the key's rate limit.
    match (identity, KeyId::presented(headers)) {
        (Ok(identity), Some(key)) => Credentials::ForServer(identity, key),
        (Ok(_), None) => Credentials::Refused(ApiError::MissingCredentials),
        (Err(e), _) => Credentials::Refused(e),
    }
}

/// Wait for the `auth` frame. `Err(None)`: the client left first.
pub(super) async fn await_auth(
    state: &AppState,
    incoming: &mut SplitStream<WebSocket>,
) -> Result<(Identity, Option<String>, Revocable), Option<ApiError>> {
    let max_bytes = state.config.limits.max_body_bytes;
    let first = timeout(AUTH_WAIT, async {
        loop {
            match frames::read(incoming.next().await, max_bytes) {
                Read::Frame(frame) => return Some(frame),
                Read::Control => {}
                Read::Close(_, why) => return Some(Err(ApiError::BadRequest(why.into()))),
                Read::Gone => return None,
            }
        }
    })
    .await;
    match first {
        Err(_) => Err(Some(ApiError::MissingCredentials)),
        Ok(None) => Err(None),
        Ok(Some(Ok(ClientFrame::Auth { token }))) => {
            state.auth.verify_revocable(&token).map_err(Some)
        }
        Ok(Some(Ok(_))) => Err(Some(ApiError::MissingCredentials)),
        Ok(Some(Err(e))) => Err(Some(e)),
    }
}
