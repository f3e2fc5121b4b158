//! Writing the text so far of a streamed answer to the store, so a client
//! that reattaches on another replica can follow it (see `resume`).
//!
//! A task of its own per streamed turn does the writing; the pump never
//! waits for it (the pump only appends to the [`crate::live`] registry,
//! which this task reads). It writes the answer's partial once at once (so
//! other replicas know the answer exists), then whenever at least
//! [`WRITE_EVERY`] has passed *and* at least [`WRITE_AT_LEAST`] bytes
//! arrived since the last write, and at least every [`HEARTBEAT`] even
//! without new text: a partial that stops moving for longer than
//! `resume::SILENCE` is the leftover of a replica that went away. Each write
//! is one statement on the answer's own row.
//!
//! A write that fails is logged and retried at the next tick: the answer
//! itself does not depend on it.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::live::LiveTurn;
use crate::state::AppState;
use crate::store::live::PartialAnswer;

/// Shortest time between two writes of new text.
pub(super) const WRITE_EVERY: Duration = Duration::from_millis(250);
/// Fewest new bytes worth a write.
pub(super) const WRITE_AT_LEAST: u64 = 64;
/// Longest time between two writes while the turn runs.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(5);

/// The running writer of one answer's partials.
pub(super) struct PartialWriter {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl PartialWriter {
    /// Start writing the partials of `turn`, the answer `message_id`.
    pub(super) fn start(state: &AppState, turn: Arc<LiveTurn>, message_id: &str) -> Self {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(
            state.clone(),
            turn,
            message_id.to_owned(),
            stop.clone(),
        ));
        Self { stop, task }
    }

    /// Stop writing, and wait for a write under way: after this no partial
    /// of the answer is written any more.
    pub(super) async fn stop(self) {
        self.stop.cancel();
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "the writer of partial answers failed");
        }
    }
}

async fn run(state: AppState, turn: Arc<LiveTurn>, message_id: String, stop: CancellationToken) {
    // How much of the answer had arrived at the last write; the text itself
    // is copied only to be written.
    let mut written: Option<u64> = None;
    let mut since_write = Duration::ZERO;
    loop {
        let received = turn.received();
        let new_bytes = written.map_or(u64::MAX, |at| received.saturating_sub(at));
        let due = written.is_none()
            || (new_bytes >= WRITE_AT_LEAST && since_write >= WRITE_EVERY)
            || since_write >= HEARTBEAT;
        if due {
            let saved = state
                .store
                .save_partial(&PartialAnswer {
                    conversation_id: &turn.conversation_id,
                    message_id: &message_id,
                    user_message_id: &turn.user_message_id,
                    content: &turn.text(),
                    at: OffsetDateTime::now_utc(),
                })
                .await;
            match saved {
                Ok(()) => {
                    written = Some(received);
                    since_write = Duration::ZERO;
                }
                Err(e) => tracing::warn!(error = %e, "writing a partial answer failed"),
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(WRITE_EVERY) => since_write += WRITE_EVERY,
        }
    }
}
