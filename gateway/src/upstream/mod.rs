//! Upstreams: the LLM back ends that answer a system's messages.
//!
//! Every back end implements [`Upstream`] (answer, stream, stop); those that
//! keep conversations of their own also offer [`UpstreamHistory`] through
//! [`Upstream::history`]. The gateway never talks to a vendor outside this
//! module. Each kind (Dify, an n8n webhook, an OpenAI-compatible API) is one
//! module here, one arm in [`crate::config::UpstreamTarget`] with its
//! parsing, and one arm in `routing::build`.
//!
//! An upstream sees what [`UpstreamRequest`] carries: the injective upstream
//! user name (see [`crate::identity`]), the message, the *upstream's*
//! conversation id, the `inputs`, the conversation's earlier turns (for
//! stateless upstreams that ask for them) and the gateway's own ids
//! ([`TurnContext`]) for upstreams that attach them as metadata. What each
//! kind puts on the wire is its own choice: Dify never sees the gateway's ids.

pub mod demo;
pub mod dify;
mod feedback;
mod history;
pub mod http;
pub mod n8n;
pub mod openai;
pub mod probe;
mod routing;

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use sdk::Usage;
use serde_json::{Map, Value};

use crate::identity::{SystemId, UserId};

pub use self::feedback::UpstreamFeedback;
pub use self::history::{UpstreamConversation, UpstreamHistory, UpstreamMessage};
pub use self::routing::{RouteKey, RuntimeAgent, RuntimeRoutes, Upstreams, build};

/// One message to send upstream.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamRequest<'a> {
    /// The upstream user name ([`crate::identity::Identity::upstream_user`]).
    pub user: &'a str,
    /// The user's message.
    pub query: &'a str,
    /// The upstream's conversation id, when continuing one.
    pub conversation_id: Option<&'a str>,
    /// Variables for the upstream app (`{"language": "ko"}`).
    pub inputs: &'a Map<String, Value>,
    /// The conversation's earlier turns, oldest first. Empty unless the
    /// upstream asks for them with [`Upstream::wants_history`].
    pub history: &'a [PriorTurn],
    /// The gateway's own ids for this turn.
    pub turn: TurnContext<'a>,
}

/// The gateway's view of a turn, for upstreams that pass it on (webhook
/// metadata). Upstreams with their own conversation state ignore it.
#[derive(Debug, Clone, Copy)]
pub struct TurnContext<'a> {
    /// The client system.
    pub system_id: &'a SystemId,
    /// The end user, as the system knows them.
    pub user_id: &'a UserId,
    /// The gateway's conversation id.
    pub conversation_id: &'a str,
    /// The gateway's id of the user's message in this turn.
    pub message_id: &'a str,
    /// The agent the turn is for, when the system names one.
    pub agent: Option<&'a str>,
    /// The `language` input, when given.
    pub language: Option<&'a str>,
}

/// One earlier message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorTurn {
    /// Who wrote it.
    pub role: sdk::Role,
    /// What was written.
    pub content: String,
}

/// How much of a conversation an upstream wants with each message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryWindow {
    /// The most recent complete turns (a question and its answer) to send,
    /// at most.
    pub max_turns: usize,
    /// Characters of those turns, at most; the oldest turns are dropped
    /// first.
    pub max_chars: usize,
}

/// A complete answer (blocking mode).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    /// The answer text.
    pub answer: String,
    /// The upstream's conversation id (new or continued).
    pub conversation_id: Option<String>,
    /// The upstream's id for this turn.
    pub message_id: Option<String>,
    /// Token usage, when reported.
    pub usage: Option<Usage>,
}

/// One event of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyEvent {
    /// The upstream's ids for this turn; sent once, before the text.
    Ids {
        /// Conversation id (new or continued).
        conversation_id: Option<String>,
        /// Id of this turn.
        message_id: Option<String>,
        /// Handle to stop the generation with [`Upstream::stop`].
        task_id: Option<String>,
    },
    /// Text to append.
    Delta(String),
    /// Replace the whole answer so far.
    Replace(String),
    /// The answer is complete. Nothing follows.
    End {
        /// Token usage, when reported.
        usage: Option<Usage>,
    },
}

