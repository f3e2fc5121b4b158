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
use sdk::ChatRequest;

use crate::auth::{Caller, KeyId};
use crate::chat::{self, TurnEvents, TurnInput};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::scope::Permission;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/chat", post(send))
}

#[utoipa::path(post, path = "/v1/chat", tag = "chat",
    summary = "Send a message; the answer as JSON or as server-sent events",
    description = "With `\"stream\": true` or `Accept: text/event-stream` the answer streams as SSE: each record's `event:` is the event type and its `data:` a `StreamEvent`; the stream ends with exactly one `end` or `error` event. The user's message is stored before the upstream is called.",
    request_body = sdk::ChatRequest,
    responses(
        (status = 200, description = "The answer", content(
            (sdk::ChatResponse = "application/json"),
            (sdk::StreamEvent = "text/event-stream"))),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 404, description = "No such conversation or route", body = sdk::ErrorBody),
        (status = 413, description = "Body too large", body = sdk::ErrorBody),
        (status = 422, description = "Invalid input (the message names the field)", body = sdk::ErrorBody),
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
    state
        .limits
        .admit_turn(&identity, key.as_ref())
        .map_err(ApiError::RateLimited)?;
    let mut input = TurnInput::from_request(&state.config.limits, identity, req)?;
    input.agent = caller.agent(input.agent.take())?;
    let turn = chat::begin(&state, input).await?;
    if wants_stream {
        Ok(sse(chat::stream_resumable(&state, turn).await?))
    } else {
        let (reply, timing) = chat::reply(&state, turn).await?;
        let mut resp = Json(reply).into_response();
        if let Ok(value) = HeaderValue::from_str(&timing.header(started.elapsed())) {
            resp.headers_mut().insert("server-timing", value);
        }
        Ok(resp)
    }
}

/// Frame a turn's events as server-sent events, one named event each, with
/// ids a client can reattach from (see `routes::resume`).
fn sse(events: TurnEvents) -> Response {
    super::resume::sse(events, super::resume::EventIds::default())
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}
