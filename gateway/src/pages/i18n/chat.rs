//! The chat page's own texts (with its token error pages).

use serde::Serialize;

/// The texts of the chat page and its error pages in one language, besides
/// the [`CommonTexts`](super::CommonTexts) and the SDK's shared words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatTexts {
    /// Composer placeholder (seed).
    pub placeholder: &'static str,
    /// Composer label for assistive technology.
    pub message: &'static str,
    /// Composer hint about Enter and Shift+Enter.
    pub hint: &'static str,
    /// Send button (seed).
    pub send: &'static str,
    /// Stop button.
    pub stop: &'static str,
    /// Empty state in embed mode (seed).
    pub empty: &'static str,
    /// Empty state in full mode (seed).
    pub empty_full: &'static str,
    /// Loading the conversation list failed (seed).
    pub error_list: &'static str,
    /// Loading messages failed (seed).
    pub error_messages: &'static str,
    /// Sending failed (seed).
    pub error_send: &'static str,
    /// "New conversation" button (seed `sendNew`).
    pub new_conversation: &'static str,
    /// Label of the agent picker (read by assistive technology).
    pub agent: &'static str,
    /// Sidebar heading.
    pub conversations: &'static str,
    /// Embed-mode menu of recent conversations.
    pub recent: &'static str,
    /// The conversation list is empty.
    pub no_conversations: &'static str,
    /// Title of a conversation without a name.
    pub untitled: &'static str,
    /// A reply the user stopped.
    pub stopped: &'static str,
    /// A stored reply that was cut short.
    pub incomplete: &'static str,
    /// A stored user message that got no answer.
    pub not_answered: &'static str,
    /// Typing indicator.
    pub typing: &'static str,
    /// Live-region prefix for a finished reply.
    pub new_reply: &'static str,
    /// Label of the user's messages.
    pub you: &'static str,
    /// Label of the assistant's messages.
    pub assistant: &'static str,
    /// Label of the message list.
    pub messages: &'static str,
    /// Rename action.
    pub rename: &'static str,
    /// Rename dialog heading.
    pub rename_title: &'static str,
    /// Name field.
    pub name: &'static str,
    /// Delete action.
    pub delete: &'static str,
    /// Delete dialog heading.
    pub delete_title: &'static str,
    /// Delete dialog text; `{name}` is the conversation's title.
    pub delete_body: &'static str,
    /// Renaming failed.
    pub error_rename: &'static str,
    /// Deleting failed.
    pub error_delete: &'static str,
    /// The current conversation no longer exists; a new one was started.
    pub conversation_gone: &'static str,
    /// `rate_limited`.
    pub error_busy: &'static str,
    /// Upstream, database or gateway unavailable.
    pub error_unavailable: &'static str,
    /// The network request failed.
    pub error_network: &'static str,
    /// The message was refused as too long.
    pub error_too_long: &'static str,
    /// The chat token expired.
    pub expired: &'static str,
    /// Inside a widget: waiting for a fresh token.
    pub expired_reconnecting: &'static str,
    /// Outside a widget: how to get a fresh token.
    pub expired_reopen: &'static str,
    /// The link has no token.
    pub missing_token: &'static str,
    /// The token is not valid.
    pub invalid_token: &'static str,
    /// The token's system is not allowed.
    pub not_allowed: &'static str,
    /// Heading of the error pages.
    pub error_heading: &'static str,
    /// What to do on an error page.
    pub error_help: &'static str,
    /// Skip link to the composer.
    pub skip_to_composer: &'static str,
    /// Thumbs-up button of an answer (pressed: the user liked it).
    pub like: &'static str,
    /// Thumbs-down button of an answer.
    pub dislike: &'static str,
    /// Saving a rating failed.
    pub error_feedback: &'static str,
}
