//! The operator console's pages, rendered on the server (no script needed):
//!
//! - `GET /admin/conversations`: the filter form (every filter a query
//!   parameter, `q` for search words, `feedback` for rated answers), the count, the matches with the hit
//!   highlighted, a next-page link and export links for the same filter;
//! - `GET /admin/conversations/{id}`: the transcript with status,
//!   timestamps, latency, time to first token, tokens, upstream ids, the
//!   words of `q` highlighted; assistant markdown through the chat page's
//!   sanitiser; each answer's feedback (thumb and comment);
//! - `GET /admin/analytics`: a chart (SVG drawn here), the numbers as a
//!   table, a CSV link;
//! - `GET /admin/status`: the retention policy and its last purges, the
//!   scheduled sync and its last rounds (see [`status`]);
//! - `GET /cache` (the seed's history page): redirects to the console.
//!
//! Every page's header links home (`/admin`), names who is signed in, and
//! signs an operator out (`POST /admin/logout` with the session's CSRF
//! token).
//!
//! The filter form submits with GET to its own page, so these pages allow
//! `form-action 'self'`; everything else of the page policy holds.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use minijinja::value::Serde;
use sdk::{Lang, Role};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

mod marks;
mod status;

use self::marks::{Part, mark_html, parts};
use super::{html, i18n, render_failure, templates};
use crate::console::analytics;
use crate::console::query::{FilterQuery, snippet};
use crate::error::ApiError;
use crate::extract::viewer_of;
use crate::markdown;
use crate::operators::{Access, Actor};
use crate::state::AppState;
use crate::store::PageRequest;
use crate::store::console::SearchWords;
use crate::stored_text::check_id;

/// Rows per page of the list.
const PAGE: u32 = 50;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/conversations", get(list))
        .route("/admin/conversations/{id}", get(transcript))
        .route("/admin/analytics", get(usage))
        .route("/admin/status", get(status::status))
        .route(
            "/cache",
            get(|| async { Redirect::permanent("/admin/conversations") }),
        )
}

/// The filter and the language from the query string.
fn read_query(raw: Option<&str>, headers: &HeaderMap) -> Result<(FilterQuery, Lang), ApiError> {
    let raw = raw.unwrap_or_default();
    let q: FilterQuery = serde_urlencoded_like(raw)?;
    let lang = form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::from_tag(&v))
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_preferences)
        })
        .unwrap_or(Lang::En);
    Ok((q, lang))
}

/// `FilterQuery` from a query string, ignoring parameters it does not know.
fn serde_urlencoded_like(raw: &str) -> Result<FilterQuery, ApiError> {
    let mut q = FilterQuery::default();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        let v = Some(v.into_owned());
        match k.as_ref() {
            "system" => q.system = v,
            "agent" => q.agent = v,
            "user" => q.user = v,
            "from" => q.from = v,
            "to" => q.to = v,
            "status" => q.status = v,
            "feedback" => q.feedback = v,
            "q" => q.q = v,
            "before" => q.before = v,
            _ => {}
        }
    }
    if let Some(before) = &q.before
        && !before.is_empty()
    {
        check_id("before", before)?;
    }
    Ok(q)
}

/// The filter's own query string (no page, no format), for links.
fn filter_params(q: &FilterQuery, lang: Lang) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("system", &q.system),
        ("agent", &q.agent),
        ("user", &q.user),
        ("from", &q.from),
        ("to", &q.to),
        ("status", &q.status),
        ("feedback", &q.feedback),
        ("q", &q.q),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            out.append_pair(k, v);
        }
    }
    out.append_pair("lang", lang.as_str());
    out.finish()
}

