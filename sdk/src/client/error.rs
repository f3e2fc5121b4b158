//! What can go wrong when calling the gateway, as one typed enum.
//!
//! Match on the variant to tell a network problem from a refusal by the
//! gateway, and on [`ErrorCode`] (never on message text) to tell refusals
//! apart. No variant ever holds the API key or the bearer token.

use crate::ErrorCode;
use crate::sse::SseError;

/// An error from [`Client`](crate::Client) or one of its views.
///
/// ```no_run
/// # async fn run(client: tz_chat_sdk::Client) {
/// use tz_chat_sdk::{ChatRequest, Error, ErrorCode};
///
/// match client.user("cointutor", "42").chat(ChatRequest::new("Hi")).await {
///     Ok(reply) => println!("{}", reply.answer),
///     Err(Error::Api { code: ErrorCode::RateLimited, .. }) => println!("busy, try again soon"),
///     Err(Error::Api { status, code, message, .. }) => println!("refused ({status} {code}): {message}"),
///     Err(e) if e.is_timeout() => println!("the gateway did not answer in time"),
///     Err(e) => println!("failed: {e}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request did not complete: connection refused, TLS, timeout, or the
    /// connection broke while the body was read.
    #[error("HTTP transport failed: {0}")]
    Http(#[source] reqwest::Error),
    /// The gateway refused or failed the request and said why, in its error
    /// body (or, mid-stream, in an `error` event).
    #[error("gateway answered {status} {code}: {message}")]
    Api {
        /// HTTP status (for a stream `error` event, the status it stands for).
        status: u16,
        /// Machine-readable cause; match on this.
        code: ErrorCode,
        /// Human-readable explanation, safe to show to an end user.
        message: String,
        /// For a chat turn that failed after the user's message was stored:
        /// the conversation holding it.
        conversation_id: Option<String>,
        /// For a chat turn that failed after the user's message was stored:
        /// its id, to send back as `ChatRequest::retry_message_id`.
        message_id: Option<String>,
    },
    /// The gateway's answer could not be read as the expected JSON (for
    /// example a proxy's HTML error page). The raw body is kept.
    #[error("could not decode the answer (HTTP {status}): {source}")]
    Decode {
        /// HTTP status of the answer.
        status: u16,
        /// The body as received (lossy UTF-8).
        body: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A streamed reply broke off or could not be decoded.
    #[error("reply stream failed: {0}")]
    Stream(#[from] StreamError),
    /// A chat token could not be minted or verified.
    #[cfg(feature = "jwt")]
    #[error("chat token: {0}")]
    Jwt(#[from] crate::jwt::JwtError),
    /// An argument cannot make a valid request (an empty id, a base URL that
    /// is not `http(s)://…`, a key with characters not allowed in a header).
    /// Nothing was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl Error {
    /// The HTTP status the gateway answered with, for [`Error::Api`] and
    /// [`Error::Decode`].
    ///
    /// ```
    /// let e = tz_chat_sdk::Error::Api { status: 404, code: tz_chat_sdk::ErrorCode::ConversationNotFound, message: "Conversation not found".into(), conversation_id: None, message_id: None };
    /// assert_eq!(e.status(), Some(404));
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::Http(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The gateway's error code, for [`Error::Api`].
    ///
    /// ```
    /// let e = tz_chat_sdk::Error::Api { status: 401, code: tz_chat_sdk::ErrorCode::TokenExpired, message: "Token expired".into(), conversation_id: None, message_id: None };
    /// assert!(e.code().is_some_and(tz_chat_sdk::ErrorCode::is_token_problem));
    /// ```
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether a client-side time limit ran out (see
    /// [`ClientBuilder::timeout`](crate::ClientBuilder::timeout)). The
    /// gateway's own upstream time-outs are [`ErrorCode::UpstreamTimeout`].
    ///
    /// ```
    /// assert!(!tz_chat_sdk::Error::InvalidInput("x".into()).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Http(e) if e.is_timeout())
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        Error::Http(e)
    }
}

#[cfg(feature = "jwt")]
impl From<crate::LinkError> for Error {
    /// So that `?` works on [`ChatLinks`](crate::ChatLinks) calls in a
    /// function that returns this error.
    fn from(e: crate::LinkError) -> Self {
        match e {
            crate::LinkError::Jwt(e) => Error::Jwt(e),
            other => Error::InvalidInput(other.to_string()),
        }
    }
}

/// Why a streamed reply failed.
///
/// ```
/// let e = tz_chat_sdk::StreamError::EndedEarly;
/// assert_eq!(e.to_string(), "the stream ended before its final event");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The connection closed before the final `end` or `error` event: the
    /// reply is incomplete.
    #[error("the stream ended before its final event")]
    EndedEarly,
    /// The bytes are not a valid event stream.
    #[error(transparent)]
    Sse(#[from] SseError),
    /// The answer is not `text/event-stream` (the content type received).
    #[error("expected an event stream, got content type {0:?}")]
    NotEventStream(String),
}
