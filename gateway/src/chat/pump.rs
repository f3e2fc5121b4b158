//! The task that forwards a streamed answer to the client and stores how it
//! ended, and the [`TurnEvents`] the client end reads.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use sdk::{StreamEvent, Usage};
use tokio::sync::mpsc;

use super::partial::PartialWriter;
use super::{Outcome, Turn, finish, millis};
use crate::error::ApiError;
use crate::markdown;
use crate::metrics::TurnOutcome;
use crate::state::AppState;
use crate::store;
use crate::store::console::TurnMetrics;
use crate::upstream::{ReplyEvent, ReplyStream, UpstreamError};

/// How often, at most, a streamed answer is re-rendered to HTML.
const HTML_EVERY: Duration = Duration::from_millis(150);

/// The events of one streamed turn: `start`, then `delta`/`replace`/`html`,
/// then `end` or `error`. Dropping it before the end tells the pump the
/// client is gone.
pub struct TurnEvents {
    rx: mpsc::Receiver<Box<StreamEvent>>,
}

impl TurnEvents {
    pub(super) fn new(rx: mpsc::Receiver<Box<StreamEvent>>) -> Self {
        Self { rx }
    }
}

impl Stream for TurnEvents {
    type Item = StreamEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        self.rx.poll_recv(cx).map(|event| event.map(|boxed| *boxed))
    }
}

/// Why a stream stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CutBy {
    Client,
    Shutdown,
}

#[derive(Default)]
struct UpstreamIds {
    conversation_id: Option<String>,
    message_id: Option<String>,
    task_id: Option<String>,
}

/// An upstream's streamed answer, and when it was asked for.
pub(super) struct Upstream {
    pub(super) events: ReplyStream,
    pub(super) asked: Instant,
    /// How long the answer goes on once no one listens (its client left
    /// and no follower reattached on this process); zero cuts it at once.
    pub(super) grace: Duration,
}

