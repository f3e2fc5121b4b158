//! Turns that share one upstream conversation.
//!
//! An upstream that keeps conversations (Dify) names a new conversation in
//! the first event of its first answer. Until then the gateway conversation
//! has no upstream id, and a second message sent meanwhile would start a
//! second upstream conversation. So:
//!
//! - the turn records the upstream ids as soon as the upstream tells them
//!   ([`super::Store::record_upstream_ids`]), not only when it ends: later
//!   turns (on any replica) can continue the conversation at once, and a
//!   turn cut by a crash keeps the ids that let a sync match it;
//! - a turn in a conversation without an upstream id asks
//!   [`super::Store::upstream_claim`] before calling the upstream, and waits
//!   while an earlier turn of the conversation is still open.
//!
//! Turns are ordered by their user message's place in the conversation
//! (the order the database stored them in, not a replica's clock), so of
//! several waiting turns exactly one — the earliest — goes first when the
//! turn they waited for fails without an id. A retry reuses its question's
//! earlier place: a retry sent while another turn is starting the upstream
//! conversation does not wait for it.

/// Upstream ids learned while a turn is answering.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamIds<'a> {
    /// Our conversation.
    pub conversation_id: &'a str,
    /// The turn's user message.
    pub user_message_id: &'a str,
    /// The upstream's conversation id, if it told us.
    pub upstream_conversation_id: Option<&'a str>,
    /// The upstream's id of the turn, if it told us.
    pub upstream_message_id: Option<&'a str>,
}

/// Whether a turn may call the upstream, for a conversation whose upstream
/// id was unknown when the turn began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamClaim {
    /// The upstream conversation is known now: continue it.
    Known(String),
    /// An earlier turn of the conversation is still open and may yet learn
    /// the upstream id: ask again later.
    Pending,
    /// No earlier turn is open: this turn starts the upstream conversation.
    Free,
}
