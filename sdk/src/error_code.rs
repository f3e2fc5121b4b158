//! The one JSON error shape every gateway endpoint answers with.

use serde::{Deserialize, Serialize};

/// Machine-readable cause of an error. Match on this, never on message text.
///
/// Serialised in `snake_case` (`"token_expired"`). Codes a client does not
/// know yet deserialise as [`ErrorCode::Unknown`].
///
/// ```
/// let code: tz_chat_sdk::ErrorCode = serde_json::from_str("\"conversation_not_found\"").unwrap();
/// assert_eq!(code, tz_chat_sdk::ErrorCode::ConversationNotFound);
/// let newer: tz_chat_sdk::ErrorCode = serde_json::from_str("\"something_added_later\"").unwrap();
/// assert_eq!(newer, tz_chat_sdk::ErrorCode::Unknown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the request is malformed (bad query string, missing identity, bad id).
    BadRequest,
    /// 400: the body is not valid JSON.
    InvalidJson,
    /// 422: the body or query is well-formed but a field is wrong (empty,
    /// too long, wrong type).
    ValidationFailed,
    /// 413: the body is larger than the gateway accepts.
    PayloadTooLarge,
    /// 401: neither `X-API-Key` nor `Authorization: Bearer` was sent.
    MissingCredentials,
    /// 401: the API key is not one of the configured keys (or API keys are off).
    InvalidApiKey,
    /// 401: the chat token has expired.
    TokenExpired,
    /// 401: the chat token was signed with another secret.
    TokenInvalidSignature,
    /// 401: the chat token is not a well-formed HS256 JWT with an `exp`.
    TokenMalformed,
    /// 401: the chat token lacks `system_id` or `user_id`.
    TokenMissingClaims,
    /// 401: the chat token's `nbf` or `iat` lies in the future (beyond the
    /// allowed clock skew).
    TokenNotYetValid,
    /// 401: the chat token was revoked (by its `jti`, or every token of its
    /// user issued before a moment).
    TokenRevoked,
    /// 403: `system_id`/`user_id` in the request differ from the chat token's.
    IdentityMismatch,
    /// 403: the system is not in `ALLOWED_SYSTEM_IDS`.
    SystemNotAllowed,
    /// 403: the browser origin may not request chat tokens.
    OriginNotAllowed,
    /// 404: no such route.
    NotFound,
    /// 404: no such conversation for this user (or the upstream no longer has it).
    ConversationNotFound,
    /// 404: the system has no agent of the name the request gave.
    AgentNotFound,
    /// 405: the route exists but not for this method.
    MethodNotAllowed,
    /// 409: an answer is still being written on this WebSocket; wait for its
    /// `end` or `error`, or send `stop`.
    Busy,
    /// 499: the client stopped the answer (WebSocket `stop`); what arrived
    /// is stored as `incomplete`.
    Stopped,
    /// 429: too many requests; retry after `Retry-After` seconds.
    RateLimited,
    /// 429: the system's or user's daily token budget is used up; it renews
    /// at midnight UTC (`Retry-After` says when).
    BudgetExhausted,
    /// 502: the upstream failed or answered something the gateway cannot use.
    UpstreamError,
    /// 502: the upstream did not answer in time.
    UpstreamTimeout,
    /// 503: no upstream is configured for this system.
    NotConfigured,
    /// 503: the database is unreachable.
    DatabaseUnavailable,
    /// 503: the gateway is shutting down.
    ShuttingDown,
    /// 500: a bug in the gateway; details are in its log.
    Internal,
    /// 403: the system is disabled (by an operator, through `/v1/admin`).
    SystemDisabled,
    /// 409: an operator tried to create something that already exists.
    AlreadyExists,
    /// 409: an operator tried to change a system or agent that comes from
    /// the environment or the configuration file.
    ReadOnly,
    /// 403: the caller is known but may not do this (an API key without the
    /// permission or the system, an analyst asking for an admin action).
    Forbidden,
    /// 401: an operator's email or password is wrong (the same for both).
    InvalidCredentials,
    /// 403: a state-changing request from an operator session without its
    /// CSRF token.
    CsrfRejected,
    /// 422: the `Idempotency-Key` header is empty, longer than 255
    /// characters, or not visible ASCII.
    IdempotencyKeyInvalid,
    /// 422: the `Idempotency-Key` was used with another request body.
    IdempotencyKeyReused,
    /// 409: the request first sent with this `Idempotency-Key` is still
    /// running; retry after `Retry-After` seconds.
    IdempotencyKeyInFlight,
    /// A code this version of the SDK does not know.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as sent on the wire.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::ErrorCode::TokenExpired.as_str(), "token_expired");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::MissingCredentials => "missing_credentials",
            ErrorCode::InvalidApiKey => "invalid_api_key",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::TokenInvalidSignature => "token_invalid_signature",
            ErrorCode::TokenMalformed => "token_malformed",
            ErrorCode::TokenMissingClaims => "token_missing_claims",
            ErrorCode::TokenNotYetValid => "token_not_yet_valid",
            ErrorCode::TokenRevoked => "token_revoked",
            ErrorCode::IdentityMismatch => "identity_mismatch",
            ErrorCode::SystemNotAllowed => "system_not_allowed",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::ConversationNotFound => "conversation_not_found",
            ErrorCode::AgentNotFound => "agent_not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Busy => "busy",
            ErrorCode::Stopped => "stopped",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::BudgetExhausted => "budget_exhausted",
            ErrorCode::UpstreamError => "upstream_error",
            ErrorCode::UpstreamTimeout => "upstream_timeout",
            ErrorCode::NotConfigured => "not_configured",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
            ErrorCode::ShuttingDown => "shutting_down",
            ErrorCode::Internal => "internal",
            ErrorCode::SystemDisabled => "system_disabled",
            ErrorCode::AlreadyExists => "already_exists",
            ErrorCode::ReadOnly => "read_only",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::CsrfRejected => "csrf_rejected",
            ErrorCode::IdempotencyKeyInvalid => "idempotency_key_invalid",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::IdempotencyKeyInFlight => "idempotency_key_in_flight",
            ErrorCode::Unknown => "unknown",
        }
    }

    /// Whether the chat token is the problem, so a widget should fetch a new one.
    ///
    /// ```
    /// assert!(tz_chat_sdk::ErrorCode::TokenExpired.is_token_problem());
    /// assert!(!tz_chat_sdk::ErrorCode::RateLimited.is_token_problem());
    /// ```
    pub fn is_token_problem(self) -> bool {
        matches!(
            self,
            ErrorCode::TokenExpired
                | ErrorCode::TokenInvalidSignature
                | ErrorCode::TokenMalformed
                | ErrorCode::TokenMissingClaims
                | ErrorCode::TokenNotYetValid
                | ErrorCode::TokenRevoked
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` object inside an [`ErrorBody`].
///
/// When a chat turn fails after the user's message was stored, the error
/// also says where it is stored, so a client can show it in its
/// conversation and retry it without storing it twice (send `message_id`
/// back as [`ChatRequest::retry_message_id`](crate::ChatRequest)).
///
/// ```
/// let e = tz_chat_sdk::ApiError::new(tz_chat_sdk::ErrorCode::RateLimited, "Slow down.");
/// assert_eq!(e.code.as_str(), "rate_limited");
/// assert!(e.message_id.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// Machine-readable cause.
    pub code: ErrorCode,
    /// Human-readable explanation, safe to show to an end user.
    pub message: String,
    /// For a failed chat turn: the conversation holding the user's message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// For a failed chat turn: the stored user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The request's id (its `x-request-id`), to quote when reporting the
    /// error: the gateway's log lines of that request carry it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ApiError {
    /// An error with a code and message only.
    ///
    /// ```
    /// let e = tz_chat_sdk::ApiError::new(tz_chat_sdk::ErrorCode::NotFound, "No such route.");
    /// assert_eq!(e.message, "No such route.");
    /// ```
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            conversation_id: None,
            message_id: None,
            request_id: None,
        }
    }
}

