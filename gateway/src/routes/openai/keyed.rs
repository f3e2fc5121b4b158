//! The OpenAI door's side of `Idempotency-Key` (see `routes::idempotent`):
//! a replay in OpenAI's shapes, and refusals kept for replays.

use axum::Json;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::wire::{AssistantMessage, Choice, Completion, CompletionRequest, Usage};
use super::{CONVERSATION_HEADER, OpenAiError, stream};
use crate::error::ApiError;
use crate::idempotency::{Held, KeptResult};
use crate::routes::idempotent;

/// A blocking completion's body; `at` is when it was answered.
pub(super) fn completion(
    id: String,
    content: String,
    usage: Usage,
    model: String,
    at: OffsetDateTime,
) -> Json<Completion> {
    Json(Completion {
        id,
        object: "chat.completion",
        created: at.unix_timestamp(),
        model,
        choices: vec![Choice {
            index: 0,
            message: AssistantMessage {
                role: "assistant",
                content,
            },
            finish_reason: "stop",
            logprobs: None,
        }],
        usage,
    })
}

/// Answer again what a keyed request answered the first time.
pub(super) fn replay(result: KeptResult, req: &CompletionRequest) -> Response {
    let (resp, conversation) = match result {
        KeptResult::Answered(answer) => {
            let conversation = HeaderValue::from_str(&answer.conversation_id).ok();
            let resp = if req.stream {
                let include_usage = req.stream_options.as_ref().is_some_and(|o| o.include_usage);
                let events = futures::stream::iter(idempotent::events(answer, false));
                stream::sse(events, req.model.clone(), include_usage)
            } else {
                let usage = idempotent::usage_of(&answer)
                    .map(Usage::from)
                    .unwrap_or_default();
                let at = answer.finished_at;
                completion(
                    answer.message_id,
                    answer.content,
                    usage,
                    req.model.clone(),
                    at,
                )
                .into_response()
            };
            (resp, conversation)
        }
        KeptResult::Refused { status, body, .. } => match idempotent::stream_error(status, &body) {
            Some(event) => {
                let include_usage = req.stream_options.as_ref().is_some_and(|o| o.include_usage);
                let events = futures::stream::iter([event]);
                (stream::sse(events, req.model.clone(), include_usage), None)
            }
            None => return idempotent::refusal(status, body),
        },
    };
    let mut resp = idempotent::replayed(resp);
    if let Some(value) = conversation {
        resp.headers_mut().insert(CONVERSATION_HEADER, value);
    }
    resp
}

/// Answer `e` in OpenAI's shape; a keyed request keeps it for replays when
/// the question was stored (the error names it), and frees its key
/// otherwise.
pub(super) async fn refuse(e: ApiError, held: Option<Held>) -> Result<Response, OpenAiError> {
    match (e, held) {
        (e @ ApiError::Turn { .. }, Some(held)) => {
            let refused = OpenAiError::from(e).into_response();
            Ok(idempotent::keep_refusal(held, refused).await)
        }
        (e, _) => Err(e.into()),
    }
}
