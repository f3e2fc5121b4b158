//! The optional history capability: upstreams that keep conversations of
//! their own (Dify) list, rename and delete them; stateless ones (a webhook,
//! a completions API) do not, and [`super::Upstream::history`] says `None`.
//!
//! What the gateway does without it — decided by the callers, one `let …
//! else` each: sync reports the system as skipped (nothing imported, no
//! error), and rename/delete change the gateway's store only.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::UpstreamError;

/// A conversation as the upstream lists it (used by sync).
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamConversation {
    /// The upstream's id.
    pub id: String,
    /// Its title, possibly empty.
    pub name: String,
    /// When it started.
    pub created_at: Option<OffsetDateTime>,
}

/// One turn as the upstream lists it: a question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamMessage {
    /// The upstream's id of the turn.
    pub id: String,
    /// The user's message.
    pub query: Option<String>,
    /// The answer.
    pub answer: Option<String>,
    /// When it was sent.
    pub created_at: Option<OffsetDateTime>,
}

/// Conversations kept by the upstream, scoped by the upstream user name.
#[async_trait]
pub trait UpstreamHistory: Send + Sync {
    /// Every conversation of `user`, newest first, all pages.
    async fn list_conversations(
        &self,
        user: &str,
    ) -> Result<Vec<UpstreamConversation>, UpstreamError>;

    /// Every turn of a conversation, oldest first, all pages.
    async fn list_messages(
        &self,
        user: &str,
        conversation_id: &str,
    ) -> Result<Vec<UpstreamMessage>, UpstreamError>;

    /// Delete a conversation. [`UpstreamError::ConversationGone`] when it
    /// does not exist.
    async fn delete_conversation(
        &self,
        user: &str,
        conversation_id: &str,
    ) -> Result<(), UpstreamError>;

    /// Rename a conversation.
    async fn rename_conversation(
        &self,
        user: &str,
        conversation_id: &str,
        name: &str,
    ) -> Result<(), UpstreamError>;
}
