//! Feedback on answers: a user rates one of their assistant messages (thumbs
//! up or down, with an optional comment) or clears the rating.
//!
//! Rules:
//! 1. only the owner may rate, and only assistant messages; a message of
//!    someone else is not found, exactly like a missing one;
//! 2. the gateway's store is the record (one feedback per message, the
//!    latest wins) and answers the request; nothing upstream can fail it;
//! 3. when the message's upstream keeps ratings too
//!    ([`UpstreamFeedback`](crate::upstream::UpstreamFeedback): Dify), the rating is passed on in the
//!    background, retried a few times. Each attempt sends what is stored
//!    *at that moment*, so a quick like-then-clear ends with the upstream
//!    cleared as well, whatever order the attempts run in. Other upstreams
//!    (n8n, OpenAI-compatible, demo) get nothing.

use std::sync::Arc;
use std::time::Duration;

use sdk::Rating;
use time::OffsetDateTime;

use crate::error::{ApiError, ApiResult};
use crate::identity::Identity;
use crate::state::AppState;
use crate::store::Store;
use crate::store::feedback::{FeedbackChange, FeedbackOutcome, FeedbackRecord, FeedbackSaved};
use crate::stored_text::{check_id, check_text};
use crate::upstream::{RouteKey, Upstream, UpstreamError};

/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 2000;
/// Attempts to pass a rating upstream.
const RELAY_ATTEMPTS: u32 = 4;
/// Pause before the second attempt; doubled each time after.
const RELAY_FIRST_PAUSE: Duration = Duration::from_secs(1);

/// Store `rating` (with `comment`) for the owner's message `message_id`, or
/// clear it (`rating: None`), and pass it upstream in the background.
/// Returns what is stored now.
pub async fn give(
    state: &AppState,
    owner: &Identity,
    message_id: &str,
    rating: Option<Rating>,
    comment: Option<&str>,
) -> ApiResult<Option<FeedbackRecord>> {
    check_id("message id", message_id)?;
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if let Some(comment) = comment {
        if rating.is_none() {
            return Err(ApiError::Validation(
                "comment needs a rating; send rating null alone to clear".into(),
            ));
        }
        if comment.chars().count() > MAX_COMMENT {
            return Err(ApiError::Validation(format!(
                "comment must be at most {MAX_COMMENT} characters"
            )));
        }
        check_text("comment", comment)?;
    }
    let outcome = state
        .store
        .set_feedback(&FeedbackChange {
            owner,
            message_id,
            rating,
            comment,
            at: OffsetDateTime::now_utc(),
        })
        .await?;
    match outcome {
        FeedbackOutcome::MessageNotFound => Err(ApiError::MessageNotFound),
        FeedbackOutcome::NotAnAnswer => Err(ApiError::Validation(
            "only assistant messages take feedback".into(),
        )),
        FeedbackOutcome::Saved(saved) => {
            relay(state, owner, message_id, &saved);
            Ok(saved.feedback)
        }
    }
}

/// Pass the stored rating to the message's upstream, when it keeps ratings.
fn relay(state: &AppState, owner: &Identity, message_id: &str, saved: &FeedbackSaved) {
    let Some(upstream_message_id) = saved.upstream_message_id.clone() else {
        return;
    };
    let key = RouteKey {
        system: &owner.system,
        agent: saved.agent.as_deref(),
    };
    let Some(upstream) = state.catalog.routes().resolve(&key).cloned() else {
        return;
    };
    if upstream.feedback().is_none() {
        return;
    }
    let job = Relay {
        store: state.store.clone(),
        upstream,
        user: owner.upstream_user(),
        message_id: message_id.to_owned(),
        upstream_message_id,
    };
    let shutdown = state.shutdown.clone();
    state.tasks.spawn(async move {
        tokio::select! {
            () = job.run() => {}
            () = shutdown.cancelled() => {
                tracing::warn!("gateway stopping: a rating was not passed upstream");
            }
        }
    });
}

/// One rating on its way upstream.
struct Relay {
    store: Arc<dyn Store>,
    upstream: Arc<dyn Upstream>,
    user: String,
    /// Ours, to read what is stored now.
    message_id: String,
    /// The upstream's.
    upstream_message_id: String,
}

impl Relay {
    async fn run(self) {
        let Some(target) = self.upstream.feedback() else {
            return;
        };
        let mut pause = RELAY_FIRST_PAUSE;
        for attempt in 1..=RELAY_ATTEMPTS {
            let result = match self.store.message_feedback(&self.message_id).await {
                Ok(now) => target
                    .send_feedback(
                        &self.user,
                        &self.upstream_message_id,
                        now.as_ref().map(|f| f.rating),
                        now.as_ref().and_then(|f| f.comment.as_deref()),
                    )
                    .await
                    .map_err(RelayError::Upstream),
                Err(e) => Err(RelayError::Store(e.to_string())),
            };
            let error = match result {
                Ok(()) => return,
                Err(e) => e,
            };
            let last = attempt == RELAY_ATTEMPTS || !error.retryable();
            tracing::warn!(
                error = %error,
                attempt,
                gives_up = last,
                kind = self.upstream.kind(),
                "passing a rating upstream failed"
            );
            if last {
                return;
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("reading the stored rating: {0}")]
    Store(String),
    #[error(transparent)]
    Upstream(UpstreamError),
}

impl RelayError {
    /// Whether a later attempt may succeed (not for a refusal that will
    /// stay: an unknown message, bad credentials).
    fn retryable(&self) -> bool {
        match self {
            RelayError::Store(_) => true,
            RelayError::Upstream(e) => matches!(
                e,
                UpstreamError::RateLimited { .. }
                    | UpstreamError::Timeout(_)
                    | UpstreamError::Status { status: 500.., .. }
                    | UpstreamError::Transport(_)
            ),
        }
    }
}