/// Forward the upstream's events to the client and store the outcome.
pub(super) async fn pump(
    state: AppState,
    turn: Turn,
    upstream: Upstream,
    tx: mpsc::Sender<Box<StreamEvent>>,
) {
    // The console's metrics: time to the first text and to the end.
    let Upstream {
        events: mut upstream,
        asked,
        grace,
    } = upstream;
    let mut first_token: Option<Duration> = None;
    let mut text = String::new();
    let mut ids = UpstreamIds::default();
    let mut usage: Option<Usage> = None;
    let mut last_render = Instant::now();
    // Followers on this process read the registry, others the partials.
    let live = state.live.publish(
        &turn.reply_id,
        turn.identity.clone(),
        &turn.conversation_id,
        &turn.user_message_id,
    );
    let partials = PartialWriter::start(&state, live.turn(), &turn.reply_id);
    let start = StreamEvent::Start {
        conversation_id: turn.conversation_id.clone(),
        user_message_id: turn.user_message_id.clone(),
        message_id: turn.reply_id.clone(),
    };
    let mut client_gone = tx.send(Box::new(start)).await.is_err();

    let failure: Option<UpstreamError>;
    let mut cut: Option<CutBy> = None;
    // Since when no one listens: the client left and no follower is here.
    let mut alone_since: Option<tokio::time::Instant> = None;
    loop {
        if cut.is_some() {
            failure = None;
            break;
        }
        if !client_gone || live.followers() > 0 {
            alone_since = None;
        } else {
            alone_since.get_or_insert_with(tokio::time::Instant::now);
        }
        let give_up = alone_since.map(|since| since + grace);
        let next = tokio::select! {
            biased;
            () = state.shutdown.cancelled() => { cut = Some(CutBy::Shutdown); continue; }
            () = tx.closed(), if !client_gone => { client_gone = true; continue; }
            () = live.stopped() => { cut = Some(CutBy::Client); continue; }
            () = sleep_until(give_up), if give_up.is_some() => {
                if live.followers() == 0 {
                    cut = Some(CutBy::Client);
                }
                alone_since = None;
                continue;
            }
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
                record_ids(&state, &turn, &ids).await;
                continue;
            }
            Some(Ok(ReplyEvent::Delta(delta))) => {
                first_token.get_or_insert_with(|| asked.elapsed());
                text.push_str(&delta);
                live.delta(&delta);
                StreamEvent::Delta { text: delta }
            }
            Some(Ok(ReplyEvent::Replace(all))) => {
                first_token.get_or_insert_with(|| asked.elapsed());
                text.clone_from(&all);
                live.replace(&all);
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
        if client_gone {
            continue;
        }
        if tx.send(Box::new(event)).await.is_err() {
            client_gone = true;
            continue;
        }
        if turn.html && last_render.elapsed() >= HTML_EVERY {
            last_render = Instant::now();
            let html = markdown::render(&text);
            if tx.send(Box::new(StreamEvent::Html { html })).await.is_err() {
                client_gone = true;
            }
        }
    }
    // No partial is written after this: the turn's end replaces it.
    partials.stop().await;
    // Close the upstream connection before the (slower) database write.
    drop(upstream);
    let upstream_took = asked.elapsed();
    let metrics = TurnMetrics {
        latency_ms: Some(millis(upstream_took)),
        ttft_ms: first_token.map(millis),
        prompt_tokens: usage.as_ref().map(|u| u.prompt_tokens),
        completion_tokens: usage.as_ref().map(|u| u.completion_tokens),
    };

    let outcome = match (&failure, cut) {
        (Some(e), _) => Outcome::Failed(e),
        (None, Some(_)) => Outcome::Cut,
        (None, None) => Outcome::Complete,
    };
    if cut == Some(CutBy::Client)
        && let Some(task) = ids.task_id.clone()
    {
        let upstream = turn.upstream.clone();
        let user = turn.upstream_user.clone();
        state.tasks.spawn(async move {
            if let Err(e) = upstream.stop(&user, &task).await {
                tracing::debug!(error = %e, "asking the upstream to stop failed");
            }
        });
    }
    let stored = finish(
        &state,
        &turn,
        outcome,
        &text,
        ids.conversation_id.as_deref(),
        ids.message_id.as_deref(),
        metrics,
    )
    .await;
    super::count_usage(&state, &turn.identity, usage).await;
    let counted = match (&stored, &failure, cut) {
        (Err(_), _, _) | (Ok(()), Some(_), _) => TurnOutcome::Failed,
        (Ok(()), None, Some(CutBy::Client)) => TurnOutcome::Stopped,
        (Ok(()), None, Some(CutBy::Shutdown)) => TurnOutcome::Shutdown,
        (Ok(()), None, None) => TurnOutcome::Complete,
    };
    turn.count(counted, upstream_took, first_token);
    let last = match (stored, &failure, cut) {
        (Err(e), _, _) => error_event(&e),
        (Ok(()), Some(e), _) => error_event(&ApiError::Upstream(e.clone())),
        (Ok(()), None, Some(CutBy::Client)) => error_event(&ApiError::Stopped),
        (Ok(()), None, Some(CutBy::Shutdown)) => error_event(&ApiError::ShuttingDown),
        (Ok(()), None, None) => StreamEvent::End {
            conversation_id: turn.conversation_id.clone(),
            message_id: turn.reply_id.clone(),
            user_message_id: turn.user_message_id.clone(),
            usage,
            html: turn.html.then(|| markdown::render(&text)),
        },
    };
    // Followers here get the same last event as the client; the partial
    // is forgotten once the stored message holds the answer.
    live.end(last.clone());
    let (store, reply_id) = (state.store.clone(), turn.reply_id.clone());
    state.tasks.spawn(async move {
        if let Err(e) = store.drop_partial(&reply_id).await {
            tracing::warn!(error = %e, "forgetting a partial answer failed");
        }
    });
    if client_gone {
        return;
    }
    let _ = tx.send(Box::new(last)).await;
}

/// Sleep until `deadline`; forever without one (a disabled `select!` branch
/// still builds its future).
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Store the upstream ids as soon as they are known, for upstreams that
/// keep conversations: a turn sent meanwhile continues the same upstream
/// conversation, and a turn cut by a crash can be matched by a later sync.
/// A failure only costs that, so it is logged and the answer goes on.
async fn record_ids(state: &AppState, turn: &Turn, ids: &UpstreamIds) {
    if turn.upstream.history().is_none()
        || (ids.conversation_id.is_none() && ids.message_id.is_none())
    {
        return;
    }
    let recorded = state
        .store
        .record_upstream_ids(&store::UpstreamIds {
            conversation_id: &turn.conversation_id,
            user_message_id: &turn.user_message_id,
            upstream_conversation_id: ids.conversation_id.as_deref(),
            upstream_message_id: ids.message_id.as_deref(),
        })
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "recording the upstream ids early failed");
    }
}

pub(super) fn error_event(e: &ApiError) -> StreamEvent {
    e.log();
    StreamEvent::Error {
        code: e.code(),
        message: e.public_message().into_owned(),
        status: e.status().as_u16(),
    }
}
