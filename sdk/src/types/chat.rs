//! Asking: the chat request, its answer and the events of a streamed answer.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ErrorCode;

/// Body of `POST /v1/chat`: one user message.
///
/// With an API key, `system_id` and `user_id` name the end user. With a chat
/// token (`Authorization: Bearer …`) they may be left out; when given they must
/// match the token.
///
/// ```
/// use tz_chat_sdk::ChatRequest;
///
/// let req = ChatRequest::new("How do I reset my password?")
///     .for_user("drillquiz", "12345")
///     .language("ko");
/// assert_eq!(req.inputs.as_ref().unwrap()["language"], "ko");
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Talk to this agent of the system (a name from `GET /v1/agents`).
    /// A conversation stays with the agent it started with; leave out to
    /// use the conversation's, or the system's default for a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ChatRequest {
    /// A request carrying `message` and nothing else (identity comes from a
    /// chat token).
    ///
    /// ```
    /// let req = tz_chat_sdk::ChatRequest::new("Hello");
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
    /// let req = tz_chat_sdk::ChatRequest::new("Hi").for_user("cointutor", "42");
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
    /// let req = tz_chat_sdk::ChatRequest::new("And then?").in_conversation("0193…");
    /// assert!(req.conversation_id.is_some());
    /// ```
    pub fn in_conversation(mut self, conversation_id: impl Into<String>) -> Self {
        self.conversation_id = Some(conversation_id.into());
        self
    }

    /// Talk to a named agent of the system.
    ///
    /// ```
    /// let req = tz_chat_sdk::ChatRequest::new("A quote, please").agent("sales");
    /// assert_eq!(req.agent.as_deref(), Some("sales"));
    /// ```
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// Ask the upstream to answer in `language` (sets `inputs.language`).
    ///
    /// ```
    /// let req = tz_chat_sdk::ChatRequest::new("Hola").language("es");
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
/// let u = tz_chat_sdk::Usage { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 };
/// assert_eq!(u.total_tokens, 42);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
/// let reply: tz_chat_sdk::ChatResponse = serde_json::from_str(body).unwrap();
/// assert_eq!(reply.answer, "Hi!");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
/// let ev: tz_chat_sdk::StreamEvent = serde_json::from_str(r#"{"type":"delta","text":"Hi"}"#).unwrap();
/// assert_eq!(ev, tz_chat_sdk::StreamEvent::Delta { text: "Hi".into() });
/// assert!(!ev.is_terminal());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        /// The gateway's id of the conversation, new or continued.
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
    /// assert_eq!(tz_chat_sdk::StreamEvent::Delta { text: String::new() }.name(), "delta");
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
    /// let end = tz_chat_sdk::StreamEvent::Error { code: tz_chat_sdk::ErrorCode::UpstreamError, message: "x".into(), status: 502 };
    /// assert!(end.is_terminal());
    /// ```
    pub fn is_terminal(&self) -> bool {
        matches!(self, StreamEvent::End { .. } | StreamEvent::Error { .. })
    }
}
