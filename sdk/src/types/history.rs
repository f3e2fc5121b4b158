//! What is stored: conversations, messages, their roles and states.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Who wrote a message.
///
/// ```
/// assert_eq!(serde_json::to_string(&tz_chat_sdk::Role::Assistant).unwrap(), "\"assistant\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The end user.
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role as stored and sent on the wire.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::Role::User.as_str(), "user");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// Delivery state of a stored message.
///
/// - `complete`: stored in full (every user message that got an answer, every
///   finished answer);
/// - `incomplete`: an answer cut short (the client left, the upstream
///   connection broke or the gateway shut down); `content` holds what arrived;
/// - `failed`: a user message the upstream never answered, or an answer the
///   upstream aborted with an error (`content` holds what arrived before).
///
/// ```
/// assert_eq!(tz_chat_sdk::MessageStatus::Incomplete.as_str(), "incomplete");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Stored in full.
    Complete,
    /// Cut short; partial content.
    Incomplete,
    /// Not answered, or aborted by an upstream error.
    Failed,
}

impl MessageStatus {
    /// The status as stored and sent on the wire.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::MessageStatus::Failed.as_str(), "failed");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Incomplete => "incomplete",
            MessageStatus::Failed => "failed",
        }
    }
}

/// A conversation as listed by `GET /v1/conversations`.
///
/// ```
/// let json = r#"{"id":"c1","system_id":"drillquiz","user_id":"7","name":"Quiz help",
///               "created_at":"2026-11-21T10:00:00Z","updated_at":"2026-11-21T10:05:00Z"}"#;
/// let c: tz_chat_sdk::Conversation = serde_json::from_str(json).unwrap();
/// assert_eq!(c.name, "Quiz help");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    /// The gateway's id for this conversation.
    pub id: String,
    /// Owning system.
    pub system_id: String,
    /// Owning user.
    pub user_id: String,
    /// Title (named `name` as in the seed API and Dify). Starts as the first
    /// message, shortened; can be renamed.
    pub name: String,
    /// When the conversation started.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the last message was stored, or the conversation renamed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A stored message, as listed by `GET /v1/conversations/{id}/messages`.
///
/// ```
/// let json = r#"{"id":"m1","conversation_id":"c1","role":"user","content":"Hi",
///               "status":"complete","created_at":"2026-11-21T10:00:00Z"}"#;
/// let m: tz_chat_sdk::Message = serde_json::from_str(json).unwrap();
/// assert_eq!(m.role, tz_chat_sdk::Role::User);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// The gateway's id for this message.
    pub id: String,
    /// The conversation it belongs to.
    pub conversation_id: String,
    /// Who wrote it.
    pub role: Role,
    /// The text (markdown for assistant messages).
    pub content: String,
    /// Whether it was stored in full.
    pub status: MessageStatus,
    /// When it was stored.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Sanitised HTML of `content` (assistant messages, when `html=true` was asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The user's rating of an assistant message, when given. Left out
    /// otherwise, so clients older than feedback read the same JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<super::Feedback>,
}

/// Body of `PATCH /v1/conversations/{id}`: rename a conversation.
///
/// ```
/// let body = serde_json::to_string(&tz_chat_sdk::RenameRequest { name: "Exam prep".into(), ..Default::default() }).unwrap();
/// assert_eq!(body, r#"{"name":"Exam prep"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenameRequest {
    /// The new title (1–200 characters).
    pub name: String,
    /// Owning system (API-key callers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<String>,
    /// Owning user (API-key callers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}
