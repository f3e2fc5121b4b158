//! A turn in a conversation whose upstream conversation another turn is
//! still starting: it waits for that upstream id instead of starting a
//! second upstream conversation (see `store/turns.rs`). The wait is in the
//! database, so it holds across replicas.

use std::time::{Duration, Instant};

use sdk::MessageStatus;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{TurnEnd, UpstreamClaim};

/// The longest a turn waits for an earlier turn to learn the upstream
/// conversation id. An upstream names the conversation in its first event,
/// so this is only reached when the earlier turn's upstream hangs; the turn
/// then starts an upstream conversation of its own rather than fail.
const WAIT_AT_MOST: Duration = Duration::from_secs(60);

/// First pause between two looks at the store; it doubles up to
/// [`POLL_AT_MOST`].
const FIRST_POLL: Duration = Duration::from_millis(20);
const POLL_AT_MOST: Duration = Duration::from_millis(500);

/// The upstream conversation the turn of `user_message_id` continues, once
/// no earlier turn of `conversation_id` is still learning it; `None` to
/// start one. If the caller goes away while this waits, the question is
/// marked `failed` (Retry is offered) instead of staying open.
pub(super) async fn upstream_conversation(
    state: &AppState,
    conversation_id: &str,
    user_message_id: &str,
) -> ApiResult<Option<String>> {
    let mut unfinished = Unfinished {
        state,
        conversation_id,
        user_message_id,
        armed: true,
    };
    let deadline = Instant::now() + WAIT_AT_MOST;
    let mut pause = FIRST_POLL;
    let found = loop {
        match state
            .store
            .upstream_claim(conversation_id, user_message_id)
            .await?
        {
            UpstreamClaim::Known(id) => break Some(id),
            UpstreamClaim::Free => break None,
            UpstreamClaim::Pending if Instant::now() >= deadline => {
                tracing::warn!(
                    conversation = conversation_id,
                    "an earlier turn never learnt the upstream conversation; starting another"
                );
                break None;
            }
            UpstreamClaim::Pending => {}
        }
        tokio::select! {
            () = state.shutdown.cancelled() => return Err(ApiError::ShuttingDown),
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(POLL_AT_MOST);
    };
    unfinished.armed = false;
    Ok(found)
}

/// Marks the question `failed` when dropped armed: the wait was abandoned
/// (caller gone, shutdown, store error) before the turn could go on.
struct Unfinished<'a> {
    state: &'a AppState,
    conversation_id: &'a str,
    user_message_id: &'a str,
    armed: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let store = self.state.store.clone();
        let (conversation, question) = (
            self.conversation_id.to_owned(),
            self.user_message_id.to_owned(),
        );
        self.state.tasks.spawn(async move {
            let end = TurnEnd {
                conversation_id: &conversation,
                user_message_id: &question,
                user_status: MessageStatus::Failed,
                reply: None,
                upstream_conversation_id: None,
                upstream_message_id: None,
                at: OffsetDateTime::now_utc(),
            };
            if let Err(e) = store.finish_turn(&end).await {
                tracing::warn!(error = %e, "storing an abandoned question as failed failed");
            }
        });
    }
}
