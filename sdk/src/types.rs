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

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::ErrorCode;

/// Body of `POST /v1/chat`: one user message.
///
/// With an API key, `system_id` and `user_id` name the end user. With a chat
/// token (`Authorization: Bearer …`) they may be left out; when given they must
/// match the token.
///
/// ```
/// use sdk::ChatRequest;
///
/// let req = ChatRequest::new("How do I reset my password?")
///     .for_user("drillquiz", "12345")
///     .language("ko");
/// assert_eq!(req.inputs.as_ref().unwrap()["language"], "ko");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The client system (for example `drillquiz`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<String>,
    /// The end user within that system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The user's message. Must not be blank.
    pub message: String,
    /// Continue this conversation (an id returned by an earlier reply). Leave
    /// out to start a new conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// Variables passed to the upstream app, for example `{"language": "ko"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Map<String, Value>>,
    /// Stream the reply as server-sent events instead of one JSON body.
    /// `Accept: text/event-stream` has the same effect.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stream: bool,
    /// Also return the reply rendered as sanitised HTML (markdown rendered on
    /// the server, scripts and event handlers removed).
    #[serde(default, skip_serializing_if = "is_false")]
    pub html: bool,
    /// Retry a stored user message that got no answer (the `message_id` of
    /// a failed turn's error) instead of storing the message again. Needs
    /// `conversation_id`. A message that did get an answer is asked again as
    /// a new message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_message_id: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ChatRequest {
    /// A request carrying `message` and nothing else (identity comes from a
    /// chat token).
    ///
    /// ```
    /// let req = sdk::ChatRequest::new("Hello");
    /// assert!(req.conversation_id.is_none());
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    /// Name the end user (needed when calling with an API key).
    ///
    /// ```
    /// let req = sdk::ChatRequest::new("Hi").for_user("cointutor", "42");
    /// assert_eq!(req.system_id.as_deref(), Some("cointutor"));
    /// ```
    pub fn for_user(mut self, system_id: impl Into<String>, user_id: impl Into<String>) -> Self {
        self.system_id = Some(system_id.into());
        self.user_id = Some(user_id.into());
        self
    }

    /// Continue an existing conversation.
    ///
    /// ```
    /// let req = sdk::ChatRequest::new("And then?").in_conversation("0193…");
    /// assert!(req.conversation_id.is_some());
    /// ```
    pub fn in_conversation(mut self, conversation_id: impl Into<String>) -> Self {
        self.conversation_id = Some(conversation_id.into());
        self
    }

    /// Ask the upstream to answer in `language` (sets `inputs.language`).
    ///
    /// ```
    /// let req = sdk::ChatRequest::new("Hola").language("es");
    /// assert_eq!(req.inputs.unwrap()["language"], "es");
    /// ```
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.inputs
            .get_or_insert_with(Map::new)
            .insert("language".to_owned(), Value::String(language.into()));
        self
    }
}

/// Token counts reported by the upstream for one reply.
///
/// ```
/// let u = sdk::Usage { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 };
/// assert_eq!(u.total_tokens, 42);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Sum of both.
    #[serde(default)]
    pub total_tokens: u64,
}

/// Body of a successful blocking `POST /v1/chat`.
///
/// ```
/// let body = r#"{"conversation_id":"c1","message_id":"m2","user_message_id":"m1","answer":"Hi!"}"#;
/// let reply: sdk::ChatResponse = serde_json::from_str(body).unwrap();
/// assert_eq!(reply.answer, "Hi!");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The conversation this turn belongs to; send it back to continue.
    pub conversation_id: String,
    /// Id of the stored assistant message.
    pub message_id: String,
    /// Id of the stored user message.
    pub user_message_id: String,
    /// The full answer text (markdown).
    pub answer: String,
    /// Token usage, when the upstream reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Sanitised HTML of `answer`, when the request asked for `html`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

/// One event of a streamed reply (`POST /v1/chat` with `"stream": true`).
///
/// On the wire each event is an SSE record whose `event:` line is the variant
/// name and whose `data:` line is this enum as JSON, tagged by `type`:
///
/// ```text
/// event: delta
/// data: {"type":"delta","text":"Hel"}
/// ```
///
/// A stream always ends with exactly one [`End`](StreamEvent::End) or
/// [`Error`](StreamEvent::Error). Keep-alive comments carry no event.
///
/// ```
/// let ev: sdk::StreamEvent = serde_json::from_str(r#"{"type":"delta","text":"Hi"}"#).unwrap();
/// assert_eq!(ev, sdk::StreamEvent::Delta { text: "Hi".into() });
/// assert!(!ev.is_terminal());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// First event: the ids the turn is stored under.
    Start {
        /// The conversation (new or continued).
        conversation_id: String,
        /// Id of the stored user message.
        user_message_id: String,
        /// Id the assistant message will be stored under.
        message_id: String,
    },
    /// A piece of the answer, to append.
    Delta {
        /// Text to append.
        text: String,
    },
    /// The upstream replaced the whole answer so far (content moderation).
    Replace {
        /// The new full answer.
        text: String,
    },
    /// Sanitised HTML of the whole answer so far (only when `html` was asked).
    Html {
        /// Rendered, sanitised HTML.
        html: String,
    },
    /// The answer is complete and stored.
    End {
        /// The conversation id.
        conversation_id: String,
        /// Id of the stored assistant message.
        message_id: String,
        /// Id of the stored user message.
        user_message_id: String,
        /// Token usage, when reported.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Usage>,
        /// Final sanitised HTML (only when `html` was asked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html: Option<String>,
    },
    /// The reply failed. Whatever was received before is stored and marked
    /// `incomplete` or `failed`; the user's message is kept.
    Error {
        /// Machine-readable cause.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
        /// The HTTP status this error would have had before the stream began.
        status: u16,
    },
}

