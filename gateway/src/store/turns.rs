//! A turn: the user's message stored before the upstream is called, and
//! its outcome stored after (see the module docs of [`super`]).
//!
//! ## Turns that share one upstream conversation
//!
//! An upstream that keeps conversations (Dify) names a new conversation in
//! the first event of its first answer. Until then the gateway conversation
//! has no upstream id, and a second message sent meanwhile would start a
//! second upstream conversation. So:
//!
//! - the turn records the upstream ids as soon as the upstream tells them
//!   ([`TurnStore::record_upstream_ids`]), not only when it ends: later
//!   turns (on any replica) can continue the conversation at once, and a
//!   turn cut by a crash keeps the ids that let a sync match it;
//! - a turn in a conversation without an upstream id asks
//!   [`TurnStore::upstream_claim`] before calling the upstream, and waits
//!   while an earlier turn of the conversation is still open.
//!
//! Turns are ordered by their user message's place in the conversation
//! (the order the database stored them in, not a replica's clock), so of
//! several waiting turns exactly one — the earliest — goes first when the
//! turn they waited for fails without an id. A retry reuses its question's
//! earlier place: a retry sent while another turn is starting the upstream
//! conversation does not wait for it.

use async_trait::async_trait;
use sdk::MessageStatus;
use time::OffsetDateTime;

use super::StoreError;
use super::console::TurnMetrics;
use crate::identity::Identity;

/// The start of a turn: the user's message.
#[derive(Debug, Clone, Copy)]
pub struct NewTurn<'a> {
    /// Who is writing.
    pub owner: &'a Identity,
    /// Continue this conversation; `None` starts a new one.
    pub conversation_id: Option<&'a str>,
    /// Id for the conversation, if a new one is created.
    pub new_conversation_id: &'a str,
    /// Title for the conversation, if a new one is created.
    pub title: &'a str,
    /// Id for the user's message.
    pub message_id: &'a str,
    /// The user's text.
    pub content: &'a str,
    /// Retry this user message of the conversation: if it is `failed`, it is
    /// reused (its text set to `content`, its status back to `complete`)
    /// instead of storing a new message.
    pub retry_of: Option<&'a str>,
    /// The named agent the message is for. A new conversation is bound to
    /// it; a continued one must be bound to it already
    /// ([`Begin::AgentMismatch`] otherwise, with nothing stored).
    pub agent: Option<&'a str>,
    /// The time written on every row this creates or updates.
    pub at: OffsetDateTime,
}

/// The conversation a turn was stored in.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnStart {
    /// Our conversation id.
    pub conversation_id: String,
    /// The upstream's id, to continue the upstream conversation.
    pub upstream_conversation_id: Option<String>,
    /// Whether the conversation was created by this turn.
    pub created: bool,
    /// The stored user message: `message_id`, or the retried message.
    pub user_message_id: String,
    /// The agent the conversation is bound to (`None`: the system's own
    /// upstream).
    pub agent: Option<String>,
}

/// What [`TurnStore::begin_turn`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// The user's message is stored.
    Started(TurnStart),
    /// The named conversation does not exist for this owner.
    ConversationNotFound,
    /// `retry_of` is not a user message of this conversation.
    RetryTargetNotFound,
    /// The conversation is bound to another agent (this one, `None` for the
    /// system's own upstream); nothing was stored.
    AgentMismatch(Option<String>),
}

/// How a turn ended.
#[derive(Debug, Clone, Copy)]
pub struct TurnEnd<'a> {
    pub conversation_id: &'a str,
    /// The user's message.
    pub user_message_id: &'a str,
    /// `complete` once the upstream accepted it, `failed` when it never answered.
    pub user_status: MessageStatus,
    /// The answer, or what arrived of it. `None` when nothing arrived.
    pub reply: Option<StoredReply<'a>>,
    /// The upstream's conversation id, if it told us.
    pub upstream_conversation_id: Option<&'a str>,
    /// The upstream's id for this turn, if it told us.
    pub upstream_message_id: Option<&'a str>,
    /// The time written on every row this creates or updates.
    pub at: OffsetDateTime,
}

/// The assistant's message of a turn.
#[derive(Debug, Clone, Copy)]
pub struct StoredReply<'a> {
    pub message_id: &'a str,
    pub content: &'a str,
    /// `complete`, `incomplete` or `failed`.
    pub status: MessageStatus,
    /// What the answer cost (the console's analytics).
    pub metrics: TurnMetrics,
}

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

/// What a turn continuing a conversation needs to know before it asks its
/// upstream ([`TurnStore::conversation_route`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRoute {
    /// The agent the conversation is bound to (`None`: the system's own
    /// upstream).
    pub agent: Option<String>,
    /// The upstream's id of the conversation, once it has one.
    pub upstream_conversation_id: Option<String>,
}

/// Writing turns. See the module docs.
#[async_trait]
pub trait TurnStore: Send + Sync {
    /// The agent and upstream conversation of `owner`'s conversation
    /// `conversation_id`, as [`TurnStore::begin_turn`] would find them;
    /// `None` when the owner has no such conversation. Read from the
    /// primary; nothing is written.
    async fn conversation_route(
        &self,
        owner: &Identity,
        conversation_id: &str,
    ) -> Result<Option<ConversationRoute>, StoreError>;

    /// Store the user's message (or reuse a failed one, see
    /// [`NewTurn::retry_of`]), creating the conversation when
    /// `turn.conversation_id` is `None`.
    async fn begin_turn(&self, turn: &NewTurn<'_>) -> Result<Begin, StoreError>;

    /// Record the outcome of a turn.
    async fn finish_turn(&self, end: &TurnEnd<'_>) -> Result<(), StoreError>;

    /// Record the upstream ids of a turn that is still answering, with the
    /// guards of [`TurnStore::finish_turn`] (an id another row already holds
    /// is not recorded again).
    async fn record_upstream_ids(&self, ids: &UpstreamIds<'_>) -> Result<(), StoreError>;

    /// Whether the turn of `user_message_id` may call the upstream now (see
    /// [`UpstreamClaim`]). A conversation that is gone is
    /// [`UpstreamClaim::Free`]: its turn stores nothing.
    async fn upstream_claim(
        &self,
        conversation_id: &str,
        user_message_id: &str,
    ) -> Result<UpstreamClaim, StoreError>;
}
