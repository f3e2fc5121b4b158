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
mod history;

use serde::{Deserialize, Serialize};

pub use agents::{AgentInfo, AgentList};
pub use chat::{ChatRequest, ChatResponse, StreamEvent, Usage};
pub use history::{Conversation, Message, MessageStatus, RenameRequest, Role};

/// Body of `GET /v1/chat-token`: a chat token for one end user.
///
/// ```
/// let t: sdk::ChatTokenResponse = serde_json::from_str(r#"{"token":"a.b.c","expires_at":1800000000}"#).unwrap();
/// assert!(t.ui.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatTokenResponse {
    /// The signed chat JWT.
    pub token: String,
    /// When it expires (Unix seconds).
    #[serde(default)]
    pub expires_at: i64,
    /// Widget shell texts in the requested language (when `lang` was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<crate::UiTexts>,
}

/// Body of `POST /v1/sync`: result of pulling upstream history into the store.
///
/// ```
/// let r: sdk::SyncResponse = serde_json::from_str(r#"{"conversations_synced":2,"messages_synced":8,"errors":[]}"#).unwrap();
/// assert_eq!(r.messages_synced, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
/// let h: sdk::HealthResponse = serde_json::from_str(r#"{"status":"ok"}"#).unwrap();
/// assert_eq!(h.status, "ok");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// `ok` when healthy.
    pub status: String,
}

#[cfg(test)]
mod tests;
