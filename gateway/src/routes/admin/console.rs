//! The console's data API (JSON, CSV, JSON Lines, SVG), for a [`Viewer`]:
//!
//! - `GET /v1/admin/conversations` — filters `system`, `agent`, `user`,
//!   `from`, `to` (dates `YYYY-MM-DD`, UTC, `to` inclusive, or RFC 3339),
//!   `status` (`failed`|`incomplete`), `feedback`
//!   (`any`|`liked`|`disliked`|`commented`), `q` (search words); `limit` (1–200,
//!   default 50) and `before` (a conversation id) page; answers the total
//!   and `next`, the `before` of the next page;
//! - `GET /v1/admin/conversations/{id}` — the transcript with each answer's
//!   metrics and each answer's feedback; with `q`, where the words occur in each message (`highlights`:
//!   `[start, end)` in characters);
//! - `GET /v1/admin/export?format=csv|jsonl` + the filters — streamed;
//! - `GET /v1/admin/analytics` + `system`, `agent`, `from`, `to` (default:
//!   the last 30 days) and `format=json|csv|svg`.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::TryStreamExt;
use serde::Serialize;
use time::OffsetDateTime;

use crate::console::Viewer;
use crate::console::analytics;
use crate::console::export::{self, Format};
use crate::console::query::{FilterQuery, given, snippet};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::markdown;
use crate::routes::conversations::{page_before, page_limit};
use crate::state::AppState;
use crate::store::PageRequest;
use crate::store::console::{ConsoleFilter, DailyUsage, SearchWords, TurnMetrics};
use crate::stored_text::check_id;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/conversations", get(conversations))
        .route("/v1/admin/conversations/{id}", get(transcript))
        .route("/v1/admin/export", get(export_filter))
        .route("/v1/admin/analytics", get(analytics_of))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Listing {
    total: u64,
    conversations: Vec<ListedConversation>,
    /// `before` for the next page; absent on the last.
    next: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ListedConversation {
    id: String,
    system_id: String,
    user_id: String,
    agent: Option<String>,
    title: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    messages: u64,
    /// With `q`: the first message holding every word.
    hit: Option<Hit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Hit {
    message_id: String,
    /// Up to 160 characters around the first occurrence.
    snippet: String,
}

#[utoipa::path(get, path = "/v1/admin/conversations", tag = "console",
    summary = "Stored conversations matching a filter, newest first, with the search hit",
    params(FilterQuery),
    responses((status = 200, description = "One page, the total and the next page's `before`", body = Listing),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn conversations(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> ApiResult<Json<Listing>> {
    let filter = q.filter(&viewer).map_err(ApiError::Validation)?;
    let limit = page_limit(q.limit, 50, 200)?;
    let page = PageRequest {
        limit,
        before: page_before(given(&q.before))?,
    };
    let found = state.store.console_conversations(&filter, page).await?;
    let total = state.store.console_count(&filter).await?;
    let next = (found.len() == limit as usize)
        .then(|| found.last().map(|c| c.record.id.clone()))
        .flatten();
    let conversations = found
        .into_iter()
        .map(|c| ListedConversation {
            hit: c.hit.map(|m| Hit {
                snippet: snippet(&m.content, &filter.words),
                message_id: m.id,
            }),
            id: c.record.id,
            system_id: c.record.system_id,
            user_id: c.record.user_id,
            agent: c.agent,
            title: c.record.title,
            created_at: c.record.created_at,
            updated_at: c.record.updated_at,
            messages: c.messages,
        })
        .collect();
    Ok(Json(Listing {
        total,
        conversations,
        next,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Transcript {
    conversation: ListedConversation,
    upstream_conversation_id: Option<String>,
    messages: Vec<TranscriptMessage>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct TranscriptMessage {
    id: String,
    role: &'static str,
    status: &'static str,
    content: String,
    /// Assistant messages rendered as the chat page renders them.
    html: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    upstream_message_id: Option<String>,
    #[serde(flatten)]
    metrics: MetricsView,
    /// Where the search words occur: `[start, end)` in characters.
    highlights: Vec<[usize; 2]>,
    /// The user's rating of this answer, if any.
    feedback: Option<sdk::Feedback>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct MetricsView {
    latency_ms: Option<u32>,
    ttft_ms: Option<u32>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
}

impl From<TurnMetrics> for MetricsView {
    fn from(m: TurnMetrics) -> Self {
        Self {
            latency_ms: m.latency_ms,
            ttft_ms: m.ttft_ms,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
        }
    }
}

/// `ranges` (bytes of `text`) in characters.
fn char_ranges(text: &str, ranges: &[std::ops::Range<usize>]) -> Vec<[usize; 2]> {
    ranges
        .iter()
        .map(|r| {
            let start = text[..r.start].chars().count();
            [start, start + text[r.clone()].chars().count()]
        })
        .collect()
}

#[utoipa::path(get, path = "/v1/admin/conversations/{id}", tag = "console",
    summary = "One conversation's transcript, with each answer's metrics",
    params(("id" = String, Path, description = "The conversation id"), FilterQuery),
    responses((status = 200, description = "The transcript", body = Transcript),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 404, description = "Not found (or not yours)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn transcript(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> ApiResult<Json<Transcript>> {
    check_id("conversation id", &id)?;
    let words = SearchWords::parse(q.q.as_deref().unwrap_or_default());
    // The conversation as the viewer may see it: by id, within its systems.
    let filter = viewer.bound(ConsoleFilter::default());
    let listed = state
        .store
        .console_conversation(&filter, &id)
        .await?
        .ok_or(ApiError::ConversationNotFound)?;
    let messages = state
        .store
        .console_messages(std::slice::from_ref(&id))
        .await?;
    let record = listed.record;
    let conversation = ListedConversation {
        id: record.id.clone(),
        system_id: record.system_id.clone(),
        user_id: record.user_id.clone(),
        agent: listed.agent,
        title: record.title.clone(),
        created_at: record.created_at,
        updated_at: record.updated_at,
        messages: listed.messages,
        hit: None,
    };
    let messages = messages
        .into_iter()
        .map(|m| {
            let highlights = char_ranges(&m.record.content, &words.find_in(&m.record.content));
            TranscriptMessage {
                html: (m.record.role == sdk::Role::Assistant)
                    .then(|| markdown::render(&m.record.content)),
                id: m.record.id,
                role: m.record.role.as_str(),
                status: m.record.status.as_str(),
                content: m.record.content,
                created_at: m.record.created_at,
                upstream_message_id: m.record.upstream_message_id,
                metrics: m.metrics.into(),
                highlights,
                feedback: m.feedback.map(sdk::Feedback::from),
            }
        })
        .collect();
    Ok(Json(Transcript {
        conversation,
        upstream_conversation_id: record.upstream_conversation_id,
        messages,
    }))
}

#[utoipa::path(get, path = "/v1/admin/export", tag = "console",
    summary = "Export a filter's messages as CSV or JSON Lines, streamed",
    params(FilterQuery),
    responses((status = 200, description = "One row per message", content(
            (String = "text/csv"), (String = "application/x-ndjson"))),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn export_filter(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> ApiResult<Response> {
    let filter = q.filter(&viewer).map_err(ApiError::Validation)?;
    let format = Format::parse(given(&q.format).unwrap_or("jsonl"))
        .ok_or_else(|| ApiError::Validation("format must be csv or jsonl".into()))?;
    let stream = export::export(state.store.clone(), filter, format)
        .map_ok(|chunk| chunk.bytes)
        .inspect_err(|e| tracing::warn!(error = %e, "an export stopped early"));
    let name = format!(
        "attachment; filename=\"conversations.{}\"",
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UsageView {
    day: String,
    system_id: String,
    agent: Option<String>,
    conversations: u64,
    messages: u64,
    active_users: u64,
    failures: u64,
    latency_p50_ms: Option<u32>,
    latency_p95_ms: Option<u32>,
    ttft_p50_ms: Option<u32>,
    ttft_p95_ms: Option<u32>,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl From<DailyUsage> for UsageView {
    fn from(u: DailyUsage) -> Self {
        Self {
            day: u.day.to_string(),
            system_id: u.system_id,
            agent: u.agent,
            conversations: u.conversations,
            messages: u.messages,
            active_users: u.active_users,
            failures: u.failures,
            latency_p50_ms: u.latency_p50_ms,
            latency_p95_ms: u.latency_p95_ms,
            ttft_p50_ms: u.ttft_p50_ms,
            ttft_p95_ms: u.ttft_p95_ms,
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
        }
    }
}

#[utoipa::path(get, path = "/v1/admin/analytics", tag = "console",
    summary = "Use per system, agent and day: JSON, CSV or an SVG chart",
    params(FilterQuery),
    responses((status = 200, description = "The figures", content(
            (Vec<UsageView> = "application/json"), (String = "text/csv"), (String = "image/svg+xml"))),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (permission, role, system, CSRF)", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody)),
    security(("session" = []), ("api_key" = [])))]
pub(super) async fn analytics_of(
    State(state): State<AppState>,
    viewer: Viewer,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> ApiResult<Response> {
    let filter = q
        .usage_filter(&viewer, OffsetDateTime::now_utc())
        .map_err(ApiError::Validation)?;
    let rows = state.store.daily_usage(&filter).await?;
    Ok(match given(&q.format).unwrap_or("json") {
        "json" => Json(rows.into_iter().map(UsageView::from).collect::<Vec<_>>()).into_response(),
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"analytics.csv\"",
                ),
            ],
            analytics::csv(&rows),
        )
            .into_response(),
        "svg" => (
            [(header::CONTENT_TYPE, "image/svg+xml")],
            analytics::bar_chart(
                "Messages per day",
                &analytics::per_day(&rows, |r| r.messages),
            ),
        )
            .into_response(),
        _ => {
            return Err(ApiError::Validation(
                "format must be json, csv or svg".into(),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_count_characters() {
        let words = SearchWords::parse("서울");
        let text = "in 서울 now";
        assert_eq!(char_ranges(text, &words.find_in(text)), [[3, 5]]);
    }
}