fn when(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Render console page `name` with its header: who is signed in and, for
/// an operator session, the sign-out form's CSRF token.
fn page(name: &str, lang: Lang, access: &Access, values: minijinja::Value) -> Response {
    let who = match &access.actor {
        Actor::Operator { email, .. } => email.clone(),
        Actor::Key(_) => access.actor_name(),
    };
    let values = context! {
        who => who,
        csrf => access.csrf_token.clone(),
        ..values
    };
    match templates::render(name, lang, values) {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => render_failure(&e),
    }
}

#[derive(Debug, Serialize)]
struct Row {
    href: String,
    title: String,
    system: String,
    user: String,
    agent: Option<String>,
    started: String,
    messages: u64,
    hit: Vec<Part>,
}

async fn list(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (q, lang) = read_query(raw.as_deref(), &headers)?;
    let viewer = viewer_of(&access)?;
    let filter = q.filter(&viewer).map_err(ApiError::Validation)?;
    let before = q.before.as_deref().filter(|b| !b.is_empty());
    let found = state
        .store
        .console_conversations(
            &filter,
            PageRequest {
                limit: PAGE,
                before,
            },
        )
        .await?;
    let total = state.store.console_count(&filter).await?;
    let params = filter_params(&q, lang);
    let next = (found.len() == PAGE as usize)
        .then(|| found.last())
        .flatten()
        .map(|c| format!("/admin/conversations?{params}&before={}", c.record.id));
    let search = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", q.q.as_deref().unwrap_or_default())
        .append_pair("lang", lang.as_str())
        .finish();
    let rows: Vec<Row> = found
        .into_iter()
        .map(|c| Row {
            href: format!("/admin/conversations/{}?{search}", c.record.id),
            hit: c
                .hit
                .map(|m| parts(&snippet(&m.content, &filter.words), &filter.words))
                .unwrap_or_default(),
            title: c.record.title,
            system: c.record.system_id,
            user: c.record.user_id,
            agent: c.agent,
            started: when(c.record.created_at),
            messages: c.messages,
        })
        .collect();
    Ok(page(
        "console_list.html",
        lang,
        &access,
        context! {
            t => Serde(i18n::console(lang)),
            f => Serde(&q),
            total => total,
            rows => Serde(rows),
            next => next,
            export_csv => format!("/v1/admin/export?format=csv&{params}"),
            export_jsonl => format!("/v1/admin/export?format=jsonl&{params}"),
            analytics => format!("/admin/analytics?{params}"),
        },
    ))
}

#[derive(Debug, Serialize)]
struct Shown {
    assistant: bool,
    status: &'static str,
    created: String,
    latency_ms: Option<u32>,
    ttft_ms: Option<u32>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    upstream_id: Option<String>,
    /// A user's text, in runs.
    parts: Vec<Part>,
    /// An assistant's answer: sanitised HTML with the words marked.
    html: String,
    /// The user's rating of an answer.
    feedback: Option<FeedbackShown>,
}

#[derive(Debug, Serialize)]
struct FeedbackShown {
    liked: bool,
    comment: Option<String>,
}

async fn transcript(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    check_id("conversation id", &id)?;
    let (q, lang) = read_query(raw.as_deref(), &headers)?;
    let viewer = viewer_of(&access)?;
    let words = SearchWords::parse(q.q.as_deref().unwrap_or_default());
    let filter = viewer.bound(Default::default());
    let c = state
        .store
        .console_conversation(&filter, &id)
        .await?
        .ok_or(ApiError::ConversationNotFound)?;
    let messages = state
        .store
        .console_messages(std::slice::from_ref(&id))
        .await?;
    let shown: Vec<Shown> = messages
        .into_iter()
        .map(|m| {
            let assistant = m.record.role == Role::Assistant;
            Shown {
                assistant,
                status: m.record.status.as_str(),
                created: when(m.record.created_at),
                latency_ms: m.metrics.latency_ms,
                ttft_ms: m.metrics.ttft_ms,
                prompt_tokens: m.metrics.prompt_tokens,
                completion_tokens: m.metrics.completion_tokens,
                upstream_id: m.record.upstream_message_id,
                feedback: m.feedback.map(|f| FeedbackShown {
                    liked: f.rating == sdk::Rating::Like,
                    comment: f.comment,
                }),
                html: if assistant {
                    mark_html(&markdown::render(&m.record.content), &words)
                } else {
                    String::new()
                },
                parts: if assistant {
                    Vec::new()
                } else {
                    parts(&m.record.content, &words)
                },
            }
        })
        .collect();
    Ok(page(
        "console_transcript.html",
        lang,
        &access,
        context! {
            t => Serde(i18n::console(lang)),
            title => c.record.title,
            system => c.record.system_id,
            user => c.record.user_id,
            agent => c.agent,
            started => when(c.record.created_at),
            updated => when(c.record.updated_at),
            upstream_conversation => c.record.upstream_conversation_id,
            messages => Serde(shown),
            back => format!("/admin/conversations?lang={}", lang.as_str()),
        },
    ))
}

async fn usage(
    State(state): State<AppState>,
    access: Access,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (q, lang) = read_query(raw.as_deref(), &headers)?;
    let viewer = viewer_of(&access)?;
    let filter = q
        .usage_filter(&viewer, OffsetDateTime::now_utc())
        .map_err(ApiError::Validation)?;
    let rows = state.store.daily_usage(&filter).await?;
    let texts = i18n::console(lang);
    let chart = analytics::bar_chart(
        texts.page.messages_per_day,
        &analytics::per_day(&rows, |r| r.messages),
    );
    let table: Vec<_> = rows
        .iter()
        .map(|r| {
            context! {
                day => r.day.to_string(),
                system => r.system_id.clone(),
                agent => r.agent.clone(),
                conversations => r.conversations,
                messages => r.messages,
                active_users => r.active_users,
                failures => r.failures,
                latency_p50 => r.latency_p50_ms,
                latency_p95 => r.latency_p95_ms,
                ttft_p50 => r.ttft_p50_ms,
                ttft_p95 => r.ttft_p95_ms,
                tokens => r.prompt_tokens + r.completion_tokens,
            }
        })
        .collect();
    let params = filter_params(&q, lang);
    Ok(page(
        "console_analytics.html",
        lang,
        &access,
        context! {
            t => Serde(texts),
            f => Serde(&q),
            chart => minijinja::Value::from_safe_string(chart),
            rows => table,
            csv => format!("/v1/admin/analytics?format=csv&{params}"),
            conversations => format!("/admin/conversations?{params}"),
        },
    )
    .into_response())
}
