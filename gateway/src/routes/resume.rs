//! Resumable streams: the `id` of every server-sent event of `POST /v1/chat`,
//! and `GET /v1/conversations/{conversation_id}/messages/{message_id}/stream`,
//! which reattaches to an answer from the last id a client saw.
//!
//! An event id is `<assistant message id>:<n>:<offset>`: `n` counts the
//! events of the answer (0 for `start`; a reattached stream goes on from the
//! client's `n`, so ids only grow), `offset` is the bytes of answer text (UTF-8)
//! the client has after the event (after a `replace`, the replacement's
//! length). The reattach route takes it from `Last-Event-ID` (what a
//! browser's `EventSource` sends when it reconnects), or from the
//! `last_event_id` query parameter; without either it starts at the
//! beginning. It answers the rest of the text as one `delta`, then the live
//! events, then the turn's `end` or `error` (see [`crate::chat::resume`]).
//! `DELETE` on the same path stops the answer (Stop: a stream whose client
//! left goes on for the resume grace otherwise).

use std::convert::Infallible;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::{Stream, StreamExt};
use sdk::StreamEvent;
use serde::Deserialize;

use crate::auth::Caller;
use crate::chat::resume::{self, ResumeFrom, Stopped};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::scope::Permission;
use crate::state::AppState;
use crate::stored_text::check_id;

/// SSE keep-alive comment interval.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/conversations/{conversation_id}/messages/{message_id}/stream",
        get(reattach).delete(stop),
    )
}

/// The ids of one answer's events, in order.
#[derive(Debug, Default)]
pub(super) struct EventIds {
    message_id: String,
    /// The next event's number.
    next: u64,
    offset: usize,
}

impl EventIds {
    /// Ids that go on after `from` (a reattached stream).
    fn after(from: &LastEventId) -> Self {
        Self {
            message_id: from.message_id.clone(),
            next: from.n.saturating_add(1),
            offset: from.offset,
        }
    }

    /// The id of `event`, the next of the answer.
    pub(super) fn id_of(&mut self, event: &StreamEvent) -> String {
        match event {
            StreamEvent::Start { message_id, .. } => message_id.clone_into(&mut self.message_id),
            StreamEvent::Delta { text } => self.offset += text.len(),
            StreamEvent::Replace { text } => self.offset = text.len(),
            StreamEvent::Html { .. } | StreamEvent::End { .. } | StreamEvent::Error { .. } => {}
        }
        let id = format!("{}:{}:{}", self.message_id, self.next, self.offset);
        self.next += 1;
        id
    }
}

/// A parsed event id.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LastEventId {
    message_id: String,
    n: u64,
    offset: usize,
}

impl LastEventId {
    fn parse(id: &str) -> ApiResult<Self> {
        let bad = || ApiError::Validation(format!("{id:?} is not an event id of this API"));
        let mut parts = id.rsplitn(3, ':');
        let offset = parts.next().and_then(|o| o.parse().ok()).ok_or_else(bad)?;
        let n = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
        let message_id = parts.next().filter(|m| !m.is_empty()).ok_or_else(bad)?;
        Ok(Self {
            message_id: message_id.to_owned(),
            n,
            offset,
        })
    }
}

