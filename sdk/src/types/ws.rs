//! Frames of the WebSocket door, `GET /v1/ws`.
//!
//! Every frame is a JSON text message `{"type": …, "data": {…}}` (the
//! ChatBot service's framing); frames with nothing to say leave `data` out.
//! A turn's frames carry the same names and fields as the SSE stream of
//! `POST /v1/chat` ([`StreamEvent`]), wrapped this way.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::chat::{StreamEvent, Usage};
use crate::ErrorCode;

/// A frame a client sends.
///
/// ```
/// use tz_chat_sdk::ClientFrame;
///
/// let hi = ClientFrame::SendMessage {
///     conversation_id: None,
///     content: "Hello".into(),
///     inputs: None,
/// };
/// assert_eq!(
///     serde_json::to_string(&hi).unwrap(),
///     r#"{"type":"send_message","data":{"content":"Hello"}}"#
/// );
/// let ping: ClientFrame = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
/// assert_eq!(ping, ClientFrame::Ping);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Authenticate with a chat token, as the first frame (when the URL
    /// carries no `?token=`). Must arrive within 10 seconds.
    Auth {
        /// The chat token.
        token: String,
    },
    /// Reserve a conversation; answered with
    /// [`ServerFrame::ConversationStarted`]. Nothing is stored until the
    /// first message is sent to it.
    StartConversation {
        /// Title of the conversation (default: the first message's first line).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// The system's agent to talk to (default: its default upstream).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// Send a message; the answer arrives as `start`, `delta`… and exactly
    /// one `end` or `error`.
    SendMessage {
        /// The conversation to continue (a started or an earlier one);
        /// left out, a new conversation is created.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<String>,
        /// The message.
        content: String,
        /// Variables for the upstream app, for example `{"language": "ko"}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inputs: Option<Map<String, Value>>,
    },
    /// Stop the running answer; what arrived so far is stored as
    /// `incomplete`.
    Stop,
    /// Forget a conversation on this socket (its history stays stored);
    /// answered with [`ServerFrame::ConversationEnded`].
    EndConversation {
        /// The conversation.
        conversation_id: String,
    },
    /// Answered with [`ServerFrame::Pong`].
    Ping,
}

/// A frame the gateway sends.
///
/// ```
/// use tz_chat_sdk::{ServerFrame, StreamEvent};
///
/// let frame: ServerFrame = serde_json::from_str(r#"{"type":"delta","data":{"text":"Hi"}}"#).unwrap();
/// assert_eq!(frame.into_stream_event(), Some(StreamEvent::Delta { text: "Hi".into() }));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The socket is authenticated, for this user.
    Ready {
        /// The client system.
        system_id: String,
        /// The end user.
        user_id: String,
    },
    /// A conversation id is reserved for this socket's user.
    ConversationStarted {
        /// Send messages to it with this id.
        conversation_id: String,
    },
    /// The conversation is forgotten on this socket.
    ConversationEnded {
        /// The conversation.
        conversation_id: String,
    },
    /// Answer to [`ClientFrame::Ping`].
    Pong,
    /// See [`StreamEvent::Start`].
    Start {
        /// The conversation (new or continued).
        conversation_id: String,
        /// Id of the stored user message.
        user_message_id: String,
        /// Id the assistant message will be stored under.
        message_id: String,
    },
    /// See [`StreamEvent::Delta`].
    Delta {
        /// Text to append.
        text: String,
    },
    /// See [`StreamEvent::Replace`].
    Replace {
        /// The new full answer.
        text: String,
    },
    /// See [`StreamEvent::Html`].
    Html {
        /// Rendered, sanitised HTML.
        html: String,
    },
    /// See [`StreamEvent::End`].
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
        /// Final sanitised HTML (only when HTML was asked).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html: Option<String>,
    },
    /// A turn failed, or a frame was refused (the socket stays open unless a
    /// close follows). For a turn whose user message was stored before it
    /// failed, where that message is.
    Error {
        /// Machine-readable cause.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
        /// The HTTP status this error stands for.
        status: u16,
        /// The conversation holding the stored user message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<String>,
        /// The stored user message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
}

impl ServerFrame {
    /// Whether this frame ends a turn (`end` or `error`).
    pub fn is_terminal(&self) -> bool {
        matches!(self, ServerFrame::End { .. } | ServerFrame::Error { .. })
    }

    /// The turn event this frame carries, if it is one.
    pub fn into_stream_event(self) -> Option<StreamEvent> {
        Some(match self {
            ServerFrame::Start {
                conversation_id,
                user_message_id,
                message_id,
            } => StreamEvent::Start {
                conversation_id,
                user_message_id,
                message_id,
            },
            ServerFrame::Delta { text } => StreamEvent::Delta { text },
            ServerFrame::Replace { text } => StreamEvent::Replace { text },
            ServerFrame::Html { html } => StreamEvent::Html { html },
            ServerFrame::End {
                conversation_id,
                message_id,
                user_message_id,
                usage,
                html,
            } => StreamEvent::End {
                conversation_id,
                message_id,
                user_message_id,
                usage,
                html,
            },
            ServerFrame::Error {
                code,
                message,
                status,
                ..
            } => StreamEvent::Error {
                code,
                message,
                status,
            },
            ServerFrame::Ready { .. }
            | ServerFrame::ConversationStarted { .. }
            | ServerFrame::ConversationEnded { .. }
            | ServerFrame::Pong => return None,
        })
    }
}

impl From<StreamEvent> for ServerFrame {
    fn from(event: StreamEvent) -> Self {
        match event {
            StreamEvent::Start {
                conversation_id,
                user_message_id,
                message_id,
            } => ServerFrame::Start {
                conversation_id,
                user_message_id,
                message_id,
            },
            StreamEvent::Delta { text } => ServerFrame::Delta { text },
            StreamEvent::Replace { text } => ServerFrame::Replace { text },
            StreamEvent::Html { html } => ServerFrame::Html { html },
            StreamEvent::End {
                conversation_id,
                message_id,
                user_message_id,
                usage,
                html,
            } => ServerFrame::End {
                conversation_id,
                message_id,
                user_message_id,
                usage,
                html,
            },
            StreamEvent::Error {
                code,
                message,
                status,
            } => ServerFrame::Error {
                code,
                message,
                status,
                conversation_id: None,
                message_id: None,
            },
        }
    }
}
