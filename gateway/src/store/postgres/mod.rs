//! [`Store`] on PostgreSQL: one database shared by every gateway replica.
//!
//! Behaviour matches [`super::sqlite::SqliteStore`] method for method (the
//! same contract suite runs on both); what differs is how it stays correct
//! when several processes write at once:
//!
//! - **Message order.** `messages.seq` is an identity column. Every insert of
//!   a message first locks its conversation's row (`begin_turn` and
//!   `finish_turn` update `updated_at` before inserting, imports select the
//!   row `FOR UPDATE`), so within one conversation `seq` order is commit
//!   order and a page read never skips a message committed later.
//! - **Upstream ids.** The partial unique indexes (one conversation per
//!   upstream conversation and owner, one user and one assistant message per
//!   upstream turn) make duplicates impossible. The two writers of upstream
//!   ids, [`Store::finish_turn`] and [`Store::import_conversation`], first
//!   take a transaction-scoped advisory lock on the conversation's owner (see
//!   `writes.rs`), so their "unless someone else already holds this id" guards
//!   are evaluated with no concurrent writer of that owner: a sync racing a
//!   live turn, on any replica, never makes the turn fail, and concurrent
//!   syncs insert each row once.
//! - **Timestamps** are `TIMESTAMPTZ`, written truncated to milliseconds as
//!   SQLite keeps them, and read back as UTC.
//! - **Availability.** A pool of [`POOL_SIZE`] connections per replica; a
//!   query waits at most [`ACQUIRE_TIMEOUT`] for a connection, then fails as
//!   [`StoreError::Unavailable`] (HTTP 503 `database_unavailable`).
//!
//! - **Turns cut by a crash.** Each replica has an id and a heartbeat; the
//!   open turns of a replica that stopped beating are marked `failed` by the
//!   others (see `replicas.rs`).
//!
//! Migrations (`migrations/postgres`) run at start-up; sqlx holds a
//! PostgreSQL advisory lock while migrating, so replicas starting together
//! apply each migration once.

mod catalog;
mod console;
mod feedback;
mod housekeeping;
mod idempotency;
mod limits;
mod live;
mod operators;
pub(crate) mod probe;
mod replicas;
mod sync_rounds;
mod turns;
mod writes;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::FromRow;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use time::OffsetDateTime;

use super::console::{ConsoleConversation, ConsoleFilter, ConsoleMessage, DailyUsage};
use super::{
    Begin, ConversationFilter, ConversationRecord, ImportCounts, ImportedConversation,
    ImportedTurn, MessageRecord, NewTurn, PageRequest, RevocationList, Scope, Store, StoreError,
    TokenUsage, TurnEnd, UpstreamClaim, UpstreamIds, from_millis, role_from_str, status_from_str,
    to_millis,
};
use crate::identity::Identity;
use crate::store::catalog::{AgentRecord, CatalogRecords, CatalogWrite, PutMode, SystemRecord};
use crate::store::feedback::{FeedbackChange, FeedbackOutcome, FeedbackRecord};

/// Connections per replica. Short transactions only (no connection is held
/// while an answer streams), so this is plenty; PostgreSQL's
/// `max_connections` must exceed `POOL_SIZE` × the largest replica count.
pub const POOL_SIZE: u32 = 16;
/// Longest wait for a pooled connection before answering 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest `/ready` round trip: a probe must not hang on a dead database
/// (a readiness probe's timeout must be longer).
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// PostgreSQL-backed store. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    /// This replica's id: marks the turns it answers.
    replica: Arc<str>,
    /// Keeps the heartbeat running while any clone of the store lives.
    _alive: Arc<tokio_util::sync::DropGuard>,
}

