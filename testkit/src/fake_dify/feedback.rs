//! `POST /v1/messages/{message_id}/feedbacks` with `{"rating", "user",
//! "content"}`: like, dislike, or `null` to remove, as Dify answers it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::lists::user_of;
use super::{Inner, RecordedFeedback, dify_error, refuse_unauthorized};

pub(super) async fn give(
    State(inner): State<Arc<Inner>>,
    Path(message_id): Path<String>,
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
    let parsed = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
    let rating = match parsed.get("rating") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if r == "like" || r == "dislike" => Some(r.clone()),
        Some(_) => {
            return dify_error(
                StatusCode::BAD_REQUEST,
                "invalid_param",
                "rating must be like, dislike or null",
            );
        }
    };
    let content = parsed
        .get("content")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut data = inner.data();
    data.feedback_requests.push(RecordedFeedback {
        message_id: message_id.clone(),
        user: user.clone(),
        rating: rating.clone(),
        content: content.clone(),
    });
    if let Some(status) = data.feedback_faults.pop_front() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return dify_error(status, "internal_server_error", "Internal Server Error");
    }
    let owns = data.conversations.get(&user).is_some_and(|list| {
        list.iter()
            .any(|c| c.turns.iter().any(|t| t.id == message_id))
    });
    if !owns {
        return dify_error(StatusCode::NOT_FOUND, "not_found", "Message Not Exists.");
    }
    match rating {
        Some(rating) => {
            data.feedback.insert(message_id, (rating, content));
        }
        None => {
            if data.feedback.remove(&message_id).is_none() {
                return dify_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_param",
                    "Feedback does not exist.",
                );
            }
        }
    }
    axum::Json(json!({"result": "success"})).into_response()
}
