//! One chat turn, and the rules that keep it from losing anything:
//!
//! 1. the user's message is stored before the upstream is called — or, for
//!    most blocking turns ([`ask`]), while it is called: they need nothing
//!    stored but their conversation's row to ask it, and their answer is
//!    stored and given only once the question is;
//! 2. a complete answer is stored when it ends;
//! 3. when the upstream fails, the user's message stays (marked `failed` if no
//!    answer arrived) and the caller gets a clear error;
//! 4. when a stream is cut — the client leaves (Stop), the upstream connection
//!    breaks, or the gateway shuts down — the part that arrived is stored as
//!    `incomplete` (`failed` when the upstream reported an error).
//!
//! A streamed answer is pumped by a task of its own (`pump`), so these rules
//! hold even when the client disconnects: the pump notices, stores the
//! partial answer and asks the upstream to stop generating — at once, or,
//! for a resumable stream ([`stream_resumable`]), once no one has followed
//! the answer for the resume grace or its owner asked it to stop
//! ([`resume::stop`]). Meanwhile the answer can be followed from any replica
//! ([`resume`]; the registry is [`crate::live`], the partials in the store
//! are written by `partial`).
//!
//! The turn speaks in domain values: [`TurnInput`] in (checked once, in
//! `input`), a [`sdk::ChatResponse`] or a stream of [`sdk::StreamEvent`]s
//! ([`TurnEvents`]) out. Framing them (SSE, WebSocket frames, OpenAI-style
//! chunks) is the routes' business.

mod begin;
mod claim;
mod counted;
mod history;
mod input;
mod partial;
mod pump;
mod reply;
pub mod resume;
mod stream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sdk::{MessageStatus, Usage};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::archive::ArchivedTurn;
use crate::error::{ApiError, ApiResult};
use crate::identity::Identity;
use crate::limits::budget;
use crate::metrics::{TurnLabels, TurnOutcome};
use crate::state::AppState;
use crate::store::console::TurnMetrics;
use crate::store::{StoredReply, TurnEnd};
use crate::upstream::{PriorTurn, TurnContext, Upstream, UpstreamError, UpstreamRequest};

pub use self::begin::begin;
pub use self::counted::system_label;
use self::counted::timed_write;
pub use self::input::{NewConversation, TurnInput, title_of};
pub use self::pump::TurnEvents;
pub use self::reply::{TurnTiming, ask};
pub use self::stream::{stream, stream_resumable};

/// A turn whose user message is stored and whose upstream is known.
pub struct Turn {
    upstream: Arc<dyn Upstream>,
    identity: Identity,
    agent: Option<String>,
    upstream_user: String,
    upstream_conversation_id: Option<String>,
    conversation_id: String,
    user_message_id: String,
    reply_id: String,
    message: String,
    inputs: Map<String, Value>,
    /// Earlier complete turns, for upstreams that ask for them.
    history: Vec<PriorTurn>,
    html: bool,
    /// Time spent storing the question.
    stored_in: Duration,
    /// When the turn began, for the gateway's own share of its time.
    began: Instant,
    /// How the turn is counted in the metrics.
    labels: TurnLabels,
}

impl Turn {
    /// The conversation this turn writes to (new or continued).
    pub fn conversation_id(&self) -> &str {
        &self.conversation_id
    }

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
            history: &self.history,
            turn: TurnContext {
                system_id: &self.identity.system,
                user_id: &self.identity.user,
                conversation_id: &self.conversation_id,
                message_id: &self.user_message_id,
                agent: self.agent.as_deref(),
                language: self.inputs.get("language").and_then(Value::as_str),
            },
        }
    }
}

/// Count a turn's reported usage against the daily budgets (when they are
/// on), before the client hears the end, so its next turn sees the count. A
/// failure is logged: the answer is stored already.
async fn count_usage(state: &AppState, who: &Identity, usage: Option<Usage>) {
    let now = OffsetDateTime::now_utc();
    let counted = budget::record(
        state.store.as_ref(),
        &state.config.budgets,
        who,
        usage.as_ref(),
        now,
    );
    if let Err(e) = counted.await {
        tracing::warn!(error = %e, "counting a turn's tokens failed");
    }
}

/// How a turn ended, for [`finish`].
enum Outcome<'a> {
    Complete,
    Cut,
    Failed(&'a UpstreamError),
}

/// Store how a turn ended (see the module docs for the statuses).
async fn finish(
    state: &AppState,
    turn: &Turn,
    outcome: Outcome<'_>,
    text: &str,
    upstream_conversation_id: Option<&str>,
    upstream_message_id: Option<&str>,
    metrics: TurnMetrics,
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
    let at = OffsetDateTime::now_utc();
    timed_write(
        "finish_turn",
        state.store.finish_turn(&TurnEnd {
            conversation_id: &turn.conversation_id,
            user_message_id: &turn.user_message_id,
            user_status,
            reply: reply_status.map(|status| StoredReply {
                message_id: &turn.reply_id,
                content: text,
                status,
                metrics,
            }),
            upstream_conversation_id,
            upstream_message_id,
            at,
        }),
    )
    .await
    .map_err(ApiError::from)?;
    if let Some(archive) = &state.archive {
        archive.record(ArchivedTurn {
            conversation_id: turn.conversation_id.clone(),
            system_id: turn.identity.system.as_str().to_owned(),
            user_id: turn.identity.user.as_str().to_owned(),
            agent: turn.agent.clone(),
            upstream: turn.upstream.kind().to_owned(),
            question_id: turn.user_message_id.clone(),
            question: turn.message.clone(),
            answer_id: reply_status.map(|_| turn.reply_id.clone()),
            answer: text.to_owned(),
            status: reply_status.unwrap_or(user_status).as_str().to_owned(),
            finished_at: at,
        });
    }
    Ok(())
}

/// Store a turn whose upstream failed before answering anything and count
/// it; the error for the client: the store's, else `error` saying where the
/// user's message is stored.
async fn unanswered(
    state: &AppState,
    turn: &Turn,
    error: UpstreamError,
    upstream: Duration,
) -> ApiError {
    let metrics = TurnMetrics::default();
    let stored = finish(
        state,
        turn,
        Outcome::Failed(&error),
        "",
        None,
        None,
        metrics,
    )
    .await;
    turn.count(TurnOutcome::Failed, upstream, None);
    match stored {
        Ok(()) => turn.failed(error.into()),
        Err(e) => e,
    }
}

/// `d` in whole milliseconds, saturating.
fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// A fresh id for a message or a conversation.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
