//! Conversations and messages: list (with Dify's paging), rename, delete.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Conversation, Inner, dify_error, refuse_unauthorized};

fn conversation_json(c: &Conversation) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "inputs": {},
        "status": "normal",
        "introduction": "",
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

/// The `limit` parameter (1–100, default 20); `None` when out of range.
fn limit(q: &HashMap<String, String>) -> Option<usize> {
    match q.get("limit").map(|l| l.parse::<usize>()) {
        None => Some(20),
        Some(Ok(n)) if (1..=100).contains(&n) => Some(n),
        _ => None,
    }
}

fn bad_limit() -> Response {
    dify_error(
        StatusCode::BAD_REQUEST,
        "invalid_param",
        "limit must be between 1 and 100",
    )
}

/// `GET /v1/conversations?user&last_id&limit&sort_by`.
pub(super) async fn conversations(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(resp) = refuse_unauthorized(&inner, &headers) {
        return resp;
    }
    let Some(limit) = limit(&q) else {
        return bad_limit();
    };
    let user = q.get("user").map_or("DEFAULT-USER", String::as_str);
    let data = inner.data();
    let mut list: Vec<&Conversation> = data
        .conversations
        .get(user)
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    match q.get("sort_by").map_or("-updated_at", String::as_str) {
        "created_at" => list.sort_by_key(|c| c.created_at),
        "-created_at" => list.sort_by_key(|c| std::cmp::Reverse(c.created_at)),
        "updated_at" => list.sort_by_key(|c| c.updated_at),
        _ => list.sort_by_key(|c| std::cmp::Reverse(c.updated_at)),
    }
    let start = match q.get("last_id").filter(|l| !l.is_empty()) {
        None => 0,
        Some(last) => match list.iter().position(|c| &c.id == last) {
            Some(i) => i + 1,
            None => {
                return dify_error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "Last Conversation Not Exists.",
                );
            }
        },
    };
    let page: Vec<Value> = list
        .iter()
        .skip(start)
        .take(limit)
        .map(|c| conversation_json(c))
        .collect();
    let has_more = start + page.len() < list.len();
    axum::Json(json!({"limit": limit, "has_more": has_more, "data": page})).into_response()
}

/// `GET /v1/messages?conversation_id&user&first_id&limit`: the newest
/// `limit` turns older than `first_id`, oldest first within the page.
pub(super) async fn messages(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(resp) = refuse_unauthorized(&inner, &headers) {
        return resp;
    }
    let Some(limit) = limit(&q) else {
        return bad_limit();
    };
    let Some(conversation_id) = q.get("conversation_id") else {
        return dify_error(
            StatusCode::BAD_REQUEST,
            "invalid_param",
            "conversation_id is required",
        );
    };
    let user = q.get("user").map_or("DEFAULT-USER", String::as_str);
    let data = inner.data();
    let Some(conv) = data
        .conversations
        .get(user)
        .and_then(|l| l.iter().find(|c| &c.id == conversation_id))
    else {
        return dify_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Conversation Not Exists.",
        );
    };
    let end = match q.get("first_id").filter(|f| !f.is_empty()) {
        None => conv.turns.len(),
        Some(first) => match conv.turns.iter().position(|t| &t.id == first) {
            Some(i) => i,
            None => {
                return dify_error(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "First Message Not Exists.",
                );
            }
        },
    };
    let start = end.saturating_sub(limit);
    let page: Vec<Value> = conv.turns[start..end]
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "conversation_id": conv.id,
                "parent_message_id": null,
                "inputs": {},
                "query": t.query,
                "answer": t.answer,
                "status": "normal",
                "error": null,
                "message_files": [],
                "feedback": null,
                "retriever_resources": [],
                "agent_thoughts": [],
                "created_at": t.created_at,
            })
        })
        .collect();
    axum::Json(json!({"limit": limit, "has_more": start > 0, "data": page})).into_response()
}

pub(super) fn user_of(body: &Bytes) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("user")?
        .as_str()
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
}

/// `DELETE /v1/conversations/{id}` with `{"user"}`: 204, empty body.
pub(super) async fn delete_conversation(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(resp) = refuse_unauthorized(&inner, &headers) {
        return resp;
    }
    let Some(user) = user_of(&body) else {
        return dify_error(
            StatusCode::BAD_REQUEST,
            "invalid_param",
            "Arg user must be provided.",
        );
    };
    let mut data = inner.data();
    let Some(list) = data.conversations.get_mut(&user) else {
        return dify_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Conversation Not Exists.",
        );
    };
    let before = list.len();
    list.retain(|c| c.id != id);
    if list.len() == before {
        return dify_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Conversation Not Exists.",
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /v1/conversations/{id}/name` with `{"name", "user"}`.
pub(super) async fn rename(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(resp) = refuse_unauthorized(&inner, &headers) {
        return resp;
    }
    let Some(user) = user_of(&body) else {
        return dify_error(
            StatusCode::BAD_REQUEST,
            "invalid_param",
            "Arg user must be provided.",
        );
    };
    let name = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned));
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return dify_error(StatusCode::BAD_REQUEST, "invalid_param", "name is required");
    };
    let mut data = inner.data();
    let Some(conv) = data
        .conversations
        .get_mut(&user)
        .and_then(|l| l.iter_mut().find(|c| c.id == id))
    else {
        return dify_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Conversation Not Exists.",
        );
    };
    conv.name = name;
    axum::Json(conversation_json(conv)).into_response()
}
