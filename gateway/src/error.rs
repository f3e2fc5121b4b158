//! Every failure a client can see, and the one place it becomes HTTP.
//!
//! Each variant has a status, a machine code ([`ErrorCode`]) and a message.
//! The body is always the SDK's [`ErrorBody`]. Messages of client errors say
//! what to fix; server-side failures (5xx) get a generic message and the
//! details go to the log, never to the client.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sdk::jwt::JwtError;
use sdk::{ErrorBody, ErrorCode};

use crate::catalog::CatalogError;
use crate::limits::Refusal;
use crate::limits::budget::Exhausted;
use crate::store::StoreError;
use crate::upstream::UpstreamError;

/// Seed-compatible message for a chat token signed with another secret.
const BAD_SIGNATURE: &str = "Invalid token signature. Ensure server CHAT_GATEWAY_JWT_SECRET matches the value used when issuing the token. Try issuing a new token after restarting the server.";

/// Seconds a request waits before retrying one whose `Idempotency-Key` is
/// still running: a turn takes seconds, and the retry is then replayed.
const IN_FLIGHT_RETRY_AFTER: u64 = 1;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request (400).
    #[error("{0}")]
    BadRequest(String),
    /// Body is not JSON (400).
    #[error("Request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// A field is wrong (422).
    #[error("{0}")]
    Validation(String),
    /// Body too large (413).
    #[error("Request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// In bytes.
        limit: usize,
    },
    /// Request target too long (414).
    #[error("Request URI is longer than {limit} bytes")]
    UriTooLong {
        /// The limit.
        limit: usize,
    },
    /// Request headers too many or too large (431).
    #[error("Request headers are too large (at most {count} headers of {bytes} bytes in all)")]
    HeadersTooLarge {
        /// Most headers.
        count: usize,
        /// Most bytes of names and values.
        bytes: usize,
    },
    /// No credentials at all (401).
    #[error("API key or Bearer token required")]
    MissingCredentials,
    /// Unknown API key, or API keys disabled (401).
    #[error("Invalid API key")]
    InvalidApiKey,
    /// The chat token was refused (401).
    #[error("{0}")]
    Token(#[from] JwtError),
    /// The chat token was revoked (401).
    #[error("This chat token was revoked; ask the site for a new one")]
    TokenRevoked,
    /// Over a rate limit (429).
    #[error("Too many requests; try again in {} s", .0.retry_after.as_secs())]
    RateLimited(Refusal),
    /// A daily token budget is used up (429).
    #[error("The {} daily token budget is used up; it renews at midnight UTC", .0.scope)]
    BudgetExhausted(Exhausted),
    /// `GET /metrics` with a bearer token other than
    /// `CHAT_GATEWAY_METRICS_TOKEN` (401).
    #[error("Invalid metrics token")]
    InvalidMetricsToken,
    /// Request identity differs from the token's (403).
    #[error("system_id/user_id must match token")]
    IdentityMismatch,
    /// System not in the allowlist (403).
    #[error("system_id not allowed")]
    SystemNotAllowed,
    /// The system was disabled by an operator (403).
    #[error("This app is disabled.")]
    SystemDisabled,
    /// The caller may not do this: a key without the permission or the
    /// system, an analyst asking for an admin action (403).
    #[error("{0}")]
    Forbidden(String),
    /// A state-changing request from an operator session without its CSRF
    /// token (403).
    #[error("Missing or wrong CSRF token; reload the page and try again")]
    CsrfRejected,
    /// Wrong email or password at sign-in, the same for both (401).
    #[error("Wrong email or password")]
    InvalidCredentials,
    /// Too many failed sign-ins for an account or from an address (429).
    #[error("Too many failed sign-ins; try again later")]
    LoginThrottled {
        /// Seconds until another try is accepted.
        retry_after: u64,
    },
    /// Browser origin not allowed to get chat tokens (403).
    #[error("Origin not allowed")]
    OriginNotAllowed,
    /// No such route (404).
    #[error("Not found")]
    RouteNotFound,
    /// Wrong method for the route (405).
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// No such conversation for this user (404).
    #[error("Conversation not found")]
    ConversationNotFound,
    /// No such message for this user (404): someone else's is answered
    /// the same as a missing one.
    #[error("Message not found")]
    MessageNotFound,
    /// A WebSocket already has an answer running (409).
    #[error("An answer is still being written on this socket; wait for its end or send stop")]
    Busy,
    /// The client stopped a WebSocket answer (499, as nginx counts a
    /// client that closed its request).
    #[error("Stopped. The answer so far is stored as incomplete.")]
    Stopped,
    /// The system has no agent of this name (404).
    #[error("This app has no agent named {0:?}")]
    AgentNotFound(String),
    /// The conversation belongs to another agent (422).
    #[error(
        "This conversation belongs to agent {0:?}; start a new conversation to talk to another agent"
    )]
    AgentMismatch(String),
    /// An admin request names a system or agent that does not exist (404).
    #[error("{0}")]
    AdminNotFound(String),
    /// An admin request creates what already exists (409).
    #[error("{0}")]
    AlreadyExists(String),
    /// An admin request changes what the environment or the configuration
    /// file defines (409).
    #[error("{0}")]
    ReadOnly(String),
    /// The `Idempotency-Key` header is malformed (422).
    #[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
    IdempotencyKeyInvalid,
    /// The `Idempotency-Key` was first sent with another body (422).
    #[error("This Idempotency-Key was used with a different request; use a new key")]
    IdempotencyKeyReused,
    /// The first request with this `Idempotency-Key` is still running (409).
    #[error("The request with this Idempotency-Key is still running; retry shortly")]
    IdempotencyKeyInFlight,
    /// No upstream for this system (503).
    #[error("Chat is not configured for this app.")]
    NotConfigured,
    /// The upstream failed (404, 429 or 502, by kind).
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The database failed (503 when unreachable or busy, else 500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The gateway is stopping (503).
    #[error("The chat gateway is restarting. Please try again.")]
    ShuttingDown,
    /// A reattached stream's answer stopped moving: the process writing it
    /// went away (503, coded as `shutting_down`: its gateway restarted).
    #[error("The answer was interrupted; what arrived is kept. Please try again.")]
    AnswerInterrupted,
    /// A bug (500).
    #[error("internal error: {0}")]
    Internal(String),
    /// A chat turn failed after the user's message was stored: `error`,
    /// plus where that message is (so the client can show and retry it).
    #[error("{error}")]
    Turn {
        /// What went wrong.
        error: Box<ApiError>,
        /// The conversation holding the user's message.
        conversation_id: String,
        /// The stored user message.
        message_id: String,
    },
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Invalid(m) => ApiError::Validation(m),
            CatalogError::NoSecretKey => ApiError::Validation(e.to_string()),
            CatalogError::ReadOnly(m) => ApiError::ReadOnly(m),
            CatalogError::NotFound(m) => ApiError::AdminNotFound(m),
            CatalogError::Exists(m) => ApiError::AlreadyExists(m),
            CatalogError::Store(e) => ApiError::Store(e),
        }
    }
}