/// A streamed answer. It ends after [`ReplyEvent::End`] or an error; ending
/// without either is reported as [`UpstreamError::StreamCut`].
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<ReplyEvent, UpstreamError>> + Send>>;

/// A chat back end.
#[async_trait]
pub trait Upstream: Send + Sync + 'static {
    /// Short name for logs and start-up output (`dify`, `demo`).
    fn kind(&self) -> &'static str;

    /// Send a message and wait for the whole answer.
    async fn reply(&self, req: &UpstreamRequest<'_>) -> Result<Reply, UpstreamError>;

    /// Send a message and stream the answer. Errors the upstream reports
    /// before it starts answering come back here, not inside the stream.
    async fn stream(&self, req: &UpstreamRequest<'_>) -> Result<ReplyStream, UpstreamError>;

    /// Ask the upstream to stop generating (best effort: the stream has
    /// already been dropped when this is called).
    async fn stop(&self, _user: &str, _task_id: &str) -> Result<(), UpstreamError> {
        Ok(())
    }

    /// The conversations this upstream keeps, if it keeps any.
    fn history(&self) -> Option<&dyn UpstreamHistory> {
        None
    }

    /// Where users' ratings of answers go, if this upstream keeps them.
    fn feedback(&self) -> Option<&dyn UpstreamFeedback> {
        None
    }

    /// How many earlier messages [`UpstreamRequest::history`] should carry;
    /// `None` (the default) for upstreams that keep the conversation
    /// themselves.
    fn wants_history(&self) -> Option<HistoryWindow> {
        None
    }

    /// The configured target this upstream was built from, for a
    /// reachability probe ([`probe`]); `None` for upstreams with nothing to
    /// reach (the demo).
    fn target(&self) -> Option<crate::config::UpstreamTarget> {
        None
    }
}

/// What went wrong talking to an upstream. The texts are for the gateway's
/// log; clients get the generic messages of [`crate::error::ApiError`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream does not know the conversation (deleted, or never existed).
    #[error("the upstream no longer has this conversation")]
    ConversationGone,
    /// The upstream is over capacity; retry later.
    #[error("the upstream is rate limiting: {message}")]
    RateLimited {
        /// The upstream's message.
        message: String,
        /// Seconds to wait, when the upstream said (`Retry-After`).
        retry_after: Option<u64>,
    },
    /// The conversation no longer fits the model's context window.
    #[error("the conversation is too long for the model: {0}")]
    ContextTooLong(String),
    /// No answer (or no bytes of a stream) within the time limit.
    #[error("the upstream did not answer within {0:?}")]
    Timeout(Duration),
    /// The upstream refused the gateway's credentials: a configuration error.
    #[error("the upstream refused the gateway's API key (HTTP {status}): {message}")]
    Unauthorized {
        /// HTTP status.
        status: u16,
        /// The upstream's message.
        message: String,
    },
    /// Any other error status.
    #[error("the upstream answered HTTP {status} ({code}): {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The upstream's error code, or `-` when the body was not its JSON.
        code: String,
        /// The upstream's message, or the start of the body.
        message: String,
    },
    /// An error reported inside a stream that had started.
    #[error("the upstream failed mid-stream ({code}, {status}): {message}")]
    StreamError {
        /// The upstream's status number.
        status: u16,
        /// The upstream's error code.
        code: String,
        /// The upstream's message.
        message: String,
    },
    /// The stream ended without its closing event.
    #[error("the upstream stream ended before the answer was complete")]
    StreamCut,
    /// Connecting or reading failed.
    #[error("could not reach the upstream: {0}")]
    Transport(String),
    /// The upstream answered something this client cannot use.
    #[error("the upstream sent something unexpected: {0}")]
    Protocol(String),
}
