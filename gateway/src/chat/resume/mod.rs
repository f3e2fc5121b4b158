//! Reattaching to an answer: a client that lost its stream asks for the
//! answer `message_id` from `offset` (the bytes of answer text it has), and
//! gets the rest as turn events — first the text after `offset` as one
//! `delta`, then what follows while the turn runs, then the turn's last
//! event (`end` or `error`). An answer that already finished gives the rest
//! and its last event at once.
//!
//! Where the rest comes from:
//! - the answer is streamed by this process: the [`crate::live`] registry
//!   (same text, same last event as the original stream);
//! - by another replica: its partials in the store (`partial`), read every
//!   [`POLL`] until the stored message is final. A partial that does not
//!   move for [`SILENCE`] (its replica writes at least every
//!   `partial::HEARTBEAT`) belongs to a replica that went away: the stream
//!   ends with [`ApiError::AnswerInterrupted`] instead of waiting forever.
//!
//! A stored answer's last event is rebuilt from its status: `complete` →
//! `end` (without usage), `incomplete` → [`ApiError::AnswerInterrupted`],
//! `failed` → an upstream error.

mod stored;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use sdk::{MessageStatus, Role, StreamEvent};
use tokio::sync::mpsc;

use self::stored::follow_stored;
use super::pump::error_event;
use crate::error::{ApiError, ApiResult};
use crate::identity::Identity;
use crate::live::{Change, Followed, Follower, Snapshot};
use crate::markdown;
use crate::state::AppState;
use crate::store::Scope;
use crate::store::live::AnswerState;
use crate::upstream::UpstreamError;

/// How often a follower on another replica reads the stored partial.
pub const POLL: Duration = Duration::from_millis(300);
/// How long a stored partial may stand still before its answer counts as
/// interrupted.
pub const SILENCE: Duration = Duration::from_secs(20);

/// What to reattach to.
#[derive(Debug, Clone, Copy)]
pub struct ResumeFrom<'a> {
    pub conversation_id: &'a str,
    /// The assistant message.
    pub message_id: &'a str,
    /// Bytes of the answer's text the client has.
    pub offset: usize,
    /// Render the answer to HTML in the `end` event.
    pub html: bool,
}

/// The events of a reattached stream; dropping it stops following (the
/// answer itself goes on).
pub struct ResumedEvents {
    rx: mpsc::Receiver<StreamEvent>,
}

impl Stream for ResumedEvents {
    type Item = StreamEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// Reattach `who` to an answer. Errors: [`ApiError::MessageNotFound`] for an
/// answer that is not theirs (or does not exist), [`ApiError::Validation`]
/// for a user message or an offset past the text (or inside a character).
pub async fn resume(
    state: &AppState,
    who: &Identity,
    from: ResumeFrom<'_>,
) -> ApiResult<ResumedEvents> {
    let (tx, rx) = mpsc::channel(32);
    let here = state.live.follow(from.message_id).filter(|(_, follower)| {
        let turn = follower.turn();
        turn.owner == *who && turn.conversation_id == from.conversation_id
    });
    if let Some((snapshot, follower)) = here {
        check_offset(&snapshot.text, from.offset)?;
        let place = Place::new(state, from, Some(follower.turn().user_message_id.clone()));
        tokio::spawn(follow_here(place, snapshot, follower, from.offset, tx));
        return Ok(ResumedEvents { rx });
    }
    let progress = state
        .store
        .answer_progress(Scope::Owner(who), from.conversation_id, from.message_id)
        .await?
        .ok_or(ApiError::MessageNotFound)?;
    if progress.role == Role::User {
        return Err(ApiError::Validation(
            "the message is a question, not an answer: only answers can be followed".into(),
        ));
    }
    // A partial may lag behind what the client got from the replica
    // writing it: only a finished answer's text bounds the offset.
    if matches!(progress.state, AnswerState::Finished(_)) {
        check_offset(&progress.content, from.offset)?;
    }
    let place = Place::new(state, from, progress.user_message_id.clone());
    tokio::spawn(follow_stored(place, from.offset, Some(progress), tx));
    Ok(ResumedEvents { rx })
}

/// What [`stop`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The answer was running here: it is cut now (stored `incomplete`).
    Now,
    /// The answer is already stored.
    AlreadyFinished,
    /// Another replica streams it: it is cut there once no one has read
    /// it for `CHAT_GATEWAY_RESUME_GRACE_SECS`.
    Elsewhere,
}

/// Stop `who`'s answer `message_id` of `conversation_id` (the page's Stop:
/// leaving the stream alone would keep it going for the grace period).
pub async fn stop(
    state: &AppState,
    who: &Identity,
    conversation_id: &str,
    message_id: &str,
) -> ApiResult<Stopped> {
    if state.live.stop(message_id, who, conversation_id) {
        return Ok(Stopped::Now);
    }
    let progress = state
        .store
        .answer_progress(Scope::Owner(who), conversation_id, message_id)
        .await?
        .ok_or(ApiError::MessageNotFound)?;
    if progress.role == Role::User {
        return Err(ApiError::Validation(
            "the message is a question, not an answer: only answers can be stopped".into(),
        ));
    }
    Ok(match progress.state {
        AnswerState::Finished(_) => Stopped::AlreadyFinished,
        AnswerState::Streaming { .. } => Stopped::Elsewhere,
    })
}