impl ApiError {
    /// The HTTP status the error is answered with.
    pub fn status(&self) -> StatusCode {
        use ApiError as E;
        match self {
            E::Turn { error, .. } => error.status(),
            E::BadRequest(_) | E::InvalidJson(_) => StatusCode::BAD_REQUEST,
            E::Validation(_)
            | E::AgentMismatch(_)
            | E::IdempotencyKeyInvalid
            | E::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            E::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::UriTooLong { .. } => StatusCode::URI_TOO_LONG,
            E::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            E::MissingCredentials
            | E::InvalidApiKey
            | E::InvalidMetricsToken
            | E::InvalidCredentials
            | E::Token(_)
            | E::TokenRevoked => StatusCode::UNAUTHORIZED,
            E::Forbidden(_) | E::CsrfRejected => StatusCode::FORBIDDEN,
            E::RateLimited(_) | E::BudgetExhausted(_) | E::LoginThrottled { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            E::IdentityMismatch | E::SystemNotAllowed | E::SystemDisabled | E::OriginNotAllowed => {
                StatusCode::FORBIDDEN
            }
            E::RouteNotFound
            | E::ConversationNotFound
            | E::MessageNotFound
            | E::AgentNotFound(_)
            | E::AdminNotFound(_) => StatusCode::NOT_FOUND,
            E::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            E::Busy | E::AlreadyExists(_) | E::ReadOnly(_) | E::IdempotencyKeyInFlight => {
                StatusCode::CONFLICT
            }
            E::Stopped => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            E::NotConfigured | E::ShuttingDown | E::AnswerInterrupted => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            E::Upstream(UpstreamError::ConversationGone) => StatusCode::NOT_FOUND,
            E::Upstream(UpstreamError::RateLimited { .. }) => StatusCode::TOO_MANY_REQUESTS,
            E::Upstream(UpstreamError::ContextTooLong(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            E::Upstream(_) => StatusCode::BAD_GATEWAY,
            E::Store(StoreError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            E::Store(StoreError::Query(_)) | E::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `code` of the JSON error body, for clients to branch on.
    pub fn code(&self) -> ErrorCode {
        use ApiError as E;
        match self {
            E::Turn { error, .. } => error.code(),
            E::BadRequest(_) | E::UriTooLong { .. } | E::HeadersTooLarge { .. } => {
                ErrorCode::BadRequest
            }
            E::InvalidJson(_) => ErrorCode::InvalidJson,
            E::Validation(_) => ErrorCode::ValidationFailed,
            E::PayloadTooLarge { .. } => ErrorCode::PayloadTooLarge,
            E::MissingCredentials => ErrorCode::MissingCredentials,
            E::InvalidApiKey | E::InvalidMetricsToken => ErrorCode::InvalidApiKey,
            E::Token(JwtError::Expired) => ErrorCode::TokenExpired,
            E::Token(JwtError::BadSignature) => ErrorCode::TokenInvalidSignature,
            E::Token(JwtError::MissingClaim(_)) => ErrorCode::TokenMissingClaims,
            E::Token(JwtError::NotYetValid | JwtError::IssuedInFuture) => {
                ErrorCode::TokenNotYetValid
            }
            E::Token(_) => ErrorCode::TokenMalformed,
            E::TokenRevoked => ErrorCode::TokenRevoked,
            E::RateLimited(_) => ErrorCode::RateLimited,
            E::BudgetExhausted(_) => ErrorCode::BudgetExhausted,
            E::IdentityMismatch => ErrorCode::IdentityMismatch,
            E::Forbidden(_) => ErrorCode::Forbidden,
            E::CsrfRejected => ErrorCode::CsrfRejected,
            E::InvalidCredentials => ErrorCode::InvalidCredentials,
            E::LoginThrottled { .. } => ErrorCode::RateLimited,
            E::SystemNotAllowed => ErrorCode::SystemNotAllowed,
            E::SystemDisabled => ErrorCode::SystemDisabled,
            E::OriginNotAllowed => ErrorCode::OriginNotAllowed,
            E::RouteNotFound | E::MessageNotFound | E::AdminNotFound(_) => ErrorCode::NotFound,
            E::AlreadyExists(_) => ErrorCode::AlreadyExists,
            E::ReadOnly(_) => ErrorCode::ReadOnly,
            E::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            E::Busy => ErrorCode::Busy,
            E::IdempotencyKeyInvalid => ErrorCode::IdempotencyKeyInvalid,
            E::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            E::IdempotencyKeyInFlight => ErrorCode::IdempotencyKeyInFlight,
            E::Stopped => ErrorCode::Stopped,
            E::ConversationNotFound | E::Upstream(UpstreamError::ConversationGone) => {
                ErrorCode::ConversationNotFound
            }
            E::NotConfigured => ErrorCode::NotConfigured,
            E::AgentNotFound(_) => ErrorCode::AgentNotFound,
            E::AgentMismatch(_) => ErrorCode::ValidationFailed,
            E::Upstream(UpstreamError::RateLimited { .. }) => ErrorCode::RateLimited,
            E::Upstream(UpstreamError::ContextTooLong(_)) => ErrorCode::ValidationFailed,
            E::Upstream(UpstreamError::Timeout(_)) => ErrorCode::UpstreamTimeout,
            E::Upstream(_) => ErrorCode::UpstreamError,
            E::Store(StoreError::Unavailable(_)) => ErrorCode::DatabaseUnavailable,
            E::ShuttingDown | E::AnswerInterrupted => ErrorCode::ShuttingDown,
            E::Store(StoreError::Query(_)) | E::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The message shown to the client.
    pub fn public_message(&self) -> Cow<'static, str> {
        use ApiError as E;
        match self {
            E::Turn { error, .. } => error.public_message(),
            E::Token(JwtError::Expired) => "Token expired".into(),
            E::Token(JwtError::BadSignature) => BAD_SIGNATURE.into(),
            E::Token(JwtError::MissingClaim("exp")) => "token must contain exp".into(),
            E::Token(JwtError::MissingClaim(_)) => {
                "token must contain system_id and user_id".into()
            }
            E::Token(JwtError::WrongIssuer) => "Token issuer is not accepted".into(),
            E::Token(JwtError::WrongAudience) => "Token audience is not accepted".into(),
            E::Token(JwtError::NotYetValid) => "Token is not valid yet (nbf)".into(),
            E::Token(JwtError::IssuedInFuture) => {
                "Token is issued in the future (iat); check the issuer's clock".into()
            }
            E::Token(JwtError::LifetimeTooLong { max_secs }) => {
                format!("Token lifetime (exp - iat) exceeds the maximum of {max_secs} s").into()
            }
            E::Token(JwtError::UnknownCritical(_)) => {
                "Token header marks extensions critical (crit) that the gateway does not support"
                    .into()
            }
            E::Token(_) => "Invalid or expired token".into(),
            E::Upstream(UpstreamError::ConversationGone) => "Conversation not found".into(),
            E::Upstream(UpstreamError::RateLimited { .. }) => {
                "The chat service is busy. Please try again shortly.".into()
            }
            E::Upstream(UpstreamError::ContextTooLong(_)) => {
                "This conversation is too long for the model. Please start a new one.".into()
            }
            E::Upstream(UpstreamError::Timeout(_)) => {
                "The chat service did not answer in time. Please try again.".into()
            }
            E::Upstream(_) => "Chat service temporarily unavailable. Please try again.".into(),
            E::Store(StoreError::Unavailable(_)) => {
                "The chat history store is unavailable. Please try again.".into()
            }
            E::Store(StoreError::Query(_)) | E::Internal(_) => {
                "Internal error. The gateway's log has the details.".into()
            }
            other => other.to_string().into(),
        }
    }

    /// Seconds the upstream asked clients to wait, when it said.
    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Turn { error, .. } => error.retry_after(),
            ApiError::Upstream(UpstreamError::RateLimited { retry_after, .. }) => *retry_after,
            ApiError::RateLimited(refusal) => Some(refusal.retry_after.as_secs()),
            ApiError::BudgetExhausted(exhausted) => Some(exhausted.retry_after.as_secs()),
            ApiError::LoginThrottled { retry_after } => Some(*retry_after),
            ApiError::IdempotencyKeyInFlight => Some(IN_FLIGHT_RETRY_AFTER),
            _ => None,
        }
    }

    /// Log what the client is not told: server-side failures in full.
    pub fn log(&self) {
        match self {
            ApiError::Turn { error, .. } => error.log(),
            ApiError::Upstream(UpstreamError::Unauthorized { .. }) => {
                tracing::error!(error = %self, "upstream refused the gateway's credentials: check the system's DIFY_*_API_KEY, N8N_*_WEBHOOK_TOKEN or OPENAI_*_API_KEY");
            }
            ApiError::Upstream(e) => tracing::warn!(error = %e, "upstream call failed"),
            ApiError::Store(e) => tracing::error!(error = %e, "store failed"),
            ApiError::Internal(e) => tracing::error!(error = %e, "internal error"),
            _ => {}
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let mut body = ErrorBody::new(self.code(), self.public_message());
        if let ApiError::Turn {
            conversation_id,
            message_id,
            ..
        } = &self
        {
            body = body.for_turn(conversation_id.clone(), message_id.clone());
        }
        if let Some(id) = crate::request_id::current() {
            body = body.for_request(id);
        }
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tz-chat\""),
            );
        }
        if status == StatusCode::TOO_MANY_REQUESTS
            || matches!(self, ApiError::IdempotencyKeyInFlight)
        {
            let seconds = self.retry_after().unwrap_or(5);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let ApiError::RateLimited(refusal) = &self {
            rate_limit_headers(resp.headers_mut(), refusal);
        }
        resp
    }
}

impl From<crate::sync::SyncError> for ApiError {
    fn from(e: crate::sync::SyncError) -> Self {
        match e {
            crate::sync::SyncError::NotConfigured => ApiError::NotConfigured,
            crate::sync::SyncError::Upstream(e) => ApiError::Upstream(e),
            crate::sync::SyncError::Store(e) => ApiError::Store(e),
        }
    }
}

/// The `RateLimit-Policy` and `RateLimit` fields of a refusal
/// (draft-ietf-httpapi-ratelimit-headers: `"user";q=20;w=60` and
/// `"user";r=0;t=3`, quota `q` per window `w` seconds; `r` remaining, `t`
/// seconds until more).
fn rate_limit_headers(headers: &mut axum::http::HeaderMap, refusal: &Refusal) {
    let policy = format!(
        "\"{}\";q={};w={}",
        refusal.policy,
        refusal.rate.count,
        refusal.rate.window_secs()
    );
    let now = format!(
        "\"{}\";r=0;t={}",
        refusal.policy,
        refusal.retry_after.as_secs()
    );
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", now)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_details() {
        let e = ApiError::Upstream(UpstreamError::Status {
            status: 500,
            code: "internal_server_error".into(),
            message: "stack trace with secrets".into(),
        });
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
        assert!(!e.public_message().contains("secrets"));
        let e = ApiError::Store(StoreError::Query("near SELECT: syntax".into()));
        assert!(!e.public_message().contains("SELECT"));
    }

    #[test]
    fn upstream_404_is_our_404() {
        let e = ApiError::Upstream(UpstreamError::ConversationGone);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(e.code(), ErrorCode::ConversationNotFound);
    }
}
