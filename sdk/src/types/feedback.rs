//! A user's rating of an assistant message
//! (`POST /v1/messages/{id}/feedback`).

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

/// Thumbs up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// Thumbs up (`"like"`).
    Like,
    /// Thumbs down (`"dislike"`).
    Dislike,
}

impl Rating {
    /// The rating as sent on the wire.
    ///
    /// ```
    /// assert_eq!(tz_chat_sdk::Rating::Dislike.as_str(), "dislike");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Like => "like",
            Rating::Dislike => "dislike",
        }
    }
}

/// The feedback stored for a message: one per message, the latest wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feedback {
    /// Up or down.
    pub rating: Rating,
    /// The user's words, when they gave any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// When it was last given.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Body of `POST /v1/messages/{id}/feedback`. `rating` must be present:
/// `null` clears the feedback (and a comment needs a rating).
///
/// ```
/// let body: tz_chat_sdk::FeedbackRequest = serde_json::from_str(r#"{"rating":null}"#).unwrap();
/// assert_eq!(body.rating, None);
/// assert!(serde_json::from_str::<tz_chat_sdk::FeedbackRequest>("{}").is_err());
/// let like = tz_chat_sdk::FeedbackRequest::new(Some(tz_chat_sdk::Rating::Like));
/// assert_eq!(serde_json::to_string(&like).unwrap(), r#"{"rating":"like"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackRequest {
    /// `None` (sent as `null`) clears.
    #[serde(deserialize_with = "present")]
    pub rating: Option<Rating>,
    /// A few words about the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Owning system (API-key callers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<String>,
    /// Owning user (API-key callers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl FeedbackRequest {
    /// A rating without a comment, for the token's user.
    pub fn new(rating: Option<Rating>) -> Self {
        Self {
            rating,
            ..Self::default()
        }
    }
}

/// A field that must be given, though it may be `null` (serde treats a
/// missing `Option` as `None` unless told otherwise).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Rating>, D::Error> {
    Option::<Rating>::deserialize(d)
}

/// Answer of `POST /v1/messages/{id}/feedback`: what is stored now.
///
/// ```
/// let r: tz_chat_sdk::FeedbackResponse = serde_json::from_str(r#"{"message_id":"m1","feedback":null}"#).unwrap();
/// assert!(r.feedback.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackResponse {
    /// The rated message.
    pub message_id: String,
    /// `None` once cleared.
    pub feedback: Option<Feedback>,
}