/// Body of every error response:
///
/// ```json
/// {"error": {"code": "token_expired", "message": "Token expired"}, "detail": "Token expired"}
/// ```
///
/// `detail` repeats the message so that clients written for the seed gateway,
/// which read `detail`, keep working.
///
/// ```
/// let body = tz_chat_sdk::ErrorBody::new(tz_chat_sdk::ErrorCode::TokenExpired, "Token expired");
/// let json = serde_json::to_string(&body).unwrap();
/// assert_eq!(json, r#"{"error":{"code":"token_expired","message":"Token expired"},"detail":"Token expired"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The machine-readable `code` and the human `message`.
    pub error: ApiError,
    /// The same message, for clients written for the seed gateway.
    pub detail: String,
}

impl ErrorBody {
    /// Build a body from a code and message.
    ///
    /// ```
    /// let b = tz_chat_sdk::ErrorBody::new(tz_chat_sdk::ErrorCode::NotFound, "No such route.");
    /// assert_eq!(b.detail, "No such route.");
    /// ```
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            detail: message.clone(),
            error: ApiError::new(code, message),
        }
    }

    /// Say where the failed turn's user message is stored.
    ///
    /// ```
    /// let b = tz_chat_sdk::ErrorBody::new(tz_chat_sdk::ErrorCode::UpstreamError, "Try again.").for_turn("c1", "m1");
    /// let json = serde_json::to_value(&b).unwrap();
    /// assert_eq!(json["error"]["message_id"], "m1");
    /// ```
    pub fn for_turn(
        mut self,
        conversation_id: impl Into<String>,
        message_id: impl Into<String>,
    ) -> Self {
        self.error.conversation_id = Some(conversation_id.into());
        self.error.message_id = Some(message_id.into());
        self
    }

    /// Say which request failed.
    ///
    /// ```
    /// let b = tz_chat_sdk::ErrorBody::new(tz_chat_sdk::ErrorCode::Internal, "Sorry.").for_request("req-1");
    /// let json = serde_json::to_value(&b).unwrap();
    /// assert_eq!(json["error"]["request_id"], "req-1");
    /// // Bodies from gateways that send no id still parse.
    /// let old: tz_chat_sdk::ErrorBody = serde_json::from_str(
    ///     r#"{"error":{"code":"not_found","message":"No."},"detail":"No."}"#,
    /// ).unwrap();
    /// assert_eq!(old.error.request_id, None);
    /// ```
    pub fn for_request(mut self, request_id: impl Into<String>) -> Self {
        self.error.request_id = Some(request_id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_str_matches_serde() {
        let all = [
            ErrorCode::BadRequest,
            ErrorCode::InvalidJson,
            ErrorCode::ValidationFailed,
            ErrorCode::PayloadTooLarge,
            ErrorCode::MissingCredentials,
            ErrorCode::InvalidApiKey,
            ErrorCode::TokenExpired,
            ErrorCode::TokenInvalidSignature,
            ErrorCode::TokenMalformed,
            ErrorCode::TokenMissingClaims,
            ErrorCode::TokenNotYetValid,
            ErrorCode::TokenRevoked,
            ErrorCode::IdentityMismatch,
            ErrorCode::SystemNotAllowed,
            ErrorCode::OriginNotAllowed,
            ErrorCode::NotFound,
            ErrorCode::ConversationNotFound,
            ErrorCode::AgentNotFound,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Busy,
            ErrorCode::Stopped,
            ErrorCode::RateLimited,
            ErrorCode::BudgetExhausted,
            ErrorCode::UpstreamError,
            ErrorCode::UpstreamTimeout,
            ErrorCode::NotConfigured,
            ErrorCode::DatabaseUnavailable,
            ErrorCode::ShuttingDown,
            ErrorCode::Internal,
            ErrorCode::SystemDisabled,
            ErrorCode::AlreadyExists,
            ErrorCode::ReadOnly,
            ErrorCode::Forbidden,
            ErrorCode::InvalidCredentials,
            ErrorCode::CsrfRejected,
            ErrorCode::IdempotencyKeyInvalid,
            ErrorCode::IdempotencyKeyReused,
            ErrorCode::IdempotencyKeyInFlight,
            ErrorCode::Unknown,
        ];
        for code in all {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, code);
        }
    }
}
