//! Answers still being streamed, as the store sees them (see
//! `crate::chat::live` for the whole story).
//!
//! The process generating an answer writes its text so far every so often
//! ([`LiveStore::save_partial`]); a reader on any process asks where an
//! answer stands ([`LiveStore::answer_progress`]): finished (the stored
//! message), still running (the last partial), or unknown. One statement
//! reads both places, so an answer that finishes meanwhile is seen in one
//! of them, never in neither.

use async_trait::async_trait;
use sdk::{MessageStatus, Role};
use time::OffsetDateTime;

use super::{Scope, StoreError};

/// The text so far of an answer still being streamed.
#[derive(Debug, Clone, Copy)]
pub struct PartialAnswer<'a> {
    pub conversation_id: &'a str,
    /// The assistant message the answer will be stored as.
    pub message_id: &'a str,
    /// The question it answers.
    pub user_message_id: &'a str,
    pub content: &'a str,
    /// Written as the row's `updated_at`: a reader takes a row that stopped
    /// moving for a while for the leftover of a crash.
    pub at: OffsetDateTime,
}

/// Where an answer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerProgress {
    /// `User` when the id names a question (not something to follow).
    pub role: Role,
    /// The question the answer belongs to (`None` for a user message, or
    /// when the stored conversation has none before it).
    pub user_message_id: Option<String>,
    /// The whole answer, or the text written so far.
    pub content: String,
    pub state: AnswerState,
}

/// Whether an answer is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerState {
    /// Stored with this status.
    Finished(MessageStatus),
    /// Still being written; the partial was last written at this time.
    Streaming { updated_at: OffsetDateTime },
}

/// Answers still being written. See the module docs.
#[async_trait]
pub trait LiveStore: Send + Sync {
    /// Write the text so far of an answer being streamed (one statement: an
    /// insert the first time, an update after). Nothing when its
    /// conversation is gone.
    async fn save_partial(&self, partial: &PartialAnswer<'_>) -> Result<(), StoreError>;

    /// Forget the partial of an answer whose turn is stored as finished.
    async fn drop_partial(&self, message_id: &str) -> Result<(), StoreError>;

    /// Where the message `message_id` of `conversation_id` stands, if the
    /// conversation is visible in `scope`: the stored message, else the
    /// partial of an answer still being written; `None` when neither exists.
    async fn answer_progress(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        message_id: &str,
    ) -> Result<Option<AnswerProgress>, StoreError>;
}
