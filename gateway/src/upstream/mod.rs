//! Upstreams: the LLM back ends that answer a system's messages.
//!
//! Every back end implements [`Upstream`]. The gateway never talks to a
//! vendor outside this module, so adding one (n8n, an OpenAI-compatible API)
//! means one new implementation and one line in [`Upstreams::from_settings`].
//!
//! An upstream sees only what it needs: the injective upstream user name (see
//! [`crate::identity`]), the message, the *upstream's* conversation id and the
//! `inputs`. The gateway's own ids never leave the gateway.

pub mod demo;
pub mod dify;

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use sdk::Usage;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::config::UpstreamSettings;
use crate::identity::SystemId;

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

/// A conversation as the upstream lists it (used by sync).
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamConversation {
    /// The upstream's id.
    pub id: String,
    /// Its title, possibly empty.
    pub name: String,
    /// When it started.
    pub created_at: Option<OffsetDateTime>,
}

/// One turn as the upstream lists it: a question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamMessage {
    /// The upstream's id of the turn.
    pub id: String,
    /// The user's message.
    pub query: Option<String>,
    /// The answer.
    pub answer: Option<String>,
    /// When it was sent.
    pub created_at: Option<OffsetDateTime>,
}

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

    /// Every conversation of `user`, newest first, all pages.
    async fn list_conversations(
        &self,
        user: &str,
    ) -> Result<Vec<UpstreamConversation>, UpstreamError>;

    /// Every turn of a conversation, oldest first, all pages.
    async fn list_messages(
        &self,
        user: &str,
        conversation_id: &str,
    ) -> Result<Vec<UpstreamMessage>, UpstreamError>;

    /// Delete a conversation. [`UpstreamError::ConversationGone`] when it
    /// does not exist.
    async fn delete_conversation(
        &self,
        user: &str,
        conversation_id: &str,
    ) -> Result<(), UpstreamError>;

    /// Rename a conversation.
    async fn rename_conversation(
        &self,
        user: &str,
        conversation_id: &str,
        name: &str,
    ) -> Result<(), UpstreamError>;

    /// Ask the upstream to stop generating (best effort: the stream has
    /// already been dropped when this is called).
    async fn stop(&self, _user: &str, _task_id: &str) -> Result<(), UpstreamError> {
        Ok(())
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
    #[error("the upstream is rate limiting: {0}")]
    RateLimited(String),
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

/// Which upstream serves which system, resolved once at start-up.
///
/// Resolution for a system: its own `DIFY_<SYSTEM>_*` configuration, else the
/// shared `DIFY_*` configuration, else the demo upstream when enabled, else
/// none (requests get 503 `not_configured`).
#[derive(Clone)]
pub struct Upstreams {
    per_system: HashMap<String, Arc<dyn Upstream>>,
    shared: Option<Arc<dyn Upstream>>,
    fallback: Option<Arc<dyn Upstream>>,
}

impl Upstreams {
    /// Build every configured upstream, sharing one HTTP connection pool.
    pub fn from_settings(settings: &UpstreamSettings) -> Result<Self, UpstreamError> {
        let http = dify::http_client(settings.timeouts, settings.http2)?;
        let make = |target: &crate::config::DifyTarget| -> Arc<dyn Upstream> {
            Arc::new(dify::DifyUpstream::new(
                http.clone(),
                target.clone(),
                settings.timeouts,
            ))
        };
        Ok(Self {
            per_system: settings
                .dify_per_system
                .iter()
                .map(|(key, target)| (key.clone(), make(target)))
                .collect(),
            shared: settings.dify_shared.as_ref().map(make),
            fallback: settings.demo.map(|demo| {
                Arc::new(demo::DemoUpstream::new(demo.word_delay)) as Arc<dyn Upstream>
            }),
        })
    }

    /// Registry with one upstream for every system (tests, benchmarks).
    pub fn single(upstream: Arc<dyn Upstream>) -> Self {
        Self {
            per_system: HashMap::new(),
            shared: Some(upstream),
            fallback: None,
        }
    }

    /// The upstream serving `system`, if any.
    pub fn resolve(&self, system: &SystemId) -> Option<&Arc<dyn Upstream>> {
        if !self.per_system.is_empty()
            && let Some(up) = self.per_system.get(&system.env_key())
        {
            return Some(up);
        }
        self.shared.as_ref().or(self.fallback.as_ref())
    }

    /// One line per configured route, for the start-up banner.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .per_system
            .iter()
            .map(|(key, up)| format!("systems matching DIFY_{key}_*: {}", up.kind()))
            .collect();
        lines.sort();
        let rest = if lines.is_empty() {
            "every system"
        } else {
            "other systems"
        };
        match (&self.shared, &self.fallback) {
            (Some(up), _) => lines.push(format!("{rest}: {}", up.kind())),
            (None, Some(up)) => lines.push(format!(
                "{rest}: {} (built in, no network; set DIFY_BASE_URL and DIFY_API_KEY for a real model)",
                up.kind()
            )),
            (None, None) => lines.push(format!("{rest}: none (answered with 503 not_configured)")),
        }
        lines
    }
}
