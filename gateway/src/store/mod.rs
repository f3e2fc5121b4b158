//! The gateway's own record of every conversation and message.
//!
//! Handlers talk to [`Store`], one method per use case; each method is one
//! transaction. [`sqlite::SqliteStore`] implements it for a single gateway
//! process; [`postgres::PgStore`] serves several replicas sharing one
//! database. [`open`] picks the implementation from `DATABASE_URL`.
//!
//! ## What is stored
//! - **conversations**: our id (UUID v7), owner (system, user), the
//!   upstream's conversation id once known, a title, timestamps;
//! - **messages**: our id, role, content, status (`complete`, `incomplete`,
//!   `failed`), the upstream's id of the turn, timestamps;
//! - **visitors**: every user who opened the chat page (sync targets).
//!
//! ## A turn
//! [`Store::begin_turn`] stores the user's message *before* the upstream is
//! called, so no failure later can lose it. [`Store::finish_turn`] records
//! the outcome: the answer (complete, or the part that arrived, marked
//! `incomplete`/`failed`) and the upstream ids, which
//! [`Store::record_upstream_ids`] already stored as soon as the upstream
//! named them (see `turns.rs`). In between, the user's
//! message is marked open by the process answering it; turns left open by
//! a process that died are marked `failed` (SQLite when it is next opened,
//! PostgreSQL once the replica's heartbeat stops), so the client offers
//! Retry and [`NewTurn::retry_of`] reuses the message.
//!
//! Timestamps are UTC; the API renders them with an explicit offset.

pub mod catalog;
pub mod console;
pub mod feedback;
pub mod housekeeping;
pub mod idempotency;
pub mod live;
pub mod operators;
pub mod postgres;
mod probe;
mod revocation;
pub mod sqlite;
mod sync_rounds;
mod turns;
mod usage;

pub use self::probe::probe;
pub use self::sync_rounds::SyncLease;
pub use self::turns::{UpstreamClaim, UpstreamIds};

use std::sync::Arc;

use async_trait::async_trait;
use sdk::{MessageStatus, Role};
use time::OffsetDateTime;

use self::console::{ConsoleConversation, ConsoleFilter, ConsoleMessage, DailyUsage, TurnMetrics};
use self::operators::OperatorStore;
pub use self::revocation::{RevocationList, UserRevocation};
pub use self::usage::TokenUsage;
use crate::identity::Identity;
use crate::store::catalog::{AgentRecord, CatalogRecords, CatalogWrite, PutMode, SystemRecord};

use self::feedback::{FeedbackChange, FeedbackOutcome, FeedbackRecord};

/// A stored conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRecord {
    /// The gateway's own id (the upstream's is `upstream_conversation_id`).
    pub id: String,
    pub system_id: String,
    pub user_id: String,
    /// The upstream's conversation id, once the upstream has answered.
    pub upstream_conversation_id: Option<String>,
    /// Sent as `name` on the wire.
    pub title: String,
    pub created_at: OffsetDateTime,
    /// Last message or rename.
    pub updated_at: OffsetDateTime,
}

impl From<ConversationRecord> for sdk::Conversation {
    fn from(c: ConversationRecord) -> Self {
        sdk::Conversation {
            id: c.id,
            system_id: c.system_id,
            user_id: c.user_id,
            name: c.title,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// The gateway's own id (the upstream's is `upstream_message_id`).
    pub id: String,
    pub conversation_id: String,
    pub role: Role,
    pub content: String,
    pub status: MessageStatus,
    /// The upstream's id of the turn.
    pub upstream_message_id: Option<String>,
    pub created_at: OffsetDateTime,
}

impl MessageRecord {
    /// The wire form; `html` is the content rendered for display, if wanted.
    pub fn into_view(self, html: Option<String>) -> sdk::Message {
        sdk::Message {
            id: self.id,
            conversation_id: self.conversation_id,
            role: self.role,
            content: self.content,
            status: self.status,
            created_at: self.created_at,
            html,
            feedback: None,
        }
    }
}

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

/// What [`Store::begin_turn`] did.
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

/// A page of a listing: at most `limit` items before the item `before`.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    /// Largest number of items.
    pub limit: u32,
    /// Id of an item already seen: return items that come after it in
    /// listing order (older ones). Unknown ids give an empty page.
    pub before: Option<&'a str>,
}

/// Whose data a lookup may see.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// Only this user's conversations.
    Owner(&'a Identity),
    /// Any conversation (operators, with an API key).
    Any,
}

/// Filters of the operator search (`GET /v1/cache/conversations`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConversationFilter<'a> {
    /// Only this system.
    pub system_id: Option<&'a str>,
    /// Only this user.
    pub user_id: Option<&'a str>,
    /// Created at or after.
    pub from: Option<OffsetDateTime>,
    /// Created before.
    pub to: Option<OffsetDateTime>,
    pub limit: u32,
    /// Conversations created before this one (id).
    pub before: Option<&'a str>,
}

