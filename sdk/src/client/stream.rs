//! A streamed reply: response bytes → [`SseDecoder`] → typed
//! [`StreamEvent`]s.
//!
//! Invariants: the stream yields at most one terminal event
//! ([`StreamEvent::End`] or [`StreamEvent::Error`]) and nothing after it;
//! keep-alive comments, events without data and event types this SDK does
//! not know (added by a newer gateway) are skipped; a connection that closes
//! before the terminal event yields [`StreamError::EndedEarly`]. Dropping the
//! stream closes the connection: the gateway then stores the partial answer
//! as `incomplete`.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::error::{Error, StreamError};
use crate::sse::{SseDecoder, SseEvent};
use crate::{ChatResponse, StreamEvent};

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// The events of one streamed reply, from
/// [`UserClient::chat_stream`](crate::UserClient::chat_stream).
///
/// Read it with [`next_event`](Self::next_event), or as a
/// [`futures::Stream`] of `Result<StreamEvent, Error>`.
///
/// ```no_run
/// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
/// use tz_chat_sdk::{ChatRequest, StreamEvent};
///
/// let mut stream = client.user("cointutor", "42").chat_stream(ChatRequest::new("Hi")).await?;
/// while let Some(event) = stream.next_event().await {
///     match event? {
///         StreamEvent::Delta { text } => print!("{text}"),
///         StreamEvent::Error { message, .. } => eprintln!("\nfailed: {message}"),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing unless read"]
pub struct ChatStream {
    body: Body,
    status: u16,
    decoder: SseDecoder,
    body_done: bool,
    finished: bool,
    last_event_id: Option<String>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    pub(crate) fn new(resp: reqwest::Response) -> Self {
        Self {
            status: resp.status().as_u16(),
            body: Box::pin(resp.bytes_stream()),
            decoder: SseDecoder::new(),
            body_done: false,
            finished: false,
            last_event_id: None,
        }
    }

    /// The `id` of the last event read: after a lost connection, pass it to
    /// [`UserClient::resume_stream`](crate::UserClient::resume_stream) to
    /// get exactly the rest of the answer. `None` before the first event (or
    /// from a gateway that does not number its events).
    ///
    /// ```no_run
    /// # async fn run(mut stream: tz_chat_sdk::ChatStream) {
    /// while let Some(Ok(_)) = stream.next_event().await {}
    /// println!("resume from {:?}", stream.last_event_id());
    /// # }
    /// ```
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The next event; `None` after the terminal event (or after an error).
    ///
    /// ```no_run
    /// # async fn run(mut stream: tz_chat_sdk::ChatStream) -> Result<(), tz_chat_sdk::Error> {
    /// if let Some(first) = stream.next_event().await {
    ///     assert!(matches!(first?, tz_chat_sdk::StreamEvent::Start { .. }));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_event(&mut self) -> Option<Result<StreamEvent, Error>> {
        self.next().await
    }

    /// Read the whole reply and return it as a blocking call would have: the
    /// deltas (and replacements) joined, ids and usage from the `end` event.
    /// An `error` event becomes [`Error::Api`] carrying the conversation and
    /// the stored user message (from the `start` event), as a blocking
    /// call's error does, so the turn can be retried.
    ///
    /// ```no_run
    /// # async fn run(client: tz_chat_sdk::Client) -> Result<(), tz_chat_sdk::Error> {
    /// let stream = client.user("cointutor", "42").chat_stream(tz_chat_sdk::ChatRequest::new("Hi")).await?;
    /// let reply = stream.into_response().await?;
    /// println!("{}", reply.answer);
    /// # Ok(()) }
    /// ```
    pub async fn into_response(mut self) -> Result<ChatResponse, Error> {
        let mut answer = String::new();
        let mut started = None;
        while let Some(event) = self.next().await {
            match event? {
                StreamEvent::Start {
                    conversation_id,
                    user_message_id,
                    ..
                } => started = Some((conversation_id, user_message_id)),
                StreamEvent::Delta { text } => answer.push_str(&text),
                StreamEvent::Replace { text } => answer = text,
                StreamEvent::End {
                    conversation_id,
                    message_id,
                    user_message_id,
                    usage,
                    html,
                } => {
                    return Ok(ChatResponse {
                        conversation_id,
                        message_id,
                        user_message_id,
                        answer,
                        usage,
                        html,
                    });
                }
                StreamEvent::Error {
                    code,
                    message,
                    status,
                } => {
                    let (conversation_id, message_id) = started.unzip();
                    return Err(Error::Api {
                        status,
                        code,
                        message,
                        conversation_id,
                        message_id,
                    });
                }
                StreamEvent::Html { .. } => {}
            }
        }
        Err(StreamError::EndedEarly.into())
    }

    /// Turn one decoded SSE record into an event; `None` to skip it.
    fn event_of(&mut self, mut record: SseEvent) -> Option<Result<StreamEvent, Error>> {
        // As a browser's EventSource: an event without an id keeps the last.
        if let Some(id) = record.id.take() {
            self.last_event_id = Some(id);
        }
        if record.data.is_empty() {
            return None;
        }
        match serde_json::from_str::<StreamEvent>(&record.data) {
            Ok(event) => Some(Ok(event)),
            Err(source) => {
                // An event type added by a newer gateway is skipped; a known
                // type that does not parse is an error.
                let known = serde_json::from_str::<serde_json::Value>(&record.data)
                    .ok()
                    .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(is_known_type));
                match known {
                    Some(false) => None,
                    _ => Some(Err(Error::Decode {
                        status: self.status,
                        body: record.data,
                        source,
                    })),
                }
            }
        }
    }

    /// Stop yielding, and report `result`.
    fn finish_with(
        &mut self,
        result: Result<StreamEvent, Error>,
    ) -> Poll<Option<Result<StreamEvent, Error>>> {
        self.finished = true;
        Poll::Ready(Some(result))
    }
}

fn is_known_type(name: &str) -> bool {
    matches!(
        name,
        "start" | "delta" | "replace" | "html" | "end" | "error"
    )
}

impl Stream for ChatStream {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            let decoded = if this.body_done {
                this.decoder.finish()
            } else {
                this.decoder.next_event()
            };
            match decoded {
                Err(e) => return this.finish_with(Err(StreamError::Sse(e).into())),
                Ok(Some(record)) => match this.event_of(record) {
                    None => continue,
                    Some(Ok(event)) => {
                        if event.is_terminal() {
                            return this.finish_with(Ok(event));
                        }
                        return Poll::Ready(Some(Ok(event)));
                    }
                    Some(Err(e)) => return this.finish_with(Err(e)),
                },
                Ok(None) if this.body_done => {
                    return this.finish_with(Err(StreamError::EndedEarly.into()));
                }
                Ok(None) => {}
            }
            match this.body.poll_next_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(bytes))) => this.decoder.push(&bytes),
                Poll::Ready(Some(Err(e))) => return this.finish_with(Err(Error::Http(e))),
                Poll::Ready(None) => this.body_done = true,
            }
        }
    }
}
