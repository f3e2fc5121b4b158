//! The optional capability of upstreams that keep ratings of their answers
//! (Dify's message feedback). Others store feedback in the gateway only.

use async_trait::async_trait;
use sdk::Rating;

use super::UpstreamError;

/// An upstream that takes a user's rating of one of its answers.
#[async_trait]
pub trait UpstreamFeedback: Send + Sync {
    /// Set (or, with `None`, clear) the rating of the upstream's message
    /// `message_id`, written for `user`. Setting the same value twice is
    /// harmless, so callers may retry; clearing a rating the upstream does
    /// not have counts as done.
    async fn send_feedback(
        &self,
        user: &str,
        message_id: &str,
        rating: Option<Rating>,
        comment: Option<&str>,
    ) -> Result<(), UpstreamError>;
}
