//! `POST /v1/sync` (`X-API-Key`): import upstream history for every known
//! user; `POST /v1/sync/me`: for the chat token's user (`Authorization:
//! Bearer`, or `?token=` as in the seed). The import itself is
//! [`crate::sync`]; this frames its report.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use sdk::SyncResponse;
use serde::Deserialize;

use crate::auth::{ServerKey, bearer_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiQuery;
use crate::identity::SystemId;
use crate::scope::{Permission, SystemScope};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sync", post(sync_all))
        .route("/v1/sync/me", post(sync_me))
}

#[utoipa::path(post, path = "/v1/sync", tag = "history",
    summary = "Import upstream history for every known user",
    responses((status = 200, description = "What was imported", body = sdk::SyncResponse),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 502, description = "The upstream failed; the user's message is kept", body = sdk::ErrorBody)),
    security(("api_key" = [])))]
pub(super) async fn sync_all(
    State(state): State<AppState>,
    key: ServerKey,
) -> ApiResult<Json<SyncResponse>> {
    key.require(Permission::Sync)?;
    // A key limited to some systems syncs only those.
    let systems: Vec<SystemId> = match &key.0.systems {
        SystemScope::All => Vec::new(),
        SystemScope::Only(ids) => ids
            .iter()
            .filter_map(|id| SystemId::parse(id).ok())
            .collect(),
    };
    if matches!(key.0.systems, SystemScope::Only(_)) && systems.is_empty() {
        return Ok(Json(SyncResponse::default()));
    }
    let report = crate::sync::run(
        state.store.as_ref(),
        &state.catalog.routes(),
        &systems,
        &mut |_, _| {},
    )
    .await?;
    let errors = report
        .errors
        .into_iter()
        .map(|(who, e)| {
            let e = ApiError::from(e);
            e.log();
            format!("{who}: {}", e.public_message())
        })
        .collect();
    Ok(Json(SyncResponse {
        conversations_synced: report.imported.conversations,
        messages_synced: report.imported.messages,
        errors,
        skipped: report.skipped,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

#[utoipa::path(post, path = "/v1/sync/me", tag = "history",
    summary = "Import the caller's upstream history",
    params(TokenQuery),
    responses((status = 200, description = "What was imported", body = sdk::SyncResponse),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 502, description = "The upstream failed; the user's message is kept", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("chat_token_query" = [])))]
pub(super) async fn sync_me(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TokenQuery>,
) -> ApiResult<Json<SyncResponse>> {
    let token = bearer_token(&headers)
        .or(q.token.as_deref())
        .ok_or(ApiError::MissingCredentials)?;
    let who = state.auth.verify_token(token)?;
    let mut out = SyncResponse::default();
    match crate::sync::sync_user(state.store.as_ref(), &state.catalog.routes(), &who).await? {
        Some(counts) => {
            out.conversations_synced = counts.conversations;
            out.messages_synced = counts.messages;
        }
        None => out.skipped.push(who.system.as_str().to_owned()),
    }
    Ok(Json(out))
}
