//! The gateway's own record of every conversation and message.
//!
//! Handlers talk to [`Store`], one method per use case; each method is one
//! transaction. The methods are grouped by feature, one trait each, declared
//! with the records they read and write: [`ConversationStore`],
//! [`TurnStore`], [`SyncStore`], [`FeedbackStore`], [`RevocationStore`],
//! [`UsageStore`], [`CatalogStore`], [`ConsoleStore`],
//! [`HousekeepingStore`], [`LiveStore`], [`IdempotencyStore`] and
//! [`OperatorStore`]; [`Store`] is all of them. Each backend implements a
//! feature in its file of the same name. [`sqlite::SqliteStore`] implements it for a single gateway
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
//! [`TurnStore::begin_turn`] stores the user's message *before* the upstream is
//! called, so no failure later can lose it. [`TurnStore::finish_turn`] records
//! the outcome: the answer (complete, or the part that arrived, marked
//! `incomplete`/`failed`) and the upstream ids, which
//! [`TurnStore::record_upstream_ids`] already stored as soon as the upstream
//! named them (see `turns.rs`). In between, the user's
//! message is marked open by the process answering it; turns left open by
//! a process that died are marked `failed` (SQLite when it is next opened,
//! PostgreSQL once the replica's heartbeat stops), so the client offers
//! Retry and [`NewTurn::retry_of`] reuses the message.
//!
//! Timestamps are UTC; the API renders them with an explicit offset.

pub mod catalog;
pub mod console;
mod conversations;
pub mod feedback;
pub mod housekeeping;
pub mod idempotency;
pub mod live;
pub mod operators;
pub mod postgres;
mod probe;
mod revocation;
pub mod sqlite;
mod sync;
mod turns;
mod usage;

use std::sync::Arc;

use async_trait::async_trait;
use sdk::{MessageStatus, Role};
use time::OffsetDateTime;

pub use self::catalog::CatalogStore;
pub use self::console::ConsoleStore;
pub use self::conversations::{
    ConversationFilter, ConversationRecord, ConversationStore, MessageRecord, PageRequest, Scope,
};
pub use self::feedback::FeedbackStore;
pub use self::housekeeping::HousekeepingStore;
pub use self::idempotency::IdempotencyStore;
pub use self::live::LiveStore;
pub use self::operators::OperatorStore;
pub use self::probe::probe;
pub use self::revocation::{RevocationList, RevocationStore, UserRevocation};
pub use self::sync::{ImportCounts, ImportedConversation, ImportedTurn, SyncLease, SyncStore};
pub use self::turns::{
    Begin, ConversationRoute, NewTurn, StoredReply, TurnEnd, TurnStart, TurnStore, UpstreamClaim,
    UpstreamIds,
};
pub use self::usage::{TokenUsage, UsageStore};

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

/// Persistence of conversations and messages: every feature's store. See
/// the module docs.
#[async_trait]
pub trait Store:
    ConversationStore
    + TurnStore
    + SyncStore
    + FeedbackStore
    + RevocationStore
    + UsageStore
    + CatalogStore
    + ConsoleStore
    + HousekeepingStore
    + LiveStore
    + IdempotencyStore
    + OperatorStore
    + Send
    + Sync
    + 'static
{
    /// A cheap write to the database (`/ready`): fails when it cannot take
    /// writes (unreachable, read-only, disk full), not only when it is down.
    async fn ping(&self) -> Result<(), StoreError>;
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
