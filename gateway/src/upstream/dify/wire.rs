//! The JSON shapes of the Dify Service API that this client reads and writes.
//! Every response field is optional and unknown fields are ignored: Dify adds
//! fields often, and several versions are in use.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Body of `POST /v1/chat-messages`.
#[derive(Debug, Serialize)]
pub(crate) struct ChatMessagesRequest<'a> {
    pub(crate) query: &'a str,
    /// Required by Dify even when empty.
    pub(crate) inputs: &'a Map<String, Value>,
    pub(crate) user: &'a str,
    pub(crate) response_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) conversation_id: Option<&'a str>,
}

/// Body of a blocking chat answer.
#[derive(Debug, Deserialize)]
pub(crate) struct BlockingAnswer {
    #[serde(default)]
    pub(crate) conversation_id: Option<String>,
    #[serde(default)]
    pub(crate) message_id: Option<String>,
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) answer: Option<String>,
    #[serde(default)]
    pub(crate) metadata: Option<Metadata>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Metadata {
    #[serde(default)]
    pub(crate) usage: Option<DifyUsage>,
}

/// Dify's usage object; prices are decimal strings we do not forward.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DifyUsage {
    #[serde(default)]
    pub(crate) prompt_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) completion_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) total_tokens: Option<u64>,
}

impl From<DifyUsage> for sdk::Usage {
    fn from(u: DifyUsage) -> Self {
        let prompt = u.prompt_tokens.unwrap_or(0);
        let completion = u.completion_tokens.unwrap_or(0);
        sdk::Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: u.total_tokens.unwrap_or(prompt + completion),
        }
    }
}

/// One `data:` record of a streamed answer. The event type is the `event`
/// field of the JSON.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamRecord {
    #[serde(default)]
    pub(crate) event: String,
    #[serde(default)]
    pub(crate) conversation_id: Option<String>,
    #[serde(default)]
    pub(crate) message_id: Option<String>,
    #[serde(default)]
    pub(crate) id: Option<String>,
    #[serde(default)]
    pub(crate) task_id: Option<String>,
    #[serde(default)]
    pub(crate) answer: Option<String>,
    #[serde(default)]
    pub(crate) metadata: Option<Metadata>,
    /// Error events: the status number.
    #[serde(default)]
    pub(crate) status: Option<Value>,
    /// Error events: the error code.
    #[serde(default)]
    pub(crate) code: Option<String>,
    /// Error events: the message.
    #[serde(default)]
    pub(crate) message: Option<String>,
}

/// Dify's error envelope `{"code", "message", "status"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorEnvelope {
    #[serde(default)]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) message: String,
}

/// A page of `GET /v1/conversations` or `GET /v1/messages`.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default)]
    pub(crate) has_more: bool,
    #[serde(default = "Vec::new")]
    pub(crate) data: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ConversationItem {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) created_at: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageItem {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) query: Option<String>,
    #[serde(default)]
    pub(crate) answer: Option<String>,
    #[serde(default)]
    pub(crate) created_at: Option<i64>,
}

/// Body with only the `user`, for delete and stop.
#[derive(Debug, Serialize)]
pub(crate) struct UserBody<'a> {
    pub(crate) user: &'a str,
}

/// Body of `POST /v1/conversations/{id}/name`.
#[derive(Debug, Serialize)]
pub(crate) struct RenameBody<'a> {
    pub(crate) name: &'a str,
    pub(crate) auto_generate: bool,
    pub(crate) user: &'a str,
}

/// Body of `POST /v1/messages/{id}/feedbacks`; `rating: null` clears.
#[derive(Debug, Serialize)]
pub(crate) struct FeedbackBody<'a> {
    pub(crate) rating: Option<&'a str>,
    pub(crate) user: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) content: Option<&'a str>,
}
