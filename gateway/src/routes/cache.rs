//! Operator reads of the stored history, across users (`X-API-Key`), under
//! the seed's paths:
//!
//! - `GET /v1/cache/conversations?system_id&user_id&from_date&to_date` —
//!   newest first; dates are `YYYY-MM-DD` (UTC, `to_date` inclusive) or RFC
//!   3339 timestamps; a malformed date is a 422, not silently ignored;
//!   `limit` (1–500, default 100) and `before=<conversation id>` page;
//! - `GET /v1/cache/conversations/{id}/messages` — every message, in order.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use sdk::{Conversation, Message};
use serde::Deserialize;
use time::OffsetDateTime;

use super::conversations::{message_views, page_before, page_limit};
use crate::auth::ServerKey;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::scope::{Permission, SystemScope};
use crate::state::AppState;
use crate::store::{ConversationFilter, PageRequest, Scope};
use crate::stored_text::check_id;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/cache/conversations", get(conversations))
        .route("/v1/cache/conversations/{id}/messages", get(messages))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SearchQuery {
    system_id: Option<String>,
    user_id: Option<String>,
    from_date: Option<String>,
    to_date: Option<String>,
    limit: Option<u32>,
    before: Option<String>,
}

#[utoipa::path(get, path = "/v1/cache/conversations", tag = "history",
    summary = "Stored conversations of a system or user, for scripts",
    params(SearchQuery),
    responses((status = 200, description = "Conversations", body = Vec<sdk::Conversation>),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("api_key" = [])))]
pub(super) async fn conversations(
    State(state): State<AppState>,
    key: ServerKey,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Vec<Conversation>>> {
    key.require(Permission::Read)?;
    let system_id = q
        .system_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(system) = system_id {
        sdk::identity::check_system_id(system).map_err(ApiError::Validation)?;
    }
    let system_id = system_id.map(str::to_ascii_lowercase);
    match &system_id {
        Some(system) => key.require_for(Permission::Read, system)?,
        None if key.0.systems != SystemScope::All => {
            return Err(ApiError::Validation(
                "system_id is required with a key limited to some systems".into(),
            ));
        }
        None => {}
    }
    let user_id = q.user_id.as_deref().filter(|s| !s.is_empty());
    if let Some(user) = user_id {
        sdk::identity::check_user_id(user).map_err(ApiError::Validation)?;
    }
    let filter = ConversationFilter {
        system_id: system_id.as_deref(),
        user_id,
        from: q
            .from_date
            .as_deref()
            .map(|d| parse_bound("from_date", d, false))
            .transpose()?,
        to: q
            .to_date
            .as_deref()
            .map(|d| parse_bound("to_date", d, true))
            .transpose()?,
        limit: page_limit(q.limit, 100, 500)?,
        before: page_before(q.before.as_deref())?,
    };
    let records = state.store.search_conversations(filter).await?;
    Ok(Json(records.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct MessagesQuery {
    limit: Option<u32>,
    before: Option<String>,
    #[serde(default)]
    html: bool,
}

#[utoipa::path(get, path = "/v1/cache/conversations/{id}/messages", tag = "history",
    summary = "Stored messages of any conversation, for scripts",
    params(("id" = String, Path, description = "The gateway's conversation id"), MessagesQuery),
    responses((status = 200, description = "Messages", body = Vec<sdk::Message>),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 404, description = "No such conversation or route", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("api_key" = [])))]
pub(super) async fn messages(
    State(state): State<AppState>,
    key: ServerKey,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    key.require(Permission::Read)?;
    check_id("conversation id", &id)?;
    if key.0.systems != SystemScope::All {
        let conversation = state
            .store
            .get_conversation(Scope::Any, &id)
            .await?
            .ok_or(ApiError::ConversationNotFound)?;
        key.require_for(Permission::Read, &conversation.system_id)?;
    }
    let page = PageRequest {
        limit: page_limit(q.limit, 500, 5000)?,
        before: page_before(q.before.as_deref())?,
    };
    let records = state
        .store
        .list_messages(Scope::Any, &id, page)
        .await?
        .ok_or(ApiError::ConversationNotFound)?;
    Ok(Json(message_views(records, q.html)))
}

/// A date (`YYYY-MM-DD`, UTC; as an end bound it includes the whole day) or
/// an RFC 3339 timestamp.
pub(super) fn parse_bound(field: &str, raw: &str, end: bool) -> ApiResult<OffsetDateTime> {
    crate::console::date_bound(raw, end).ok_or_else(|| {
        ApiError::Validation(format!(
            "{field} must be a date (YYYY-MM-DD) or an RFC 3339 timestamp"
        ))
    })
}
