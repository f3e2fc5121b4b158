//! A streamed turn as OpenAI's `chat.completion.chunk` records: a first
//! chunk with the role, one per delta, one with `finish_reason`, the usage
//! chunk when asked for, and `data: [DONE]`. A failure mid-stream is a
//! `data: {"error":…}` record and the end of the stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use sdk::StreamEvent;

use super::wire::{self, ChunkChoice, Delta, ErrorBody, Usage};
use super::{detail, now};

/// SSE keep-alive comment interval.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Frame a turn's events as `chat.completion.chunk` records and `[DONE]`.
pub(super) fn sse(
    events: impl Stream<Item = StreamEvent> + Send + 'static,
    model: String,
    include_usage: bool,
) -> Response {
    let mut framer = Framer {
        id: String::new(),
        model,
        created: now(),
        include_usage,
        sent: String::new(),
    };
    let open = crate::metrics::OpenStream::open(crate::metrics::Door::Sse);
    let records = events
        .flat_map(move |event| {
            let _counted_while_open = &open;
            futures::stream::iter(framer.frame(event))
        })
        .map(Ok::<_, Infallible>);
    let mut resp = Sse::new(records)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    resp.headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Turns events into SSE records.
struct Framer {
    /// The assistant message's id (from `start`).
    id: String,
    model: String,
    created: i64,
    include_usage: bool,
    /// The text sent so far.
    sent: String,
}

impl Framer {
    fn frame(&mut self, event: StreamEvent) -> Vec<Event> {
        match event {
            StreamEvent::Start { message_id, .. } => {
                self.id = message_id;
                vec![self.chunk(
                    Delta {
                        role: Some("assistant"),
                        content: Some(String::new()),
                    },
                    None,
                )]
            }
            StreamEvent::Delta { text } => self.append(text),
            StreamEvent::Replace { text } => match text.strip_prefix(self.sent.as_str()) {
                Some(rest) if !rest.is_empty() => self.append(rest.to_owned()),
                _ => Vec::new(),
            },
            StreamEvent::Html { .. } => Vec::new(),
            StreamEvent::End { usage, .. } => {
                let mut records = vec![self.chunk(Delta::default(), Some("stop"))];
                if self.include_usage {
                    records.push(
                        self.record(Vec::new(), Some(usage.map(Usage::from).unwrap_or_default())),
                    );
                }
                records.push(Event::default().data("[DONE]"));
                records
            }
            StreamEvent::Error {
                code,
                message,
                status,
            } => {
                let body = ErrorBody {
                    error: detail(status, code, message, None),
                };
                vec![Event::default().data(serde_json::to_string(&body).unwrap_or_default())]
            }
        }
    }

    fn append(&mut self, text: String) -> Vec<Event> {
        self.sent.push_str(&text);
        vec![self.chunk(
            Delta {
                role: None,
                content: Some(text),
            },
            None,
        )]
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<&'static str>) -> Event {
        self.record(
            vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                logprobs: None,
            }],
            None,
        )
    }

    fn record(&self, choices: Vec<ChunkChoice>, usage: Option<Usage>) -> Event {
        let chunk = wire::Chunk {
            id: self.id.clone(),
            object: "chat.completion.chunk",
            created: self.created,
            model: self.model.clone(),
            choices,
            usage,
        };
        Event::default().data(serde_json::to_string(&chunk).unwrap_or_default())
    }
}
