//! Dify's message feedback: `POST /v1/messages/{message_id}/feedbacks`.

use async_trait::async_trait;
use sdk::Rating;

use super::wire::FeedbackBody;
use super::{DifyUpstream, Retry, path_segment};
use crate::upstream::{UpstreamError, UpstreamFeedback};

#[async_trait]
impl UpstreamFeedback for DifyUpstream {
    async fn send_feedback(
        &self,
        user: &str,
        message_id: &str,
        rating: Option<Rating>,
        comment: Option<&str>,
    ) -> Result<(), UpstreamError> {
        let url = self.url(&format!("/messages/{}/feedbacks", path_segment(message_id)));
        let body = FeedbackBody {
            rating: rating.map(Rating::as_str),
            user,
            content: comment,
        };
        let sent = self
            .send(
                || {
                    self.http
                        .post(&url)
                        .json(&body)
                        .timeout(self.timeouts.request)
                },
                // The same rating twice is the same state: safe to repeat.
                Retry::Idempotent,
                false,
            )
            .await;
        match sent {
            // Dify refuses to clear a rating it does not have (400
            // `invalid_param`): the state we want is already there.
            Err(UpstreamError::Status { status: 400, .. }) if rating.is_none() => Ok(()),
            other => other.map(drop),
        }
    }
}
