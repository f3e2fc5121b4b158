//! A streamed turn: the upstream's answer pumped as turn events by a task
//! of its own (see `pump`), which stores it however the stream ends.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Turn, TurnEvents, pump, unanswered};
use crate::error::ApiResult;
use crate::state::AppState;

/// Call the upstream and stream the answer as turn events. Errors before the
/// upstream starts answering are returned here; once it has started, every
/// outcome arrives as an event. Dropping the events means the client left:
/// the partial answer is stored as `incomplete`.
pub async fn stream(state: &AppState, turn: Turn) -> ApiResult<TurnEvents> {
    stream_with_grace(state, turn, Duration::ZERO).await
}

/// [`stream`] for a client that may reattach ([`super::resume`]): dropping the
/// events leaves the answer going on for `CHAT_GATEWAY_RESUME_GRACE_SECS`
/// (and as long as a follower reads it on this process) before it is cut.
pub async fn stream_resumable(state: &AppState, turn: Turn) -> ApiResult<TurnEvents> {
    stream_with_grace(state, turn, state.config.resume_grace).await
}

async fn stream_with_grace(state: &AppState, turn: Turn, grace: Duration) -> ApiResult<TurnEvents> {
    let asked = Instant::now();
    let upstream = match turn.upstream.stream(&turn.request()).await {
        Ok(s) => s,
        Err(e) => return Err(unanswered(state, &turn, e, asked.elapsed()).await),
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
