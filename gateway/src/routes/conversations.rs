//! A user's conversations: list, read, rename, delete.
//!
//! - `GET /v1/conversations` — most recently active first; `limit` (1–200,
//!   default 100) and `before=<conversation id>` page through older ones;
//! - `GET /v1/conversations/{id}/messages` — user and assistant messages in
//!   order; the newest `limit` (1–500, default 200), `before=<message id>`
//!   for older pages, `html=true` adds sanitised HTML of assistant messages;
//!   rated answers carry their `feedback`;
//! - `PATCH /v1/conversations/{id}` — `{"name": "…"}`;
//! - `DELETE /v1/conversations/{id}` — deletes upstream, then our copy.
//!
//! Renames and deletes reach the upstream only when it keeps conversations
//! of its own ([`crate::upstream::UpstreamHistory`]); otherwise they change
//! our copy alone.
//!
//! With an API key, `system_id` and `user_id` name the owner (query string,
//! or the body for PATCH); with a chat token they may be left out.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use sdk::{Conversation, Message, RenameRequest, Role};
use serde::Deserialize;
use time::OffsetDateTime;

use super::no_content;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::identity::Identity;
use crate::markdown;
use crate::scope::Permission;
use crate::state::AppState;
use crate::store::{MessageRecord, PageRequest, Scope};
use crate::stored_text::{check_id, check_text};
use crate::upstream::{RouteKey, UpstreamError};

/// Longest conversation title.
const MAX_TITLE: usize = 200;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/conversations", get(list))
        .route(
            "/v1/conversations/{id}",
            axum::routing::delete(delete).patch(rename),
        )
        .route("/v1/conversations/{id}/messages", get(messages))
}

/// Query of the listing endpoints.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    system_id: Option<String>,
    user_id: Option<String>,
    limit: Option<u32>,
    before: Option<String>,
    #[serde(default)]
    html: bool,
}

/// Check the `before` parameter of a listing.
pub(super) fn page_before(before: Option<&str>) -> ApiResult<Option<&str>> {
    if let Some(id) = before {
        check_id("before", id)?;
    }
    Ok(before)
}

/// Check a `limit` parameter.
pub(super) fn page_limit(limit: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::Validation(format!(
            "limit must be between 1 and {max}"
        ))),
    }
}

/// The wire view of messages, with HTML for assistant messages when asked.
pub(super) fn message_views(records: Vec<MessageRecord>, html: bool) -> Vec<Message> {
    records
        .into_iter()
        .map(|m| {
            let rendered =
                (html && m.role == Role::Assistant).then(|| markdown::render(&m.content));
            m.into_view(rendered)
        })
        .collect()
}

