//! `Idempotency-Key` as the chat doors speak it (the rules are
//! [`crate::idempotency`]'s): reading the header, recording what a keyed
//! request answered, and answering a replay, marked `Idempotent-Replayed`.
//!
//! A streamed request records the stream's last event: `end` points the
//! key to the stored answer; an `error` event is kept as it was sent, under
//! status 200 (the stream's), and a replay streams it again. A stream the
//! client left before its end records nothing and frees the key.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::{Stream, StreamExt};
use sdk::{ChatResponse, StreamEvent, Usage};
use time::OffsetDateTime;

use crate::error::ApiResult;
use crate::idempotency::{Held, IdempotencyKey, KeptAnswer};
use crate::markdown;

/// The request header naming the key.
pub(super) const KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on every answer that replays an earlier request's result.
pub(super) const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Largest error body kept for a replay (error bodies are a few hundred
/// bytes; anything larger is not one of ours).
const MAX_KEPT_BODY: usize = 64 * 1024;

/// The request's key, if it sent one.
pub(super) fn key_of(headers: &HeaderMap) -> ApiResult<Option<IdempotencyKey>> {
    headers
        .get(&KEY_HEADER)
        .map(|v| IdempotencyKey::parse(v.as_bytes()))
        .transpose()
}

/// Mark `resp` as a replay.
pub(super) fn replayed(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    resp
}

/// Keep an error response sent after the question was stored, and send it.
pub(super) async fn keep_refusal(held: Held, resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_KEPT_BODY).await else {
        // Dropping `held` frees the key: a retry runs afresh.
        return Response::from_parts(parts, Body::empty());
    };
    let text = String::from_utf8_lossy(&bytes);
    held.refused(parts.status.as_u16(), &text, OffsetDateTime::now_utc())
        .await;
    Response::from_parts(parts, Body::from(bytes))
}

/// A kept refusal, answered again as a JSON error.
pub(super) fn refusal(status: u16, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    replayed(resp)
}

/// A kept stream `error` event (kept under status 200), if `status` and
/// `body` are one.
pub(super) fn stream_error(status: u16, body: &str) -> Option<StreamEvent> {
    if status != StatusCode::OK.as_u16() {
        return None;
    }
    serde_json::from_str(body)
        .ok()
        .filter(|ev: &StreamEvent| matches!(ev, StreamEvent::Error { .. }))
}

/// `events`, recording on `held` how the stream ended.
pub(super) fn recorded(
    events: impl Stream<Item = StreamEvent> + Send + Unpin + 'static,
    held: Held,
) -> impl Stream<Item = StreamEvent> + Send + 'static {
    futures::stream::unfold((events, Some(held)), |(mut events, mut held)| async move {
        let event = events.next().await?;
        match &event {
            StreamEvent::End {
                conversation_id,
                message_id,
                user_message_id,
                ..
            } => {
                if let Some(held) = held.take() {
                    let at = OffsetDateTime::now_utc();
                    held.answered(conversation_id, user_message_id, message_id, at)
                        .await;
                }
            }
            StreamEvent::Error { .. } => {
                if let Some(held) = held.take() {
                    let body = serde_json::to_string(&event).unwrap_or_default();
                    let at = OffsetDateTime::now_utc();
                    held.refused(StatusCode::OK.as_u16(), &body, at).await;
                }
            }
            _ => {}
        }
        Some((event, (events, held)))
    })
}

/// The usage a stored answer reported, as the first answer gave it.
pub(super) fn usage_of(answer: &KeptAnswer) -> Option<Usage> {
    match (answer.prompt_tokens, answer.completion_tokens) {
        (Some(prompt_tokens), Some(completion_tokens)) => Some(Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }),
        _ => None,
    }
}

/// The blocking body of a stored answer.
pub(super) fn chat_response(answer: KeptAnswer, html: bool) -> ChatResponse {
    ChatResponse {
        html: html.then(|| markdown::render(&answer.content)),
        usage: usage_of(&answer),
        conversation_id: answer.conversation_id,
        message_id: answer.message_id,
        user_message_id: answer.user_message_id,
        answer: answer.content,
    }
}

/// A stored answer as the events of a stream: `start`, the whole text as
/// one `delta`, `end`.
pub(super) fn events(answer: KeptAnswer, html: bool) -> Vec<StreamEvent> {
    let usage = usage_of(&answer);
    let mut events = vec![StreamEvent::Start {
        conversation_id: answer.conversation_id.clone(),
        user_message_id: answer.user_message_id.clone(),
        message_id: answer.message_id.clone(),
    }];
    let rendered = html.then(|| markdown::render(&answer.content));
    if !answer.content.is_empty() {
        events.push(StreamEvent::Delta {
            text: answer.content,
        });
    }
    events.push(StreamEvent::End {
        conversation_id: answer.conversation_id,
        message_id: answer.message_id,
        user_message_id: answer.user_message_id,
        usage,
        html: rendered,
    });
    events
}
