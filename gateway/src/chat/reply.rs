//! A blocking turn: call the upstream, wait for the whole answer, store it.

use std::time::{Duration, Instant};

use sdk::ChatResponse;

use super::begin::{self, Start};
use super::{Outcome, Turn, TurnInput, count_usage, finish, millis, unanswered};
use crate::error::{ApiError, ApiResult};
use crate::markdown;
use crate::metrics::TurnOutcome;
use crate::state::AppState;
use crate::store::console::TurnMetrics;
use crate::upstream::{Reply, UpstreamError};

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

/// A blocking turn from its input: store the question, call the upstream,
/// wait for the whole answer, store it.
///
/// Most turns need nothing stored to ask their upstream but their
/// conversation's own row (see [`begin::start`]), so the upstream is called
/// while the question is being stored. The answer is stored and given only
/// once the question is: if the question cannot be stored (the store
/// refuses it, or the conversation was deleted meanwhile), the client gets
/// that error and the answer is dropped.
pub async fn ask(state: &AppState, input: TurnInput) -> ApiResult<(ChatResponse, TurnTiming)> {
    let plan = begin::plan(state, input).await?;
    let (mut turn, storing) = match begin::start(state, plan).await? {
        Start::Storing(turn, storing) => (turn, storing),
        Start::StoreFirst(plan) => {
            let turn = begin::begin_planned(state, plan).await?;
            return reply(state, turn).await;
        }
    };
    let asked = Instant::now();
    let answered = turn.upstream.reply(&turn.request()).await;
    let upstream = asked.elapsed();
    let waiting = Instant::now();
    storing
        .await
        .map_err(|e| ApiError::Internal(format!("storing a question stopped: {e}")))??;
    // The gateway's own time: what storing the question added after the
    // upstream had answered.
    turn.stored_in = waiting.elapsed();
    settle(state, turn, answered, upstream).await
}

/// Call the upstream of a turn whose question is stored, and wait for the
/// whole answer.
async fn reply(state: &AppState, turn: Turn) -> ApiResult<(ChatResponse, TurnTiming)> {
    let asked = Instant::now();
    let answered = turn.upstream.reply(&turn.request()).await;
    settle(state, turn, answered, asked.elapsed()).await
}

/// Store what the upstream answered (or that it failed) and count the turn.
async fn settle(
    state: &AppState,
    turn: Turn,
    answered: Result<Reply, UpstreamError>,
    upstream: Duration,
) -> ApiResult<(ChatResponse, TurnTiming)> {
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
        Err(e) => Err(unanswered(state, &turn, e, upstream).await),
    }
}
