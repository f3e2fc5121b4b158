//! `POST /v1/chat`: send a message; the answer comes back as one JSON body,
//! or as server-sent events with `"stream": true` or
//! `Accept: text/event-stream`.
//!
//! The turn itself is [`crate::chat`]'s; this door only authenticates,
//! checks the request ([`TurnInput::from_request`]) and frames the answer.

use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures::Stream;
use sdk::{ChatRequest, StreamEvent};
use serde_json::json;
use time::OffsetDateTime;

use super::idempotent;
use crate::auth::{Caller, KeyId};
use crate::chat::{self, TurnInput};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::idempotency::{self, Begun, Held, KeptResult};
use crate::scope::Permission;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/chat", post(send))
}

#[utoipa::path(post, path = "/v1/chat", tag = "chat",
    summary = "Send a message; the answer as JSON or as server-sent events",
    description = "With `\"stream\": true` or `Accept: text/event-stream` the answer streams as SSE: each record's `event:` is the event type and its `data:` a `StreamEvent`; the stream ends with exactly one `end` or `error` event. The user's message is stored before any of the answer is sent (a blocking turn usually stores it while the upstream answers).",
    request_body = sdk::ChatRequest,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "1 to 255 visible ASCII characters, chosen by the client per request. A retry with the same key and body within 24 hours of the first request's end gets its result again (a stream is streamed again) without a second upstream call, marked `Idempotent-Replayed: true`; the same key with another body is refused with 422 `idempotency_key_reused`, and while the first request runs with 409 `idempotency_key_in_flight` and `Retry-After`.")),
    responses(
        (status = 200, description = "The answer", content(
            (sdk::ChatResponse = "application/json"),
            (sdk::StreamEvent = "text/event-stream"))),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 404, description = "No such conversation or route", body = sdk::ErrorBody),
        (status = 409, description = "The request first sent with this Idempotency-Key is still running (`idempotency_key_in_flight`, Retry-After)", body = sdk::ErrorBody),
        (status = 413, description = "Body too large", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field), or a malformed (`idempotency_key_invalid`) or reused (`idempotency_key_reused`) Idempotency-Key", body = sdk::ErrorBody),
        (status = 429, description = "Too many requests (Retry-After)", body = sdk::ErrorBody),
        (status = 502, description = "The upstream failed; the user's message is kept", body = sdk::ErrorBody),
        (status = 503, description = "Not ready, or the upstream is unavailable", body = sdk::ErrorBody),
        (status = 504, description = "The upstream timed out", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn send(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChatRequest>,
) -> ApiResult<Response> {
    let started = Instant::now();
    let wants_stream = req.stream || accepts_event_stream(&headers);
    caller.require(Permission::Chat)?;
    let identity = caller.identity(
        &state.auth,
        req.system_id.as_deref(),
        req.user_id.as_deref(),
    )?;
    let key = match caller {
        Caller::Server(_) => KeyId::presented(&headers),
        Caller::User(..) => None,
    };
    let idempotency_key = idempotent::key_of(&headers)?;
    state
        .limits
        .admit_turn(&identity, key.as_ref())
        .map_err(ApiError::RateLimited)?;
    let html = req.html;
    // What the key is checked against: the caller, and the request as read.
    let keyed = idempotency_key.map(|k| {
        let scope = idempotency::scope(&identity, key.as_ref());
        (k, scope, serde_json::to_value(&req).unwrap_or_default())
    });
    let mut input = TurnInput::from_request(&state.config.limits, identity, req)?;
    input.agent = caller.agent(input.agent.take())?;
    let held = match keyed {
        Some((k, scope, request)) => {
            let request =
                json!({ "request": request, "stream": wants_stream, "agent": input.agent });
            let body_hash = idempotency::fingerprint("chat", &request);
            match idempotency::begin(&state, scope, &k, &body_hash).await? {
                Begun::Fresh(held) => Some(held),
                Begun::Replay(result) => return Ok(replay(result, wants_stream, html)),
            }
        }
        None => None,
    };
    if wants_stream {
        let turn = chat::begin(&state, input).await?;
        let events = match chat::stream_resumable(&state, turn).await {
            Ok(events) => events,
            Err(e) => return refuse(e, held).await,
        };
        Ok(match held {
            Some(held) => sse(idempotent::recorded(events, held)),
            None => sse(events),
        })
    } else {
        let (reply, timing) = match chat::ask(&state, input).await {
            Ok(answered) => answered,
            Err(e) => return refuse(e, held).await,
        };
        if let Some(held) = held {
            let at = OffsetDateTime::now_utc();
            let (conversation, question) = (&reply.conversation_id, &reply.user_message_id);
            held.answered(conversation, question, &reply.message_id, at)
                .await;
        }
        let mut resp = Json(reply).into_response();
        if let Ok(value) = HeaderValue::from_str(&timing.header(started.elapsed())) {
            resp.headers_mut().insert("server-timing", value);
        }
        Ok(resp)
    }
}

/// Answer `e`; a keyed request keeps it for replays when the question was
/// stored (the error names it), and frees its key otherwise.
async fn refuse(e: ApiError, held: Option<Held>) -> ApiResult<Response> {
    match (e, held) {
        (e @ ApiError::Turn { .. }, Some(held)) => {
            Ok(idempotent::keep_refusal(held, e.into_response()).await)
        }
        (e, _) => Err(e),
    }
}

/// Answer again what a keyed request answered the first time.
fn replay(result: KeptResult, wants_stream: bool, html: bool) -> Response {
    let resp = match result {
        KeptResult::Answered(answer) if wants_stream => {
            sse(futures::stream::iter(idempotent::events(answer, html)))
        }
        KeptResult::Answered(answer) => {
            Json(idempotent::chat_response(answer, html)).into_response()
        }
        KeptResult::Refused { status, body, .. } => match idempotent::stream_error(status, &body) {
            Some(event) => sse(futures::stream::iter([event])),
            None => return idempotent::refusal(status, body),
        },
    };
    idempotent::replayed(resp)
}

/// Frame an answer's events as server-sent events, one named event each,
/// with ids a client can reattach from (see `routes::resume`).
fn sse(events: impl Stream<Item = StreamEvent> + Send + 'static) -> Response {
    super::resume::sse(events, super::resume::EventIds::default())
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}
