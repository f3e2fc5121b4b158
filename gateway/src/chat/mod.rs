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
//! `input`), a [`ChatResponse`] or a stream of [`sdk::StreamEvent`]s
//! ([`TurnEvents`]) out. Framing them (SSE, WebSocket frames, OpenAI-style
//! chunks) is the routes' business.

mod claim;
mod counted;
mod history;
mod input;
mod partial;
mod pump;
pub mod resume;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sdk::{ChatResponse, MessageStatus, Usage};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::archive::ArchivedTurn;
use crate::error::{ApiError, ApiResult};
use crate::identity::Identity;
use crate::limits::budget;
use crate::markdown;
use crate::metrics::{TurnLabels, TurnOutcome};
use crate::state::AppState;
use crate::store::console::TurnMetrics;
use crate::store::{Begin, NewTurn, PageRequest, Scope, StoredReply, TurnEnd};
use crate::upstream::{PriorTurn, RouteKey, TurnContext, Upstream, UpstreamError, UpstreamRequest};

pub use self::counted::system_label;
use self::counted::timed_write;
pub use self::input::{NewConversation, TurnInput};
pub use self::pump::TurnEvents;

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

/// Resolve the upstream and store the user's message.
pub async fn begin(state: &AppState, input: TurnInput) -> ApiResult<Turn> {
    let began = Instant::now();
    if state.shutdown.is_cancelled() {
        return Err(ApiError::ShuttingDown);
    }
    let budgets = &state.config.budgets;
    let now = OffsetDateTime::now_utc();
    if let Err(exhausted) =
        budget::check(state.store.as_ref(), budgets, &input.identity, now).await?
    {
        return Err(ApiError::BudgetExhausted(exhausted));
    }
    // One view of the routing table for the whole turn: a change to
    // systems or agents while it runs does not change its upstream.
    let routes = state.catalog.routes();
    if let Some(agent) = &input.agent
        && !routes.has_agent(&input.identity.system, agent)
    {
        return Err(ApiError::AgentNotFound(agent.clone()));
    }
    let route = RouteKey {
        system: &input.identity.system,
        agent: input.agent.as_deref(),
    };
    let mut upstream = routes
        .resolve(&route)
        .ok_or(ApiError::NotConfigured)?
        .clone();
    if let Some(id) = &input.conversation_id
        && uuid::Uuid::try_parse(id).is_err()
    {
        return Err(ApiError::ConversationNotFound);
    }
    let new_message_id = new_id();
    let (new_conversation_id, title) = match &input.new_conversation {
        Some(NewConversation { id, title }) => (
            id.clone(),
            title.clone().unwrap_or_else(|| title_of(&input.message)),
        ),
        None => (new_id(), title_of(&input.message)),
    };
    let storing = Instant::now();
    let begun = timed_write(
        "begin_turn",
        state.store.begin_turn(&NewTurn {
            owner: &input.identity,
            conversation_id: input.conversation_id.as_deref(),
            new_conversation_id: &new_conversation_id,
            title: &title,
            message_id: &new_message_id,
            content: &input.message,
            retry_of: input.retry_of.as_deref(),
            agent: input.agent.as_deref(),
            at: OffsetDateTime::now_utc(),
        }),
    )
    .await?;
    let started = match begun {
        Begin::Started(started) => started,
        Begin::ConversationNotFound => return Err(ApiError::ConversationNotFound),
        Begin::RetryTargetNotFound => {
            return Err(ApiError::Validation(
                "retry_message_id is not a user message of this conversation".into(),
            ));
        }
        Begin::AgentMismatch(bound) => {
            return Err(ApiError::AgentMismatch(
                bound.unwrap_or_else(|| "the app's default".to_owned()),
            ));
        }
    };
    // A conversation continued without naming an agent stays with the one
    // it started with.
    if input.agent.is_none()
        && let Some(bound) = started.agent.as_deref()
    {
        let key = RouteKey {
            system: &input.identity.system,
            agent: Some(bound),
        };
        match routes.resolve(&key) {
            Some(own) => upstream = own.clone(),
            None => tracing::warn!(
                agent = bound,
                "a conversation's agent is no longer configured; the app's default answers"
            ),
        }
    }
    let user_message_id = started.user_message_id;
    // Another turn of this conversation may be starting its upstream
    // conversation right now: continue that one rather than start another.
    let mut upstream_conversation_id = started.upstream_conversation_id;
    if upstream_conversation_id.is_none() && !started.created && upstream.history().is_some() {
        upstream_conversation_id =
            claim::upstream_conversation(state, &started.conversation_id, &user_message_id).await?;
    }
    // Stateless upstreams get the conversation's earlier turns: one read of
    // the messages stored before this turn's question.
    let history = match upstream.wants_history() {
        Some(window) if input.conversation_id.is_some() => {
            let earlier = state
                .store
                .list_messages(
                    Scope::Owner(&input.identity),
                    &started.conversation_id,
                    PageRequest {
                        limit: history::messages_to_read(window),
                        before: Some(&user_message_id),
                    },
                )
                .await?
                .unwrap_or_default();
            history::prior_turns(&earlier, window)
        }
        _ => Vec::new(),
    };
    let labels = TurnLabels::new(
        &system_label(state, &input.identity.system),
        started.agent.as_deref(),
        upstream.kind(),
    );
    Ok(Turn {
        upstream,
        upstream_user: input.identity.upstream_user(),
        identity: input.identity,
        agent: started.agent,
        upstream_conversation_id,
        conversation_id: started.conversation_id,
        user_message_id,
        reply_id: new_id(),
        message: input.message,
        inputs: input.inputs,
        history,
        html: input.html,
        stored_in: storing.elapsed(),
        began,
        labels,
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
            let stored = finish(
                state,
                &turn,
                Outcome::Complete,
                &reply.answer,
                reply.conversation_id.as_deref(),
                reply.message_id.as_deref(),
                TurnMetrics {
                    latency_ms: Some(millis(upstream)),
                    ttft_ms: None,
                    prompt_tokens: reply.usage.as_ref().map(|u| u.prompt_tokens),
                    completion_tokens: reply.usage.as_ref().map(|u| u.completion_tokens),
                },
            )
            .await;
            let outcome = match stored {
                Ok(()) => TurnOutcome::Complete,
                Err(_) => TurnOutcome::Failed,
            };
            turn.count(outcome, upstream, None);
            stored?;
            count_usage(state, &turn.identity, reply.usage).await;
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
            let metrics = TurnMetrics::default();
            let stored = finish(state, &turn, Outcome::Failed(&e), "", None, None, metrics).await;
            turn.count(TurnOutcome::Failed, upstream, None);
            stored?;
            Err(turn.failed(e.into()))
        }
    }
}