impl StreamEvent {
    /// The SSE `event:` name of this event.
    ///
    /// ```
    /// assert_eq!(sdk::StreamEvent::Delta { text: String::new() }.name(), "delta");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            StreamEvent::Start { .. } => "start",
            StreamEvent::Delta { .. } => "delta",
            StreamEvent::Replace { .. } => "replace",
            StreamEvent::Html { .. } => "html",
            StreamEvent::End { .. } => "end",
            StreamEvent::Error { .. } => "error",
        }
    }

    /// Whether this event ends the stream.
    ///
    /// ```
    /// let end = sdk::StreamEvent::Error { code: sdk::ErrorCode::UpstreamError, message: "x".into(), status: 502 };
    /// assert!(end.is_terminal());
    /// ```
    pub fn is_terminal(&self) -> bool {
        matches!(self, StreamEvent::End { .. } | StreamEvent::Error { .. })
    }
}

/// Who wrote a message.
///
/// ```
/// assert_eq!(serde_json::to_string(&sdk::Role::Assistant).unwrap(), "\"assistant\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// assert_eq!(sdk::Role::User.as_str(), "user");
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
/// assert_eq!(sdk::MessageStatus::Incomplete.as_str(), "incomplete");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// assert_eq!(sdk::MessageStatus::Failed.as_str(), "failed");
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
/// let c: sdk::Conversation = serde_json::from_str(json).unwrap();
/// assert_eq!(c.name, "Quiz help");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
/// let m: sdk::Message = serde_json::from_str(json).unwrap();
/// assert_eq!(m.role, sdk::Role::User);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

/// Body of `PATCH /v1/conversations/{id}`: rename a conversation.
///
/// ```
/// let body = serde_json::to_string(&sdk::RenameRequest { name: "Exam prep".into(), ..Default::default() }).unwrap();
/// assert_eq!(body, r#"{"name":"Exam prep"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn chat_request_omits_empty_fields() {
        let req = ChatRequest::new("hi");
        assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"message":"hi"}"#);
        let back: ChatRequest = serde_json::from_str(r#"{"message":"hi"}"#).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn seed_style_chat_request_parses() {
        let body = r#"{"system_id":"drillquiz","user_id":"12345","message":"Hello",
                       "conversation_id":null,"inputs":{"language":"en"},"future_field":1}"#;
        let req: ChatRequest = serde_json::from_str(body).unwrap();
        assert_eq!(req.system_id.as_deref(), Some("drillquiz"));
        assert_eq!(req.conversation_id, None);
        assert!(!req.stream);
    }

    #[test]
    fn stream_events_round_trip_with_type_tag() {
        let events = vec![
            StreamEvent::Start {
                conversation_id: "c".into(),
                user_message_id: "u".into(),
                message_id: "m".into(),
            },
            StreamEvent::Delta {
                text: "한국어 😀".into(),
            },
            StreamEvent::Replace { text: "x".into() },
            StreamEvent::End {
                conversation_id: "c".into(),
                message_id: "m".into(),
                user_message_id: "u".into(),
                usage: Some(Usage {
                    prompt_tokens: 1,
                    completion_tokens: 2,
                    total_tokens: 3,
                }),
                html: None,
            },
            StreamEvent::Error {
                code: ErrorCode::UpstreamError,
                message: "boom".into(),
                status: 502,
            },
        ];
        for ev in events {
            let json = serde_json::to_string(&ev).unwrap();
            assert!(
                json.contains(&format!(r#""type":"{}""#, ev.name())),
                "{json}"
            );
            let back: StreamEvent = serde_json::from_str(&json).unwrap();
            assert_eq!(back, ev);
        }
    }

    #[test]
    fn timestamps_carry_an_offset() {
        let m = Message {
            id: "m".into(),
            conversation_id: "c".into(),
            role: Role::Assistant,
            content: "x".into(),
            status: MessageStatus::Incomplete,
            created_at: datetime!(2026-11-21 10:14:03.12 UTC),
            html: None,
        };
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            json.contains(r#""created_at":"2026-11-21T10:14:03.12Z""#),
            "{json}"
        );
        assert!(json.contains(r#""status":"incomplete""#));
    }
}