#[utoipa::path(get, path = "/v1/conversations", tag = "history",
    summary = "A user's conversations, most recently active first",
    params(ListQuery),
    responses((status = 200, description = "Conversations", body = Vec<sdk::Conversation>),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Conversation>>> {
    caller.require(Permission::Read)?;
    let who = caller.identity(&state.auth, q.system_id.as_deref(), q.user_id.as_deref())?;
    let page = PageRequest {
        limit: page_limit(q.limit, 100, 200)?,
        before: page_before(q.before.as_deref())?,
    };
    let records = state.store.list_conversations(&who, page).await?;
    Ok(Json(records.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "history",
    summary = "The messages of a conversation, in order",
    params(("id" = String, Path, description = "The gateway's conversation id"), ListQuery),
    responses((status = 200, description = "Messages", body = Vec<sdk::Message>),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 404, description = "No such conversation or route", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn messages(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    caller.require(Permission::Read)?;
    let who = caller.identity(&state.auth, q.system_id.as_deref(), q.user_id.as_deref())?;
    check_id("conversation id", &id)?;
    let page = PageRequest {
        limit: page_limit(q.limit, 200, 500)?,
        before: page_before(q.before.as_deref())?,
    };
    let records = state
        .store
        .list_messages(Scope::Owner(&who), &id, page)
        .await?
        .ok_or(ApiError::ConversationNotFound)?;
    let mut views = message_views(records, q.html);
    let mut feedback: std::collections::HashMap<_, _> = state
        .store
        .conversation_feedback(&id)
        .await?
        .into_iter()
        .collect();
    for view in &mut views {
        view.feedback = feedback.remove(&view.id).map(Into::into);
    }
    Ok(Json(views))
}

/// Owner in the query string (DELETE).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OwnerQuery {
    system_id: Option<String>,
    user_id: Option<String>,
}

#[utoipa::path(delete, path = "/v1/conversations/{id}", tag = "history",
    summary = "Delete a conversation (upstream first, then the gateway's copy)",
    params(("id" = String, Path, description = "The gateway's conversation id"), OwnerQuery),
    responses((status = 204, description = "Deleted"),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 404, description = "No such conversation or route", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody),
        (status = 502, description = "The upstream failed; the user's message is kept", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> ApiResult<Response> {
    caller.require(Permission::Chat)?;
    let who = caller.identity(&state.auth, q.system_id.as_deref(), q.user_id.as_deref())?;
    check_id("conversation id", &id)?;
    change_upstream(&state, &who, &id, Change::Delete).await?;
    state.store.delete_conversation(&who, &id).await?;
    Ok(no_content())
}

#[utoipa::path(patch, path = "/v1/conversations/{id}", tag = "history",
    summary = "Rename a conversation",
    params(("id" = String, Path, description = "The gateway's conversation id")),
    request_body = sdk::RenameRequest,
    responses((status = 200, description = "The renamed conversation", body = sdk::Conversation),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 404, description = "No such conversation or route", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody),
        (status = 502, description = "The upstream failed; the user's message is kept", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn rename(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RenameRequest>,
) -> ApiResult<Json<Conversation>> {
    caller.require(Permission::Chat)?;
    let who = caller.identity(
        &state.auth,
        body.system_id.as_deref(),
        body.user_id.as_deref(),
    )?;
    check_id("conversation id", &id)?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_TITLE {
        return Err(ApiError::Validation(format!(
            "name must be 1 to {MAX_TITLE} characters"
        )));
    }
    // Checked before the upstream is asked to rename: a name our store
    // would refuse must not be applied there first.
    check_text("name", name)?;
    change_upstream(&state, &who, &id, Change::Rename(name)).await?;
    let renamed = state
        .store
        .rename_conversation(&who, &id, name, OffsetDateTime::now_utc())
        .await?
        .ok_or(ApiError::ConversationNotFound)?;
    Ok(Json(renamed.into()))
}

/// A change to mirror upstream.
enum Change<'a> {
    Delete,
    Rename(&'a str),
}

/// Check that `id` is the owner's conversation and apply `change` upstream
/// first, when the upstream keeps history. A conversation the upstream no
/// longer has counts as done; any other upstream failure stops here, so our
/// copy stays and the user can retry.
async fn change_upstream(
    state: &AppState,
    who: &Identity,
    id: &str,
    change: Change<'_>,
) -> ApiResult<()> {
    let conversation = state
        .store
        .get_conversation(Scope::Owner(who), id)
        .await?
        .ok_or(ApiError::ConversationNotFound)?;
    // An upstream without history of its own has nothing to change: only
    // our copy is.
    let routes = state.catalog.routes();
    let (Some(upstream_id), Some(history)) = (
        conversation.upstream_conversation_id.as_deref(),
        routes
            .resolve(&RouteKey::system(&who.system))
            .and_then(|upstream| upstream.history()),
    ) else {
        return Ok(());
    };
    let user = who.upstream_user();
    let result = match change {
        Change::Delete => history.delete_conversation(&user, upstream_id).await,
        Change::Rename(name) => history.rename_conversation(&user, upstream_id, name).await,
    };
    match result {
        Ok(()) | Err(UpstreamError::ConversationGone) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