#[derive(FromRow)]
struct ConversationRow {
    id: String,
    system_id: String,
    user_id: String,
    upstream_conversation_id: Option<String>,
    title: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ConversationRow> for ConversationRecord {
    fn from(r: ConversationRow) -> Self {
        ConversationRecord {
            id: r.id,
            system_id: r.system_id,
            user_id: r.user_id,
            upstream_conversation_id: r.upstream_conversation_id,
            title: r.title,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(FromRow)]
struct MessageRow {
    id: String,
    conversation_id: String,
    role: String,
    content: String,
    status: String,
    upstream_message_id: Option<String>,
    created_at: OffsetDateTime,
}

impl From<MessageRow> for MessageRecord {
    fn from(r: MessageRow) -> Self {
        MessageRecord {
            id: r.id,
            conversation_id: r.conversation_id,
            role: role_from_str(&r.role),
            content: r.content,
            status: status_from_str(&r.status),
            upstream_message_id: r.upstream_message_id,
            created_at: r.created_at,
        }
    }
}

/// A timestamp as stored: UTC, whole milliseconds (as in SQLite).
fn stored(t: OffsetDateTime) -> OffsetDateTime {
    from_millis(to_millis(t))
}

impl PgStore {
    /// Connect to `url` (`postgres://…` or `postgresql://…`) and migrate.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("tz-chat-gateway");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Duration::from_secs(300))
            .max_lifetime(Duration::from_secs(1800))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Query(format!("migrating the PostgreSQL schema: {e}")))?;
        let replica = uuid::Uuid::now_v7().to_string();
        replicas::beat(&pool, &replica).await?;
        replicas::fail_abandoned_turns(&pool, replicas::EXPIRY).await?;
        let alive = replicas::keep_alive(pool.clone(), replica.clone());
        Ok(Self {
            pool,
            replica: replica.into(),
            _alive: Arc::new(alive),
        })
    }

    /// The connection pool (tests use it to reach the database directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        // The heartbeat is a write: a database that answers but refuses
        // writes (read-only, disk full) is not ready.
        match tokio::time::timeout(PING_TIMEOUT, replicas::beat(&self.pool, &self.replica)).await {
            Ok(done) => done,
            Err(_) => Err(StoreError::Unavailable(format!(
                "no answer from PostgreSQL within {PING_TIMEOUT:?}"
            ))),
        }
    }

    async fn begin_turn(&self, turn: &NewTurn<'_>) -> Result<Begin, StoreError> {
        writes::begin_turn(&self.pool, turn, &self.replica).await
    }

    async fn finish_turn(&self, end: &TurnEnd<'_>) -> Result<(), StoreError> {
        writes::finish_turn(&self.pool, end).await
    }

    async fn claim_sync_round(
        &self,
        round: i64,
    ) -> Result<Option<Box<dyn super::SyncLease>>, StoreError> {
        sync_rounds::claim(&self.pool, round, &self.replica).await
    }

    async fn list_conversations(
        &self,
        owner: &Identity,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let rows: Vec<ConversationRow> = match page.before {
            None => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE system_id = $1 AND user_id = $2
                     ORDER BY updated_at DESC, id DESC LIMIT $3",
                )
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
            Some(before) => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE system_id = $1 AND user_id = $2
                       AND (updated_at, id) < (SELECT updated_at, id FROM conversations
                                               WHERE id = $3 AND system_id = $1 AND user_id = $2)
                     ORDER BY updated_at DESC, id DESC LIMIT $4",
                )
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .bind(before)
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn search_conversations(
        &self,
        filter: ConversationFilter<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let rows: Vec<ConversationRow> = sqlx::query_as(
            "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
             FROM conversations
             WHERE ($1::text IS NULL OR system_id = $1)
               AND ($2::text IS NULL OR user_id = $2)
               AND ($3::timestamptz IS NULL OR created_at >= $3)
               AND ($4::timestamptz IS NULL OR created_at < $4)
               AND ($5::text IS NULL
                    OR (created_at, id) < (SELECT created_at, id FROM conversations WHERE id = $5))
             ORDER BY created_at DESC, id DESC LIMIT $6",
        )
        .bind(filter.system_id)
        .bind(filter.user_id)
        .bind(filter.from.map(stored))
        .bind(filter.to.map(stored))
        .bind(filter.before)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_conversation(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let row: Option<ConversationRow> = match scope {
            Scope::Owner(owner) => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE id = $1 AND system_id = $2 AND user_id = $3",
                )
                .bind(id)
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .fetch_optional(&self.pool)
                .await?
            }
            Scope::Any => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        Ok(row.map(Into::into))
    }