/// A conversation found elsewhere (upstream history) to merge into the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedConversation {
    /// Its id where it was found; kept as the upstream conversation id.
    pub id: String,
    /// Its title, possibly empty.
    pub name: String,
    /// When it started.
    pub created_at: Option<OffsetDateTime>,
}

/// One turn of an [`ImportedConversation`]: a question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedTurn {
    /// Its id where it was found; kept as the upstream message id.
    pub id: String,
    /// The user's message.
    pub query: Option<String>,
    pub answer: Option<String>,
    /// When it was sent.
    pub created_at: Option<OffsetDateTime>,
}

/// What one imported conversation added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// 1 when the conversation was created or its title changed.
    pub conversations: u64,
    /// Messages created.
    pub messages: u64,
}

/// Errors of the store. The text is for logs only.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is busy beyond the timeout.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed (a bug or a schema problem).
    #[error("database query failed: {0}")]
    Query(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(db)
                if db.message().contains("locked")
                    || db.code().is_some_and(|code| transient_sqlstate(&code)) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Query(e.to_string()),
        }
    }
}

/// PostgreSQL error codes that mean "the database cannot serve right now"
/// rather than "this query is wrong": connection exceptions (class 08),
/// insufficient resources such as too many connections (class 53), the
/// server shutting down, crashed or still starting (57P01–57P03),
/// serialization failures or deadlocks (40001, 40P01), which a retry cures,
/// and a database that refuses writes (25006: read-only, as a standby or
/// with `default_transaction_read_only`).
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "25006"
        )
}

