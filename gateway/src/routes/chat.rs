//! `POST /v1/chat`: send a message; the answer comes back as one JSON body,
//! or as server-sent events with `"stream": true` or
//! `Accept: text/event-stream`.

use axum::extract::State;
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use sdk::ChatRequest;

use crate::auth::Caller;
use crate::chat::{self, TurnInput};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::state::AppState;

/// Largest `inputs` object, serialised.
const MAX_INPUTS_BYTES: usize = 16 * 1024;
/// Longest conversation id accepted before lookup.
const MAX_ID_LEN: usize = 64;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/chat", post(send))
}

async fn send(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ChatRequest>,
) -> ApiResult<Response> {
    let started = Instant::now();
    let wants_stream = req.stream || accepts_event_stream(&headers);
    let input = validate(&state, &caller, req)?;
    let turn = chat::begin(&state, input).await?;
    if wants_stream {
        let mut resp = chat::stream(&state, turn).await?.into_response();
        // Ask reverse proxies (nginx) not to buffer the stream.
        resp.headers_mut().insert(
            "x-accel-buffering",
            axum::http::HeaderValue::from_static("no"),
        );
        Ok(resp)
    } else {
        let (reply, timing) = chat::reply(&state, turn).await?;
        let mut resp = Json(reply).into_response();
        if let Ok(value) = HeaderValue::from_str(&timing.header(started.elapsed())) {
            resp.headers_mut().insert("server-timing", value);
        }
        Ok(resp)
    }
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

fn validate(state: &AppState, caller: &Caller, req: ChatRequest) -> ApiResult<TurnInput> {
    let identity = caller.identity(
        &state.auth,
        req.system_id.as_deref(),
        req.user_id.as_deref(),
    )?;
    let message = req.message.trim();
    if message.is_empty() {
        return Err(ApiError::Validation("message must not be empty".into()));
    }
    let max = state.config.limits.max_message_chars;
    if message.chars().count() > max {
        return Err(ApiError::Validation(format!(
            "message is longer than {max} characters"
        )));
    }
    let conversation_id = req.conversation_id.filter(|c| !c.trim().is_empty());
    if conversation_id
        .as_ref()
        .is_some_and(|c| c.len() > MAX_ID_LEN)
    {
        return Err(ApiError::Validation(format!(
            "conversation_id is longer than {MAX_ID_LEN} characters"
        )));
    }
    let retry_of = req.retry_message_id.filter(|r| !r.trim().is_empty());
    if let Some(retry) = &retry_of {
        if conversation_id.is_none() {
            return Err(ApiError::Validation(
                "retry_message_id needs the conversation_id it belongs to".into(),
            ));
        }
        if retry.len() > MAX_ID_LEN {
            return Err(ApiError::Validation(format!(
                "retry_message_id is longer than {MAX_ID_LEN} characters"
            )));
        }
    }
    let inputs = req.inputs.unwrap_or_default();
    let inputs_size = serde_json::to_vec(&inputs)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if inputs_size > MAX_INPUTS_BYTES {
        return Err(ApiError::Validation(format!(
            "inputs is larger than {MAX_INPUTS_BYTES} bytes"
        )));
    }
    Ok(TurnInput {
        identity,
        message: message.to_owned(),
        conversation_id,
        inputs,
        html: req.html,
        retry_of,
    })
}