    async fn list_messages(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
        if self
            .get_conversation(scope, conversation_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let rows: Vec<MessageRow> = match page.before {
            None => {
                sqlx::query_as(
                    "SELECT * FROM (
                         SELECT seq, id, conversation_id, role, content, status, upstream_message_id, created_at
                         FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2
                     ) AS page ORDER BY seq ASC",
                )
                .bind(conversation_id)
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
            Some(before) => {
                sqlx::query_as(
                    "SELECT * FROM (
                         SELECT seq, id, conversation_id, role, content, status, upstream_message_id, created_at
                         FROM messages WHERE conversation_id = $1
                           AND seq < (SELECT seq FROM messages WHERE id = $2 AND conversation_id = $1)
                         ORDER BY seq DESC LIMIT $3
                     ) AS page ORDER BY seq ASC",
                )
                .bind(conversation_id)
                .bind(before)
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(Some(rows.into_iter().map(Into::into).collect()))
    }

    async fn rename_conversation(
        &self,
        owner: &Identity,
        id: &str,
        title: &str,
        at: OffsetDateTime,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let row: Option<ConversationRow> = sqlx::query_as(
            "UPDATE conversations SET title = $1, updated_at = $2
             WHERE id = $3 AND system_id = $4 AND user_id = $5
             RETURNING id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at",
        )
        .bind(title)
        .bind(stored(at))
        .bind(id)
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn delete_conversation(&self, owner: &Identity, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM conversations WHERE id = $1 AND system_id = $2 AND user_id = $3",
        )
        .bind(id)
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_visit(&self, who: &Identity, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO visitors (system_id, user_id, first_seen_at, last_seen_at)
             VALUES ($1, $2, $3, $3)
             ON CONFLICT (system_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(who.system.as_str())
        .bind(who.user.as_str())
        .bind(stored(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sync_targets(&self) -> Result<Vec<Identity>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT system_id, user_id FROM visitors
             UNION SELECT system_id, user_id FROM conversations
             ORDER BY 1, 2",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, u)| Identity::parse(&s, &u).ok())
            .collect())
    }

    async fn import_conversation(
        &self,
        owner: &Identity,
        conversation: &ImportedConversation,
        messages: &[ImportedTurn],
        at: OffsetDateTime,
    ) -> Result<ImportCounts, StoreError> {
        writes::import_conversation(&self.pool, owner, conversation, messages, at).await
    }

    async fn record_upstream_ids(&self, ids: &UpstreamIds<'_>) -> Result<(), StoreError> {
        turns::record_upstream_ids(&self.pool, ids).await
    }

    async fn upstream_claim(
        &self,
        conversation_id: &str,
        user_message_id: &str,
    ) -> Result<UpstreamClaim, StoreError> {
        turns::upstream_claim(&self.pool, conversation_id, user_message_id).await
    }

    async fn set_feedback(
        &self,
        change: &FeedbackChange<'_>,
    ) -> Result<FeedbackOutcome, StoreError> {
        let change = FeedbackChange {
            comment: change.comment.filter(|_| change.rating.is_some()),
            ..*change
        };
        feedback::set(&self.pool, &change).await
    }

    async fn conversation_feedback(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, FeedbackRecord)>, StoreError> {
        feedback::of_conversation(&self.pool, conversation_id).await
    }

    async fn message_feedback(
        &self,
        message_id: &str,
    ) -> Result<Option<FeedbackRecord>, StoreError> {
        feedback::of_message(&self.pool, message_id).await
    }

    async fn revoke_token_id(
        &self,
        jti: &str,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError> {
        limits::revoke_token_id(&self.pool, jti, now, keep_until).await
    }

    async fn revoke_user_tokens(
        &self,
        who: &Identity,
        issued_before: i64,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError> {
        limits::revoke_user_tokens(&self.pool, who, issued_before, now, keep_until).await
    }

    async fn revocations(&self, now: i64) -> Result<RevocationList, StoreError> {
        limits::revocations(&self.pool, now).await
    }

    async fn add_token_usage(
        &self,
        who: &Identity,
        day: time::Date,
        tokens: u64,
    ) -> Result<(), StoreError> {
        let tokens = i64::try_from(tokens).unwrap_or(i64::MAX);
        limits::add_token_usage(&self.pool, who, day, tokens).await
    }

    async fn token_usage(&self, who: &Identity, day: time::Date) -> Result<TokenUsage, StoreError> {
        limits::token_usage(&self.pool, who, day).await
    }

    async fn catalog_version(&self) -> Result<i64, StoreError> {
        catalog::version(&self.pool).await
    }

    async fn load_catalog(&self) -> Result<CatalogRecords, StoreError> {
        catalog::load(&self.pool).await
    }

    async fn put_system(
        &self,
        system: &SystemRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        catalog::put_system(&self.pool, system, mode).await
    }

    async fn delete_system(&self, id: &str) -> Result<CatalogWrite, StoreError> {
        catalog::delete_system(&self.pool, id).await
    }

    async fn put_agent(
        &self,
        agent: &AgentRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        catalog::put_agent(&self.pool, agent, mode).await
    }

    async fn delete_agent(&self, system_id: &str, id: &str) -> Result<CatalogWrite, StoreError> {
        catalog::delete_agent(&self.pool, system_id, id).await
    }

    async fn console_conversations(
        &self,
        filter: &ConsoleFilter,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConsoleConversation>, StoreError> {
        console::conversations(&self.pool, filter, page.limit, page.before, None).await
    }

    async fn console_conversation(
        &self,
        filter: &ConsoleFilter,
        id: &str,
    ) -> Result<Option<ConsoleConversation>, StoreError> {
        console::conversations(&self.pool, filter, 1, None, Some(id))
            .await
            .map(|found| found.into_iter().next())
    }

    async fn console_count(&self, filter: &ConsoleFilter) -> Result<u64, StoreError> {
        console::count(&self.pool, filter).await
    }

    async fn console_messages(
        &self,
        conversation_ids: &[String],
    ) -> Result<Vec<ConsoleMessage>, StoreError> {
        console::messages(&self.pool, conversation_ids).await
    }

    async fn daily_usage(&self, filter: &ConsoleFilter) -> Result<Vec<DailyUsage>, StoreError> {
        console::daily_usage(&self.pool, filter).await
    }

    async fn purge_inactive(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<Option<super::housekeeping::Purged>, StoreError> {
        housekeeping::purge_inactive(&self.pool, cutoff, &self.replica).await
    }

    async fn retention_runs(
        &self,
        limit: u32,
    ) -> Result<Vec<super::housekeeping::RetentionRun>, StoreError> {
        housekeeping::retention_runs(&self.pool, limit).await
    }

    async fn sync_rounds(
        &self,
        limit: u32,
    ) -> Result<Vec<super::housekeeping::SyncRoundRecord>, StoreError> {
        housekeeping::sync_rounds(&self.pool, limit).await
    }

    async fn save_partial(
        &self,
        partial: &super::live::PartialAnswer<'_>,
    ) -> Result<(), StoreError> {
        live::save(&self.pool, partial).await
    }

    async fn drop_partial(&self, message_id: &str) -> Result<(), StoreError> {
        live::drop_partial(&self.pool, message_id).await
    }

    async fn answer_progress(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        message_id: &str,
    ) -> Result<Option<super::live::AnswerProgress>, StoreError> {
        live::progress(&self.pool, scope, conversation_id, message_id).await
    }

    async fn claim_idempotency_key(
        &self,
        claim: &crate::store::idempotency::KeyClaim<'_>,
    ) -> Result<crate::store::idempotency::Claim, StoreError> {
        idempotency::claim(&self.pool, claim, &self.replica).await
    }

    async fn finish_idempotency_key(
        &self,
        key: &crate::store::idempotency::KeyRef<'_>,
        outcome: &crate::store::idempotency::KeyOutcome<'_>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        idempotency::finish(&self.pool, key, outcome, at, &self.replica).await
    }

    async fn release_idempotency_key(
        &self,
        key: &crate::store::idempotency::KeyRef<'_>,
    ) -> Result<(), StoreError> {
        idempotency::release(&self.pool, key, &self.replica).await
    }
}

#[cfg(test)]
mod tests;
