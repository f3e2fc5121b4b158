//! One chat turn, and the rules that keep it from losing anything:
//!
//! 1. the user's message is stored before the upstream is called;
//! 2. a complete answer is stored when it ends;
//! 3. when the upstream fails, the user's message stays (marked `failed` if no
//!    answer arrived) and the caller gets a clear error;
//! 4. when a stream is cut — the client leaves (Stop), the upstream connection
//!    breaks, or the gateway shuts down — the part that arrived is stored as
//!    `incomplete` (`failed` when the upstream reported an error).
//!
//! A streamed answer is pumped by a task of its own, so these rules hold even
//! when the client disconnects: the pump notices, stores the partial answer
//! and asks the upstream to stop generating.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use sdk::{ChatResponse, MessageStatus, StreamEvent, Usage};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult};
use crate::identity::Identity;
use crate::markdown;
use crate::state::AppState;
use crate::store::{Begin, NewTurn, StoredReply, TurnEnd};
use crate::upstream::{ReplyEvent, ReplyStream, Upstream, UpstreamError, UpstreamRequest};

/// How often, at most, a streamed answer is re-rendered to HTML.
const HTML_EVERY: Duration = Duration::from_millis(150);
/// SSE keep-alive comment interval.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A validated chat request.
#[derive(Debug, Clone)]
pub struct TurnInput {
    /// Who is writing.
    pub identity: Identity,
    /// The message, trimmed.
    pub message: String,
    /// Conversation to continue.
    pub conversation_id: Option<String>,
    /// Upstream variables.
    pub inputs: Map<String, Value>,
    /// Also render the answer to HTML.
    pub html: bool,
    /// Retry this stored user message (see [`crate::store::NewTurn::retry_of`]).
    pub retry_of: Option<String>,
}

/// Where a blocking turn's time went, reported in the `Server-Timing`
/// response header so operators (and the benchmark) can tell the gateway's
/// own cost from the upstream's.
#[derive(Debug, Clone, Copy, Default)]
pub struct TurnTiming {
    /// Storing the question and the answer.
    pub store: Duration,
    /// Waiting for the upstream's answer.
    pub upstream: Duration,
}

impl TurnTiming {
    /// The header value, given the handler's total time.
    pub fn header(&self, total: Duration) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        format!(
            "store;dur={:.3}, upstream;dur={:.3}, total;dur={:.3}",
            ms(self.store),
            ms(self.upstream),
            ms(total)
        )
    }
}

/// A turn whose user message is stored and whose upstream is known.
pub struct Turn {
    upstream: Arc<dyn Upstream>,
    upstream_user: String,
    upstream_conversation_id: Option<String>,
    conversation_id: String,
    user_message_id: String,
    reply_id: String,
    message: String,
    inputs: Map<String, Value>,
    html: bool,
    /// Time spent storing the question.
    stored_in: Duration,
}

impl Turn {
    /// `error`, saying where this turn's user message is stored.
    fn failed(&self, error: ApiError) -> ApiError {
        ApiError::Turn {
            error: Box::new(error),
            conversation_id: self.conversation_id.clone(),
            message_id: self.user_message_id.clone(),
        }
    }

    fn request(&self) -> UpstreamRequest<'_> {
        UpstreamRequest {
            user: &self.upstream_user,
            query: &self.message,
            conversation_id: self.upstream_conversation_id.as_deref(),
            inputs: &self.inputs,
        }
    }
}

/// Resolve the upstream and store the user's message.
pub async fn begin(state: &AppState, input: TurnInput) -> ApiResult<Turn> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::ShuttingDown);
    }
    let upstream = state
        .upstreams
        .resolve(&input.identity.system)
        .ok_or(ApiError::NotConfigured)?
        .clone();
    if let Some(id) = &input.conversation_id
        && uuid::Uuid::try_parse(id).is_err()
    {
        return Err(ApiError::ConversationNotFound);
    }
    let new_message_id = new_id();
    let new_conversation_id = new_id();
    let storing = Instant::now();
    let begun = state
        .store
        .begin_turn(&NewTurn {
            owner: &input.identity,
            conversation_id: input.conversation_id.as_deref(),
            new_conversation_id: &new_conversation_id,
            title: &title_of(&input.message),
            message_id: &new_message_id,
            content: &input.message,
            retry_of: input.retry_of.as_deref(),
            at: OffsetDateTime::now_utc(),
        })
        .await?;
    let started = match begun {
        Begin::Started(started) => started,
        Begin::ConversationNotFound => return Err(ApiError::ConversationNotFound),
        Begin::RetryTargetNotFound => {
            return Err(ApiError::Validation(
                "retry_message_id is not a user message of this conversation".into(),
            ));
        }
    };
    let user_message_id = started.user_message_id;
    Ok(Turn {
        upstream,
        upstream_user: input.identity.upstream_user(),
        upstream_conversation_id: started.upstream_conversation_id,
        conversation_id: started.conversation_id,
        user_message_id,
        reply_id: new_id(),
        message: input.message,
        inputs: input.inputs,
        html: input.html,
        stored_in: storing.elapsed(),
    })
}