/// Call the upstream and stream the answer as turn events. Errors before the
/// upstream starts answering are returned here; once it has started, every
/// outcome arrives as an event. Dropping the events means the client left:
/// the partial answer is stored as `incomplete`.
pub async fn stream(state: &AppState, turn: Turn) -> ApiResult<TurnEvents> {
    stream_with_grace(state, turn, Duration::ZERO).await
}

/// [`stream`] for a client that may reattach ([`resume`]): dropping the
/// events leaves the answer going on for `CHAT_GATEWAY_RESUME_GRACE_SECS`
/// (and as long as a follower reads it on this process) before it is cut.
pub async fn stream_resumable(state: &AppState, turn: Turn) -> ApiResult<TurnEvents> {
    stream_with_grace(state, turn, state.config.resume_grace).await
}

async fn stream_with_grace(state: &AppState, turn: Turn, grace: Duration) -> ApiResult<TurnEvents> {
    let asked = Instant::now();
    let upstream = match turn.upstream.stream(&turn.request()).await {
        Ok(s) => s,
        Err(e) => {
            let upstream = asked.elapsed();
            let metrics = TurnMetrics::default();
            let stored = finish(state, &turn, Outcome::Failed(&e), "", None, None, metrics).await;
            turn.count(TurnOutcome::Failed, upstream, None);
            stored?;
            return Err(turn.failed(e.into()));
        }
    };
    // Boxed: a channel allocates its slots 32 at a time, so this keeps an
    // idle stream's channel to 32 pointers instead of 32 events.
    let (tx, rx) = mpsc::channel(32);
    // The pump logs in the request's span (its id), though it outlives it.
    state
        .tasks
        .spawn(tracing::Instrument::in_current_span(pump::pump(
            state.clone(),
            turn,
            pump::Upstream {
                events: upstream,
                asked,
                grace,
            },
            tx,
        )));
    Ok(TurnEvents::new(rx))
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

/// `d` in whole milliseconds, saturating.
fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
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

/// A fresh id for a message or a conversation.
pub fn new_id() -> String {
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