/// Frame an answer's events as server-sent events, one named event each,
/// with `ids` numbering them.
pub(super) fn sse(
    events: impl Stream<Item = StreamEvent> + Send + 'static,
    mut ids: EventIds,
) -> Response {
    let open = crate::metrics::OpenStream::open(crate::metrics::Door::Sse);
    let events = events.map(move |ev| {
        let _counted_while_open = &open;
        let data = serde_json::to_string(&ev).unwrap_or_else(|_| "{}".to_owned());
        let event = Event::default()
            .event(ev.name())
            .id(ids.id_of(&ev))
            .data(data);
        Ok::<_, Infallible>(event)
    });
    let mut resp = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // Ask reverse proxies (nginx) not to buffer the stream.
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Query of the reattach route.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReattachQuery {
    system_id: Option<String>,
    user_id: Option<String>,
    /// The last event id the client saw, for clients that cannot send
    /// `Last-Event-ID`.
    last_event_id: Option<String>,
    /// Add the answer rendered as sanitised HTML to the `end` event.
    #[serde(default)]
    html: bool,
}

#[utoipa::path(get, path = "/v1/conversations/{conversation_id}/messages/{message_id}/stream", tag = "chat",
    summary = "Reattach to a streamed answer from the last event id seen",
    description = "Answers server-sent events as `POST /v1/chat` does: the answer's text after the offset of `Last-Event-ID` (or `last_event_id`; none: from the start) as one `delta`, then the answer's further events while its turn runs (on any replica), then exactly one `end` or `error`. A finished answer gives the rest and its last event at once. Event ids are `<message id>:<n>:<offset>`, `offset` being bytes of answer text.",
    params(
        ("conversation_id" = String, Path, description = "The gateway's conversation id"),
        ("message_id" = String, Path, description = "The assistant message (the `message_id` of `start`)"),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received"),
        ReattachQuery),
    responses(
        (status = 200, description = "The rest of the answer", content((sdk::StreamEvent = "text/event-stream"))),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 404, description = "No such answer for this user", body = sdk::ErrorBody),
        (status = 422, description = "Not an answer, or an event id that is not a place in it", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn reattach(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiPath((conversation_id, message_id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<ReattachQuery>,
) -> ApiResult<Response> {
    caller.require(Permission::Read)?;
    let who = caller.identity(&state.auth, q.system_id.as_deref(), q.user_id.as_deref())?;
    check_id("conversation id", &conversation_id)?;
    check_id("message id", &message_id)?;
    let header = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::Validation("Last-Event-ID is not text".into()))
        })
        .transpose()?;
    let from = match header.or(q.last_event_id.as_deref()) {
        Some(id) => LastEventId::parse(id)?,
        None => LastEventId {
            message_id: message_id.clone(),
            n: 0,
            offset: 0,
        },
    };
    if from.message_id != message_id {
        return Err(ApiError::Validation(
            "the event id belongs to another message".into(),
        ));
    }
    let events = resume::resume(
        &state,
        &who,
        ResumeFrom {
            conversation_id: &conversation_id,
            message_id: &message_id,
            offset: from.offset,
            html: q.html,
        },
    )
    .await?;
    Ok(sse(events, EventIds::after(&from)))
}

/// Owner in the query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct OwnerQuery {
    system_id: Option<String>,
    user_id: Option<String>,
}

#[utoipa::path(delete, path = "/v1/conversations/{conversation_id}/messages/{message_id}/stream", tag = "chat",
    summary = "Stop a streamed answer",
    description = "What Stop means now that a stream whose client left goes on for a while (so it can be resumed): the answer is cut at once and what arrived is stored as `incomplete` (204). 204 too for an answer already stored. 202 when another replica streams it: that one cuts it once no one has followed it for `CHAT_GATEWAY_RESUME_GRACE_SECS`.",
    params(
        ("conversation_id" = String, Path, description = "The gateway's conversation id"),
        ("message_id" = String, Path, description = "The assistant message (the `message_id` of `start`)"),
        OwnerQuery),
    responses(
        (status = 202, description = "Streamed by another replica; cut there after the grace period"),
        (status = 204, description = "Stopped, or already finished"),
        (status = 400, description = "Malformed request", body = sdk::ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = sdk::ErrorBody),
        (status = 403, description = "Not allowed for this caller (identity mismatch, origin, agent)", body = sdk::ErrorBody),
        (status = 404, description = "No such answer for this user", body = sdk::ErrorBody),
        (status = 422, description = "Not an answer", body = sdk::ErrorBody)),
    security(("chat_token" = []), ("api_key" = [])))]
pub(super) async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((conversation_id, message_id)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<OwnerQuery>,
) -> ApiResult<Response> {
    caller.require(Permission::Chat)?;
    let who = caller.identity(&state.auth, q.system_id.as_deref(), q.user_id.as_deref())?;
    check_id("conversation id", &conversation_id)?;
    check_id("message id", &message_id)?;
    Ok(
        match resume::stop(&state, &who, &conversation_id, &message_id).await? {
            Stopped::Now | Stopped::AlreadyFinished => super::no_content(),
            Stopped::Elsewhere => axum::http::StatusCode::ACCEPTED.into_response(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_events_and_answer_bytes() {
        let mut ids = EventIds::default();
        let start = StreamEvent::Start {
            conversation_id: "c".into(),
            user_message_id: "q".into(),
            message_id: "m-1".into(),
        };
        assert_eq!(ids.id_of(&start), "m-1:0:0");
        assert_eq!(
            ids.id_of(&StreamEvent::Delta {
                text: "안녕".into()
            }),
            "m-1:1:6"
        );
        assert_eq!(
            ids.id_of(&StreamEvent::Html { html: "<p>".into() }),
            "m-1:2:6"
        );
        assert_eq!(
            ids.id_of(&StreamEvent::Replace { text: "ab".into() }),
            "m-1:3:2"
        );
    }

    #[test]
    fn event_ids_parse_with_dashes_and_colons_in_the_message_id() {
        let id = LastEventId::parse("0192-ab:cd:17:42").expect("parses");
        assert_eq!(
            id,
            LastEventId {
                message_id: "0192-ab:cd".into(),
                n: 17,
                offset: 42
            }
        );
        for bad in ["", "m:1", "m:x:1", "m:1:-2", ":1:2"] {
            assert!(LastEventId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