/// Call the upstream and wait for the whole answer.
pub async fn reply(state: &AppState, turn: Turn) -> ApiResult<(ChatResponse, TurnTiming)> {
    let asked = Instant::now();
    let answered = turn.upstream.reply(&turn.request()).await;
    let upstream = asked.elapsed();
    match answered {
        Ok(reply) => {
            let storing = Instant::now();
            finish(
                state,
                &turn,
                Outcome::Complete,
                &reply.answer,
                reply.conversation_id.as_deref(),
                reply.message_id.as_deref(),
            )
            .await?;
            let timing = TurnTiming {
                store: turn.stored_in + storing.elapsed(),
                upstream,
            };
            let response = ChatResponse {
                html: turn.html.then(|| markdown::render(&reply.answer)),
                conversation_id: turn.conversation_id,
                message_id: turn.reply_id,
                user_message_id: turn.user_message_id,
                answer: reply.answer,
                usage: reply.usage,
            };
            Ok((response, timing))
        }
        Err(e) => {
            finish(state, &turn, Outcome::Failed(&e), "", None, None).await?;
            Err(turn.failed(e.into()))
        }
    }
}

/// Call the upstream and stream the answer as server-sent events. Errors
/// before the upstream starts answering are returned as ordinary HTTP errors.
pub async fn stream(
    state: &AppState,
    turn: Turn,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>> {
    let upstream = match turn.upstream.stream(&turn.request()).await {
        Ok(s) => s,
        Err(e) => {
            finish(state, &turn, Outcome::Failed(&e), "", None, None).await?;
            return Err(turn.failed(e.into()));
        }
    };
    // Boxed: a channel allocates its slots 32 at a time, so this keeps an
    // idle stream's channel to 32 pointers instead of 32 events.
    let (tx, rx) = mpsc::channel::<Box<StreamEvent>>(32);
    state.tasks.spawn(pump(state.clone(), turn, upstream, tx));
    let events = futures::stream::unfold(rx, |mut rx| async move {
        let ev = rx.recv().await?;
        Some((Ok(sse_event(&ev)), rx))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")))
}

fn sse_event(ev: &StreamEvent) -> Event {
    let data = serde_json::to_string(ev).unwrap_or_else(|_| "{}".to_owned());
    Event::default().event(ev.name()).data(data)
}

/// Why a stream stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CutBy {
    Client,
    Shutdown,
}

enum Outcome<'a> {
    Complete,
    Cut,
    Failed(&'a UpstreamError),
}

#[derive(Default)]
struct UpstreamIds {
    conversation_id: Option<String>,
    message_id: Option<String>,
    task_id: Option<String>,
}

/// Forward the upstream's events to the client and store the outcome.
async fn pump(
    state: AppState,
    turn: Turn,
    mut upstream: ReplyStream,
    tx: mpsc::Sender<Box<StreamEvent>>,
) {
    let mut text = String::new();
    let mut ids = UpstreamIds::default();
    let mut usage: Option<Usage> = None;
    let mut last_render = Instant::now();
    let start = StreamEvent::Start {
        conversation_id: turn.conversation_id.clone(),
        user_message_id: turn.user_message_id.clone(),
        message_id: turn.reply_id.clone(),
    };
    let mut client_gone = tx.send(Box::new(start)).await.is_err();

    let failure: Option<UpstreamError>;
    let mut cut: Option<CutBy> = client_gone.then_some(CutBy::Client);
    loop {
        if cut.is_some() {
            failure = None;
            break;
        }
        let next = tokio::select! {
            biased;
            () = state.shutdown.cancelled() => { cut = Some(CutBy::Shutdown); continue; }
            () = tx.closed() => { cut = Some(CutBy::Client); continue; }
            next = upstream.next() => next,
        };
        let event = match next {
            Some(Ok(ReplyEvent::Ids {
                conversation_id,
                message_id,
                task_id,
            })) => {
                ids = UpstreamIds {
                    conversation_id,
                    message_id,
                    task_id,
                };
                continue;
            }
            Some(Ok(ReplyEvent::Delta(delta))) => {
                text.push_str(&delta);
                StreamEvent::Delta { text: delta }
            }
            Some(Ok(ReplyEvent::Replace(all))) => {
                text.clone_from(&all);
                StreamEvent::Replace { text: all }
            }
            Some(Ok(ReplyEvent::End { usage: u })) => {
                usage = u;
                failure = None;
                break;
            }
            Some(Err(e)) => {
                failure = Some(e);
                break;
            }
            None => {
                failure = Some(UpstreamError::StreamCut);
                break;
            }
        };
        if tx.send(Box::new(event)).await.is_err() {
            cut = Some(CutBy::Client);
            continue;
        }
        if turn.html && last_render.elapsed() >= HTML_EVERY {
            last_render = Instant::now();
            let html = markdown::render(&text);
            if tx.send(Box::new(StreamEvent::Html { html })).await.is_err() {
                cut = Some(CutBy::Client);
            }
        }
    }
    // Close the upstream connection before the (slower) database write.
    drop(upstream);

    let outcome = match (&failure, cut) {
        (Some(e), _) => Outcome::Failed(e),
        (None, Some(_)) => Outcome::Cut,
        (None, None) => Outcome::Complete,
    };
    if cut == Some(CutBy::Client) {
        client_gone = true;
        if let Some(task) = ids.task_id.clone() {
            let upstream = turn.upstream.clone();
            let user = turn.upstream_user.clone();
            state.tasks.spawn(async move {
                if let Err(e) = upstream.stop(&user, &task).await {
                    tracing::debug!(error = %e, "asking the upstream to stop failed");
                }
            });
        }
    }
    let stored = finish(
        &state,
        &turn,
        outcome,
        &text,
        ids.conversation_id.as_deref(),
        ids.message_id.as_deref(),
    )
    .await;
    if client_gone {
        return;
    }
    let last = match (stored, &failure, cut) {
        (Err(e), _, _) => error_event(&e),
        (Ok(()), Some(e), _) => error_event(&ApiError::Upstream(e.clone())),
        (Ok(()), None, Some(_)) => error_event(&ApiError::ShuttingDown),
        (Ok(()), None, None) => StreamEvent::End {
            conversation_id: turn.conversation_id.clone(),
            message_id: turn.reply_id.clone(),
            user_message_id: turn.user_message_id.clone(),
            usage,
            html: turn.html.then(|| markdown::render(&text)),
        },
    };
    let _ = tx.send(Box::new(last)).await;
}

fn error_event(e: &ApiError) -> StreamEvent {
    e.log();
    StreamEvent::Error {
        code: e.code(),
        message: e.public_message().into_owned(),
        status: e.status().as_u16(),
    }
}

/// Store how a turn ended (see the module docs for the statuses).
async fn finish(
    state: &AppState,
    turn: &Turn,
    outcome: Outcome<'_>,
    text: &str,
    upstream_conversation_id: Option<&str>,
    upstream_message_id: Option<&str>,
) -> ApiResult<()> {
    let reply_status = match outcome {
        Outcome::Complete => Some(MessageStatus::Complete),
        _ if text.is_empty() => None,
        Outcome::Cut
        | Outcome::Failed(
            UpstreamError::StreamCut | UpstreamError::Timeout(_) | UpstreamError::Transport(_),
        ) => Some(MessageStatus::Incomplete),
        Outcome::Failed(_) => Some(MessageStatus::Failed),
    };
    let user_status = match (&outcome, reply_status) {
        (Outcome::Failed(_), None) => MessageStatus::Failed,
        _ => MessageStatus::Complete,
    };
    state
        .store
        .finish_turn(&TurnEnd {
            conversation_id: &turn.conversation_id,
            user_message_id: &turn.user_message_id,
            user_status,
            reply: reply_status.map(|status| StoredReply {
                message_id: &turn.reply_id,
                content: text,
                status,
            }),
            upstream_conversation_id,
            upstream_message_id,
            at: OffsetDateTime::now_utc(),
        })
        .await
        .map_err(ApiError::from)
}

/// A conversation's first title: the first line of the first message,
/// shortened to 60 characters.
pub fn title_of(message: &str) -> String {
    const MAX: usize = 60;
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() <= MAX {
        return line.to_owned();
    }
    let mut title: String = line.chars().take(MAX - 1).collect();
    title.truncate(title.trim_end().len());
    title.push('…');
    title
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::title_of;

    #[test]
    fn titles() {
        assert_eq!(title_of("  \n Hello there \nsecond line"), "Hello there");
        let long = "word ".repeat(30);
        let t = title_of(&long);
        assert_eq!(t.chars().count(), 60);
        assert!(t.ends_with("word…"), "{t}");
        assert_eq!(title_of(&"가".repeat(100)).chars().count(), 60);
    }
}
