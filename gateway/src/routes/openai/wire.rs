//! OpenAI's Chat Completions wire format: the part of it this door reads
//! and writes. Unknown request fields (`temperature`, `tools`…) are
//! accepted and ignored: the upstream app decides those.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Body of `POST /v1/chat/completions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = openai::CompletionRequest)]
pub(in crate::routes) struct CompletionRequest {
    /// `<system_id>` or `<system_id>/<agent>`.
    pub(super) model: String,
    pub(super) messages: Vec<RequestMessage>,
    #[serde(default)]
    pub(super) stream: bool,
    #[serde(default)]
    pub(super) stream_options: Option<StreamOptions>,
    /// The end user's id.
    #[serde(default)]
    pub(super) user: Option<String>,
    /// `conversation_id` here continues a stored conversation.
    #[serde(default)]
    pub(super) metadata: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = openai::StreamOptions)]
pub(in crate::routes) struct StreamOptions {
    #[serde(default)]
    pub(super) include_usage: bool,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = openai::RequestMessage)]
pub(in crate::routes) struct RequestMessage {
    pub(super) role: String,
    #[serde(default)]
    pub(super) content: Option<Content>,
}

/// A message's content: a string, or a list of parts.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[schema(as = openai::Content)]
pub(in crate::routes) enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = openai::ContentPart)]
pub(in crate::routes) struct ContentPart {
    #[serde(rename = "type")]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) text: Option<String>,
}

impl Content {
    /// The text, or the kind of the first part that is not text.
    pub(super) fn text(&self) -> Result<String, String> {
        match self {
            Content::Text(text) => Ok(text.clone()),
            Content::Parts(parts) => {
                let mut text = String::new();
                for part in parts {
                    match (part.kind.as_str(), &part.text) {
                        ("text", Some(t)) => text.push_str(t),
                        (kind, _) => return Err(kind.to_owned()),
                    }
                }
                Ok(text)
            }
        }
    }
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
#[schema(as = openai::Usage)]
pub(in crate::routes) struct Usage {
    pub(super) prompt_tokens: u64,
    pub(super) completion_tokens: u64,
    pub(super) total_tokens: u64,
}

impl From<sdk::Usage> for Usage {
    fn from(u: sdk::Usage) -> Self {
        Self {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            total_tokens: u.total_tokens,
        }
    }
}

/// A whole answer: `object: "chat.completion"`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::Completion)]
pub(in crate::routes) struct Completion {
    pub(super) id: String,
    pub(super) object: &'static str,
    pub(super) created: i64,
    pub(super) model: String,
    pub(super) choices: Vec<Choice>,
    pub(super) usage: Usage,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::Choice)]
pub(in crate::routes) struct Choice {
    pub(super) index: u32,
    pub(super) message: AssistantMessage,
    pub(super) finish_reason: &'static str,
    pub(super) logprobs: Option<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::AssistantMessage)]
pub(in crate::routes) struct AssistantMessage {
    pub(super) role: &'static str,
    pub(super) content: String,
}

/// One streamed piece: `object: "chat.completion.chunk"`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::Chunk)]
pub(in crate::routes) struct Chunk {
    pub(super) id: String,
    pub(super) object: &'static str,
    pub(super) created: i64,
    pub(super) model: String,
    pub(super) choices: Vec<ChunkChoice>,
    /// Only on the last chunk, when `stream_options.include_usage` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) usage: Option<Usage>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::ChunkChoice)]
pub(in crate::routes) struct ChunkChoice {
    pub(super) index: u32,
    pub(super) delta: Delta,
    pub(super) finish_reason: Option<&'static str>,
    pub(super) logprobs: Option<Value>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[schema(as = openai::Delta)]
pub(in crate::routes) struct Delta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) content: Option<String>,
}

/// `GET /v1/models`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::ModelList)]
pub(in crate::routes) struct ModelList {
    pub(super) object: &'static str,
    pub(super) data: Vec<Model>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::Model)]
pub(in crate::routes) struct Model {
    pub(super) id: String,
    pub(super) object: &'static str,
    pub(super) created: i64,
    pub(super) owned_by: &'static str,
}

/// OpenAI's error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::ErrorBody)]
pub(in crate::routes) struct ErrorBody {
    pub(super) error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = openai::ErrorDetail)]
pub(in crate::routes) struct ErrorDetail {
    pub(super) message: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) code: &'static str,
    pub(super) param: Option<&'static str>,
}
