//! Conversations and their messages as the chat API reads and edits them:
//! listings, lookups, renames and deletes. Writing a turn is in
//! [`super::turns`]; what the background sync adds is in [`super::sync`].

use async_trait::async_trait;
use sdk::{MessageStatus, Role};
use time::OffsetDateTime;

use super::StoreError;
use crate::identity::Identity;

/// A stored conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRecord {
    /// The gateway's own id (the upstream's is `upstream_conversation_id`).
    pub id: String,
    pub system_id: String,
    pub user_id: String,
    /// The upstream's conversation id, once the upstream has answered.
    pub upstream_conversation_id: Option<String>,
    /// Sent as `name` on the wire.
    pub title: String,
    pub created_at: OffsetDateTime,
    /// Last message or rename.
    pub updated_at: OffsetDateTime,
}

impl From<ConversationRecord> for sdk::Conversation {
    fn from(c: ConversationRecord) -> Self {
        sdk::Conversation {
            id: c.id,
            system_id: c.system_id,
            user_id: c.user_id,
            name: c.title,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// The gateway's own id (the upstream's is `upstream_message_id`).
    pub id: String,
    pub conversation_id: String,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    /// The upstream's id of the turn.
    pub upstream_message_id: Option<String>,
    pub created_at: OffsetDateTime,
}

impl MessageRecord {
    /// The wire form; `html` is the content rendered for display, if wanted.
    pub fn into_view(self, html: Option<String>) -> sdk::Message {
        sdk::Message {
            id: self.id,
            conversation_id: self.conversation_id,
            role: self.role,
            content: self.content,
            status: self.status,
            created_at: self.created_at,
            html,
            feedback: None,
        }
    }
}

/// A page of a listing: at most `limit` items before the item `before`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    /// Largest number of items.
    pub limit: u32,
    /// Id of an item already seen: return items that come after it in
    /// listing order (older ones). Unknown ids give an empty page.
    pub before: Option<&'a str>,
}

/// Whose data a lookup may see.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Only this user's conversations.
    Owner(&'a Identity),
    /// Any conversation (operators, with an API key).
    Any,
}

/// Filters of the operator search (`GET /v1/cache/conversations`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConversationFilter<'a> {
    /// Only this system.
    pub system_id: Option<&'a str>,
    /// Only this user.
    pub user_id: Option<&'a str>,
    /// Created at or after.
    pub from: Option<OffsetDateTime>,
    /// Created before.
    pub to: Option<OffsetDateTime>,
    pub limit: u32,
    /// Conversations created before this one (id).
    pub before: Option<&'a str>,
}

/// Reading and editing stored conversations. See the module docs.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// The owner's conversations, most recently active first.
    async fn list_conversations(
        &self,
        owner: &Identity,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError>;

    /// Conversations of any owner, newest first (operators).
    async fn search_conversations(
        &self,
        filter: ConversationFilter<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError>;

    /// One conversation, if visible in `scope`.
    async fn get_conversation(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError>;

    /// The newest messages of a conversation (before `page.before`), in
    /// chronological order. `Ok(None)` when the conversation is not visible.
    async fn list_messages(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError>;

    /// Rename; `Ok(None)` when the conversation is not the owner's.
    async fn rename_conversation(
        &self,
        owner: &Identity,
        id: &str,
        title: &str,
        at: OffsetDateTime,
    ) -> Result<Option<ConversationRecord>, StoreError>;

    /// Delete a conversation and its messages; `false` when not found.
    async fn delete_conversation(&self, owner: &Identity, id: &str) -> Result<bool, StoreError>;
}
