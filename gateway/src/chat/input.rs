//! A chat request, checked once for every door that starts a turn (the JSON
//! and SSE API, the WebSocket, the OpenAI-compatible endpoint).

use sdk::ChatRequest;
use serde_json::{Map, Value};

use crate::config::Limits;
use crate::error::ApiError;
use crate::identity::Identity;
use crate::stored_text::MAX_ID_LEN;
use crate::stored_text::{check_id, check_text};

/// Largest `inputs` object, serialised.
const MAX_INPUTS_BYTES: usize = 16 * 1024;

/// A validated chat request.
#[derive(Debug, Clone)]
pub struct TurnInput {
    /// Who is writing.
    pub identity: Identity,
    /// The agent of the system to ask; `None` for its default.
    pub agent: Option<String>,
    /// The message, trimmed.
    pub message: String,
    /// Conversation to continue.
    pub conversation_id: Option<String>,
    /// Passed on to the upstream as its input variables (Dify's `inputs`).
    pub inputs: Map<String, Value>,
    /// Also render the answer to HTML.
    pub html: bool,
    /// Retry this stored user message (see [`crate::store::NewTurn::retry_of`]).
    pub retry_of: Option<String>,
    /// When this turn starts a conversation: the id and title a door
    /// reserved for it beforehand (default: a fresh id, and the message's
    /// first line as the title).
    pub new_conversation: Option<NewConversation>,
}

/// A conversation a door announced before its first message: it is created,
/// under this id, by that message's turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    /// Its id (a fresh UUID).
    pub id: String,
    /// Its title, when the client chose one.
    pub title: Option<String>,
}

impl TurnInput {
    /// Check `req`, written by `identity` (already authenticated), against
    /// `limits`. Empty ids count as left out.
    pub fn from_request(
        limits: &Limits,
        identity: Identity,
        req: ChatRequest,
    ) -> Result<Self, ApiError> {
        let message = req.message.trim();
        if message.is_empty() {
            return Err(ApiError::Validation("message must not be empty".into()));
        }
        let max = limits.max_message_chars;
        if message.chars().count() > max {
            return Err(ApiError::Validation(format!(
                "message is longer than {max} characters"
            )));
        }
        check_text("message", message)?;
        let conversation_id = req.conversation_id.filter(|c| !c.trim().is_empty());
        if let Some(id) = &conversation_id {
            check_id("conversation_id", id)?;
        }
        let retry_of = req.retry_message_id.filter(|r| !r.trim().is_empty());
        if let Some(retry) = &retry_of {
            if conversation_id.is_none() {
                return Err(ApiError::Validation(
                    "retry_message_id needs the conversation_id it belongs to".into(),
                ));
            }
            check_id("retry_message_id", retry)?;
        }
        let inputs = req.inputs.unwrap_or_default();
        let inputs_size = serde_json::to_vec(&inputs)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if inputs_size > MAX_INPUTS_BYTES {
            return Err(ApiError::Validation(format!(
                "inputs is larger than {MAX_INPUTS_BYTES} bytes"
            )));
        }
        let agent = req.agent.filter(|a| !a.trim().is_empty());
        if agent.as_ref().is_some_and(|a| a.len() > MAX_ID_LEN) {
            return Err(ApiError::Validation(format!(
                "agent is longer than {MAX_ID_LEN} characters"
            )));
        }
        Ok(Self {
            identity,
            agent,
            message: message.to_owned(),
            conversation_id,
            inputs,
            html: req.html,
            retry_of,
            new_conversation: None,
        })
    }
}

/// A conversation's first title: the first line of the first message,
/// shortened to 60 characters.
pub fn title_of(message: &str) -> String {
    const MAX: usize = 60;
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() <= MAX {
        return line.to_owned();
    }
    let mut title: String = line.chars().take(MAX - 1).collect();
    title.truncate(title.trim_end().len());
    title.push('…');
    title
}

#[cfg(test)]
mod tests {
    use super::title_of;

    #[test]
    fn titles() {
        assert_eq!(title_of("  \n Hello there \nsecond line"), "Hello there");
        let long = "word ".repeat(30);
        let t = title_of(&long);
        assert_eq!(t.chars().count(), 60);
        assert!(t.ends_with("word…"), "{t}");
        assert_eq!(title_of(&"가".repeat(100)).chars().count(), 60);
    }
}
