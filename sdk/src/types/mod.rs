//! Request and response bodies of the gateway's `/v1` API.
//!
//! These types are the single source of truth for the wire format: the gateway
//! serialises them, the SDK client and the widget deserialise them.
//! They depend on `serde` only, so they compile for `wasm32-unknown-unknown`.
//!
//! Conventions:
//! - field names are `snake_case`;
//! - timestamps are RFC 3339 strings in UTC with an explicit offset
//!   (`2026-11-21T10:14:03.120Z`);
//! - optional fields are left out when empty, and unknown fields are ignored, so
//!   older clients keep working against newer gateways.

mod agents;
mod chat;
mod feedback;
mod history;
mod ws;

use serde::{Deserialize, Serialize};

pub use agents::{AgentInfo, AgentList};
pub use chat::{ChatRequest, ChatResponse, StreamEvent, Usage};
pub use feedback::{Feedback, FeedbackRequest, FeedbackResponse, Rating};
pub use history::{Conversation, Message, MessageStatus, RenameRequest, Role};
pub use ws::{ClientFrame, ServerFrame};

/// Body of `GET /v1/chat-token`: a chat token for one end user. The widget's
/// token endpoint answers in the same shape (see
/// [`ChatLinks::token_response`](crate::ChatLinks::token_response)).
///
/// ```
/// let t: tz_chat_sdk::ChatTokenResponse = serde_json::from_str(r#"{"token":"a.b.c"}"#).unwrap();
/// assert!(t.expires_at.is_none() && t.ui.is_none());
/// let t: tz_chat_sdk::ChatTokenResponse = serde_json::from_str(r#"{"token":"a.b.c","expires_at":1800000000}"#).unwrap();
/// assert_eq!(t.expires_at, Some(1_800_000_000));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatTokenResponse {
    /// The signed chat JWT.
    pub token: String,
    /// When it expires (Unix seconds). Left out, readers take the token's own
    /// `exp` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Widget shell texts in the requested language (when `lang` was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<crate::UiTexts>,
}

/// Body of `POST /v1/sync`: result of pulling upstream history into the store.
///
/// ```
/// let r: tz_chat_sdk::SyncResponse = serde_json::from_str(r#"{"conversations_synced":2,"messages_synced":8,"errors":[]}"#).unwrap();
/// assert_eq!(r.messages_synced, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncResponse {
    /// Conversations created or updated.
    pub conversations_synced: u64,
    /// Messages created or updated.
    pub messages_synced: u64,
    /// One line per user whose sync failed (`system/user: reason`).
    #[serde(default)]
    pub errors: Vec<String>,
    /// Systems whose upstream keeps no conversations to import (an n8n
    /// webhook, an OpenAI-compatible API); not an error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// Body of `GET /health` and `GET /ready`.
///
/// ```
/// let h: tz_chat_sdk::HealthResponse = serde_json::from_str(r#"{"status":"ok"}"#).unwrap();
/// assert_eq!(h.status, "ok");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthResponse {
    /// `ok` when healthy.
    pub status: String,
}

#[cfg(test)]
mod tests;