fn check_offset(text: &str, offset: usize) -> ApiResult<()> {
    if offset <= text.len() && text.is_char_boundary(offset) {
        Ok(())
    } else {
        Err(ApiError::Validation(format!(
            "the event id's offset {offset} is not a place in this answer"
        )))
    }
}

/// The first `offset` bytes of `text` (checked before).
fn from_offset(text: &str, offset: usize) -> String {
    text.get(..offset).unwrap_or(text).to_owned()
}

/// What a follower needs to name the answer in its last event.
struct Place {
    state: AppState,
    conversation_id: String,
    message_id: String,
    user_message_id: Option<String>,
    html: bool,
}

impl Place {
    fn new(state: &AppState, from: ResumeFrom<'_>, user_message_id: Option<String>) -> Self {
        Self {
            state: state.clone(),
            conversation_id: from.conversation_id.to_owned(),
            message_id: from.message_id.to_owned(),
            user_message_id,
            html: from.html,
        }
    }

    /// The last event of a stored answer, from its status.
    fn stored_end(&self, status: MessageStatus, text: &str) -> StreamEvent {
        match status {
            MessageStatus::Complete => StreamEvent::End {
                conversation_id: self.conversation_id.clone(),
                message_id: self.message_id.clone(),
                user_message_id: self.user_message_id.clone().unwrap_or_default(),
                usage: None,
                html: self.html.then(|| markdown::render(text)),
            },
            MessageStatus::Incomplete => error_event(&ApiError::AnswerInterrupted),
            // Logged by the replica that saw the upstream fail, not again here.
            MessageStatus::Failed => {
                let e = ApiError::Upstream(UpstreamError::StreamCut);
                StreamEvent::Error {
                    code: e.code(),
                    message: e.public_message().into_owned(),
                    status: e.status().as_u16(),
                }
            }
        }
    }

    /// The original stream's last event, with HTML when this follower asked.
    fn live_end(&self, end: StreamEvent, text: &str) -> StreamEvent {
        match end {
            StreamEvent::End {
                conversation_id,
                message_id,
                user_message_id,
                usage,
                html: None,
            } if self.html => StreamEvent::End {
                conversation_id,
                message_id,
                user_message_id,
                usage,
                html: Some(markdown::render(text)),
            },
            other => other,
        }
    }
}

/// The client went away.
struct Gone;

/// The answer's text as the client has it.
struct Have {
    text: String,
}

impl Have {
    fn new(text: String) -> Self {
        Self { text }
    }

    async fn send(tx: &mpsc::Sender<StreamEvent>, event: StreamEvent) -> Result<(), Gone> {
        tx.send(event).await.map_err(|_| Gone)
    }

    /// Bring the client to `now`: the bytes it lacks as a `delta`, or the
    /// whole text as a `replace` when `now` does not continue what it has
    /// (the upstream replaced the answer meanwhile).
    async fn catch_up(&mut self, now: &str, tx: &mpsc::Sender<StreamEvent>) -> Result<(), Gone> {
        if let Some(rest) = now.strip_prefix(self.text.as_str()) {
            if !rest.is_empty() {
                self.text.push_str(rest);
                Self::send(
                    tx,
                    StreamEvent::Delta {
                        text: rest.to_owned(),
                    },
                )
                .await?;
            }
        } else {
            now.clone_into(&mut self.text);
            Self::send(
                tx,
                StreamEvent::Replace {
                    text: now.to_owned(),
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// Follow an answer this process streams.
async fn follow_here(
    place: Place,
    snapshot: Snapshot,
    mut follower: Follower,
    offset: usize,
    tx: mpsc::Sender<StreamEvent>,
) {
    let mut have = Have::new(from_offset(&snapshot.text, offset));
    if have.catch_up(&snapshot.text, &tx).await.is_err() {
        return;
    }
    if let Some(end) = snapshot.end {
        let _ = tx.send(place.live_end(end, &have.text)).await;
        return;
    }
    loop {
        let next = tokio::select! {
            () = tx.closed() => return,
            next = follower.next() => next,
        };
        let sent = match next {
            Followed::Change(Change::Delta(text)) => {
                have.text.push_str(&text);
                Have::send(&tx, StreamEvent::Delta { text }).await
            }
            Followed::Change(Change::Replace(text)) => {
                have.text.clone_from(&text);
                Have::send(&tx, StreamEvent::Replace { text }).await
            }
            Followed::Change(Change::End(end)) => {
                let _ = tx.send(place.live_end(end, &have.text)).await;
                return;
            }
            Followed::Lagged => match follower.resync() {
                Some(now) => {
                    if have.catch_up(&now.text, &tx).await.is_err() {
                        return;
                    }
                    if let Some(end) = now.end {
                        let _ = tx.send(place.live_end(end, &have.text)).await;
                        return;
                    }
                    Ok(())
                }
                None => return follow_stored(place, have.text.len(), None, tx).await,
            },
            // The pump ended without a last event for followers: the store
            // has the outcome.
            Followed::Gone => return follow_stored(place, have.text.len(), None, tx).await,
        };
        if sent.is_err() {
            return;
        }
    }
}
