//! Records of message feedback: a user's rating (and comment) of an
//! assistant message. One per message; a new one replaces the old, a
//! cleared one is deleted. Deleting the conversation deletes its feedback.

use async_trait::async_trait;
use sdk::Rating;
use time::OffsetDateTime;

use super::StoreError;
use crate::identity::Identity;

/// The stored feedback of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRecord {
    pub rating: Rating,
    pub comment: Option<String>,
    /// When it was last given.
    pub updated_at: OffsetDateTime,
}

impl From<FeedbackRecord> for sdk::Feedback {
    fn from(f: FeedbackRecord) -> Self {
        sdk::Feedback {
            rating: f.rating,
            comment: f.comment,
            updated_at: f.updated_at,
        }
    }
}

/// Give, replace or clear the feedback of a message.
#[derive(Debug, Clone, Copy)]
pub struct FeedbackChange<'a> {
    /// Only this user's messages may be rated.
    pub owner: &'a Identity,
    pub message_id: &'a str,
    /// `None` clears.
    pub rating: Option<Rating>,
    /// Kept only with a rating.
    pub comment: Option<&'a str>,
    /// The time written on the row.
    pub at: OffsetDateTime,
}

/// What [`FeedbackStore::set_feedback`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackOutcome {
    /// No such message for this owner (missing, or someone else's).
    MessageNotFound,
    /// The message is the user's own; only answers take feedback.
    NotAnAnswer,
    /// Stored (or cleared); where to pass it on.
    Saved(FeedbackSaved),
}

/// A message whose feedback was stored, with what an upstream needs to
/// receive it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackSaved {
    /// What is stored now (`None`: cleared).
    pub feedback: Option<FeedbackRecord>,
    /// The upstream's id of the answer, when it told us one.
    pub upstream_message_id: Option<String>,
    /// The agent of the message's conversation (`None`: the system's own
    /// upstream).
    pub agent: Option<String>,
}

/// Parse a stored rating (the column's CHECK allows only these two).
pub(crate) fn rating_from_str(s: &str) -> Rating {
    if s == "like" {
        Rating::Like
    } else {
        Rating::Dislike
    }
}

/// Feedback on assistant messages. See the module docs.
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    /// Give, replace or clear the feedback of one of the owner's assistant
    /// messages, in one transaction with the checks.
    async fn set_feedback(
        &self,
        change: &FeedbackChange<'_>,
    ) -> Result<FeedbackOutcome, StoreError>;

    /// The feedback of every rated message of a conversation, by message id.
    /// Callers check ownership first (as `list_messages` does).
    async fn conversation_feedback(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, FeedbackRecord)>, StoreError>;

    /// The feedback of one message, as stored now.
    async fn message_feedback(
        &self,
        message_id: &str,
    ) -> Result<Option<FeedbackRecord>, StoreError>;
}
