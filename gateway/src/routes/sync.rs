//! Pulling history that exists only upstream into the store (conversations
//! from before the gateway, or made elsewhere with the same upstream user).
//!
//! - `POST /v1/sync` (`X-API-Key`): every known user — chat-page visitors and
//!   conversation owners. One user's failure is reported in `errors` and does
//!   not stop the others; each conversation is imported in its own
//!   transaction, and importing twice adds nothing.
//! - `POST /v1/sync/me`: the chat token's user (`Authorization: Bearer`, or
//!   `?token=` as in the seed).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use sdk::SyncResponse;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::auth::{ServerKey, bearer_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::ImportCounts;
use crate::upstream::UpstreamError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sync", post(sync_all))
        .route("/v1/sync/me", post(sync_me))
}

async fn sync_all(State(state): State<AppState>, _key: ServerKey) -> ApiResult<Json<SyncResponse>> {
    let mut out = SyncResponse::default();
    for who in state.store.sync_targets().await? {
        match sync_user(&state, &who).await {
            Ok(counts) => {
                out.conversations_synced += counts.conversations;
                out.messages_synced += counts.messages;
            }
            Err(e) => {
                e.log();
                out.errors.push(format!("{who}: {}", e.public_message()));
            }
        }
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn sync_me(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<SyncResponse>> {
    let token = bearer_token(&headers)
        .or(q.token.as_deref())
        .ok_or(ApiError::MissingCredentials)?;
    let who = state.auth.verify_token(token)?;
    let counts = sync_user(&state, &who).await?;
    Ok(Json(SyncResponse {
        conversations_synced: counts.conversations,
        messages_synced: counts.messages,
        errors: Vec::new(),
    }))
}

async fn sync_user(state: &AppState, who: &Identity) -> ApiResult<ImportCounts> {
    let upstream = state
        .upstreams
        .resolve(&who.system)
        .ok_or(ApiError::NotConfigured)?;
    let user = who.upstream_user();
    let mut total = ImportCounts::default();
    for conversation in upstream.list_conversations(&user).await? {
        let turns = match upstream.list_messages(&user, &conversation.id).await {
            Ok(turns) => turns,
            // Deleted between the two calls.
            Err(UpstreamError::ConversationGone) => continue,
            Err(e) => return Err(e.into()),
        };
        let counts = state
            .store
            .import_conversation(who, &conversation, &turns, OffsetDateTime::now_utc())
            .await?;
        total.conversations += counts.conversations;
        total.messages += counts.messages;
    }
    Ok(total)
}