/// Persistence of conversations and messages. See the module docs.
#[async_trait]
pub trait Store: OperatorStore + Send + Sync + 'static {
    /// A cheap write to the database (`/ready`): fails when it cannot take
    /// writes (unreachable, read-only, disk full), not only when it is down.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Store the user's message (or reuse a failed one, see
    /// [`NewTurn::retry_of`]), creating the conversation when
    /// `turn.conversation_id` is `None`.
    async fn begin_turn(&self, turn: &NewTurn<'_>) -> Result<Begin, StoreError>;

    /// Record the outcome of a turn.
    async fn finish_turn(&self, end: &TurnEnd<'_>) -> Result<(), StoreError>;

    /// The owner's conversations, most recently active first.
    async fn list_conversations(
        &self,
        owner: &Identity,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError>;

    /// Conversations of any owner, newest first (operators).
    async fn search_conversations(
        &self,
        filter: ConversationFilter<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError>;

    /// One conversation, if visible in `scope`.
    async fn get_conversation(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError>;

    /// The newest messages of a conversation (before `page.before`), in
    /// chronological order. `Ok(None)` when the conversation is not visible.
    async fn list_messages(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError>;

    /// Rename; `Ok(None)` when the conversation is not the owner's.
    async fn rename_conversation(
        &self,
        owner: &Identity,
        id: &str,
        title: &str,
        at: OffsetDateTime,
    ) -> Result<Option<ConversationRecord>, StoreError>;

    /// Delete a conversation and its messages; `false` when not found.
    async fn delete_conversation(&self, owner: &Identity, id: &str) -> Result<bool, StoreError>;

    /// Remember that `who` opened the chat page.
    async fn record_visit(&self, who: &Identity, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Every user to sync: chat-page visitors and conversation owners.
    async fn sync_targets(&self) -> Result<Vec<Identity>, StoreError>;

    /// Merge one upstream conversation and its turns; existing rows (matched
    /// by upstream ids) are kept, so importing twice adds nothing.
    async fn import_conversation(
        &self,
        owner: &Identity,
        conversation: &ImportedConversation,
        messages: &[ImportedTurn],
        at: OffsetDateTime,
    ) -> Result<ImportCounts, StoreError>;

    // Turns sharing one upstream conversation (see `store/turns.rs`).

    /// Record the upstream ids of a turn that is still answering, with the
    /// guards of [`Store::finish_turn`] (an id another row already holds is
    /// not recorded again).
    async fn record_upstream_ids(&self, ids: &UpstreamIds<'_>) -> Result<(), StoreError>;

    /// Whether the turn of `user_message_id` may call the upstream now (see
    /// [`UpstreamClaim`]). A conversation that is gone is
    /// [`UpstreamClaim::Free`]: its turn stores nothing.
    async fn upstream_claim(
        &self,
        conversation_id: &str,
        user_message_id: &str,
    ) -> Result<UpstreamClaim, StoreError>;
    // Scheduled sync (see `crate::sync`).

    /// Claim round `round` of the scheduled sync for this process, held
    /// until the lease is finished or dropped, and record it (see
    /// [`Store::sync_rounds`]). `None` when another process is running a
    /// round or already ran this one. A store used by one process only
    /// (SQLite) grants every round not run yet; that process keeps its own
    /// runs apart.
    async fn claim_sync_round(&self, round: i64) -> Result<Option<Box<dyn SyncLease>>, StoreError>;
    // ---- Message feedback (see [`feedback`]) ----

    /// Give, replace or clear the feedback of one of the owner's assistant
    /// messages, in one transaction with the checks.
    async fn set_feedback(
        &self,
        change: &FeedbackChange<'_>,
    ) -> Result<FeedbackOutcome, StoreError>;

    /// The feedback of every rated message of a conversation, by message id.
    /// Callers check ownership first (as `list_messages` does).
    async fn conversation_feedback(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, FeedbackRecord)>, StoreError>;

    /// The feedback of one message, as stored now.
    async fn message_feedback(
        &self,
        message_id: &str,
    ) -> Result<Option<FeedbackRecord>, StoreError>;
    // --- Token revocation (see `crate::revocation`) ---

    /// Revoke the token with id `jti`; the row may be forgotten after
    /// `keep_until` (Unix seconds), when no such token can be valid any
    /// more. Rows past their time are deleted on the way.
    async fn revoke_token_id(&self, jti: &str, now: i64, keep_until: i64)
    -> Result<(), StoreError>;

    /// Revoke every token of `who` issued at or before `issued_before`
    /// (Unix seconds; a later revocation of the same user wins), kept until
    /// `keep_until`.
    async fn revoke_user_tokens(
        &self,
        who: &Identity,
        issued_before: i64,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError>;

    /// The revocations in force at `now` (Unix seconds).
    async fn revocations(&self, now: i64) -> Result<RevocationList, StoreError>;

    // --- Daily token budgets (see `crate::limits::budget`) ---

    /// Count `tokens` more upstream tokens used by `who` on `day` (UTC).
    async fn add_token_usage(
        &self,
        who: &Identity,
        day: time::Date,
        tokens: u64,
    ) -> Result<(), StoreError>;

    /// Tokens used on `day` (UTC) by `who` and by `who`'s whole system.
    async fn token_usage(&self, who: &Identity, day: time::Date) -> Result<TokenUsage, StoreError>;
    // Systems and agents managed at runtime (see `catalog.rs`).

    /// The catalog's version: changes with every catalog write.
    async fn catalog_version(&self) -> Result<i64, StoreError>;

    /// Every stored system and agent, with the version they are as of.
    async fn load_catalog(&self) -> Result<CatalogRecords, StoreError>;

    /// Create or replace a system (an update keeps `created_at`).
    async fn put_system(
        &self,
        system: &SystemRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError>;

    /// Delete a system and its agents.
    async fn delete_system(&self, id: &str) -> Result<CatalogWrite, StoreError>;

    /// Create or replace an agent (an update keeps `created_at`).
    async fn put_agent(
        &self,
        agent: &AgentRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError>;

    /// Delete one agent.
    async fn delete_agent(&self, system_id: &str, id: &str) -> Result<CatalogWrite, StoreError>;
    // --- The operator console (see `console`) ---

    /// Conversations matching `filter`, newest first (by creation);
    /// `page.before` is the id of one already listed.
    async fn console_conversations(
        &self,
        filter: &ConsoleFilter,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConsoleConversation>, StoreError>;

    /// One conversation, if it matches `filter` (the viewer's systems).
    async fn console_conversation(
        &self,
        filter: &ConsoleFilter,
        id: &str,
    ) -> Result<Option<ConsoleConversation>, StoreError>;

    /// How many conversations match `filter`.
    async fn console_count(&self, filter: &ConsoleFilter) -> Result<u64, StoreError>;

    /// Every message of these conversations with its metrics: conversation
    /// by conversation in the order of `conversation_ids`, each in order.
    async fn console_messages(
        &self,
        conversation_ids: &[String],
    ) -> Result<Vec<ConsoleMessage>, StoreError>;

    /// Use per day, system and agent. `from`/`to` bound the messages' (and
    /// started conversations') time; the other filters pick conversations.
    async fn daily_usage(&self, filter: &ConsoleFilter) -> Result<Vec<DailyUsage>, StoreError>;

    /// Delete the conversations (and their messages) with no activity since
    /// `cutoff`, and record the run (see [`housekeeping`]). `Ok(None)` when
    /// another replica is purging right now.
    async fn purge_inactive(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<Option<housekeeping::Purged>, StoreError>;

    // --- Housekeeping shown on the console (see [`housekeeping`]) ---

    /// The latest `limit` retention purges, newest first.
    async fn retention_runs(
        &self,
        limit: u32,
    ) -> Result<Vec<housekeeping::RetentionRun>, StoreError>;

    /// The latest `limit` scheduled sync rounds, newest first.
    async fn sync_rounds(
        &self,
        limit: u32,
    ) -> Result<Vec<housekeeping::SyncRoundRecord>, StoreError>;

    // --- Resumable streams: answers still being written (see `live.rs`) ---

    /// Write the text so far of an answer being streamed (one statement: an
    /// insert the first time, an update after). Nothing when its
    /// conversation is gone.
    async fn save_partial(&self, partial: &live::PartialAnswer<'_>) -> Result<(), StoreError>;

    /// Forget the partial of an answer whose turn is stored as finished.
    async fn drop_partial(&self, message_id: &str) -> Result<(), StoreError>;

    /// Where the message `message_id` of `conversation_id` stands, if the
    /// conversation is visible in `scope`: the stored message, else the
    /// partial of an answer still being written; `None` when neither exists.
    async fn answer_progress(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        message_id: &str,
    ) -> Result<Option<live::AnswerProgress>, StoreError>;

    // --- Idempotency keys of chat requests (see [`idempotency`]) ---
    /// Claim a key for a request (forgetting keys finished before
    /// `claim.forget_before` first), or say why not.
    async fn claim_idempotency_key(
        &self,
        claim: &idempotency::KeyClaim<'_>,
    ) -> Result<idempotency::Claim, StoreError>;
    /// Record how the request holding `key` ended. A key this process no
    /// longer holds is left alone.
    async fn finish_idempotency_key(
        &self,
        key: &idempotency::KeyRef<'_>,
        outcome: &idempotency::KeyOutcome<'_>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Forget a key this process holds and has not finished (its request
    /// stored nothing worth replaying), so a retry runs afresh.
    async fn release_idempotency_key(
        &self,
        key: &idempotency::KeyRef<'_>,
    ) -> Result<(), StoreError>;
}

/// Open the store named by `database_url` and bring its schema up to date.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(database_url).await?))
    } else {
        Err(StoreError::Unavailable(format!(
            "unsupported database URL scheme in {:?}",
            database_url.split(':').next().unwrap_or_default()
        )))
    }
}

/// Milliseconds since the Unix epoch (how timestamps are stored).
pub(crate) fn to_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Inverse of [`to_millis`].
pub(crate) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Parse a stored role.
pub(crate) fn role_from_str(s: &str) -> Role {
    if s == "user" {
        Role::User
    } else {
        Role::Assistant
    }
}

/// Parse a stored status.
pub(crate) fn status_from_str(s: &str) -> MessageStatus {
    match s {
        "complete" => MessageStatus::Complete,
        "incomplete" => MessageStatus::Incomplete,
        _ => MessageStatus::Failed,
    }
}

#[cfg(test)]
pub(crate) mod contract;
