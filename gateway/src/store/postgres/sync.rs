//! [`SyncStore`] on PostgreSQL: whom to sync, the import of upstream
//! history (matched to the turns the gateway stored itself), and the
//! scheduled rounds.
//!
//! A round takes a session advisory lock held on one pooled
//! connection for the whole run, plus a row per round (`sync_rounds`), so
//! one replica runs a round and a replica whose timer fires late does not
//! run the same round again.

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnection;
use sqlx::{PgPool, Postgres};
use time::OffsetDateTime;

use super::{PgStore, stored, writes};
use crate::identity::Identity;
use crate::store::{
    ImportCounts, ImportedConversation, ImportedTurn, StoreError, SyncLease, SyncStore,
};

/// The advisory lock key of the sync (any constant that no other lock of
/// this database uses; the owner locks in `writes.rs` hash text instead).
const SYNC_LOCK_KEY: i64 = 0x0074_7a5f_7379_6e63; // "tz_sync" in ASCII

/// The lease: the connection holding the lock, and the round it claimed.
struct PgLease {
    conn: Option<PoolConnection<Postgres>>,
    round: i64,
}

/// Claim `round` for `replica`: `None` when another replica holds the lock
/// (a run is under way) or already ran this round.
pub(super) async fn claim(
    pool: &PgPool,
    round: i64,
    replica: &str,
) -> Result<Option<Box<dyn SyncLease>>, StoreError> {
    let mut conn = pool.acquire().await?;
    let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(SYNC_LOCK_KEY)
        .fetch_one(&mut *conn)
        .await?;
    if !locked {
        return Ok(None);
    }
    let mut lease = PgLease {
        conn: Some(conn),
        round,
    };
    let Some(conn) = lease.conn.as_mut() else {
        return Ok(None);
    };
    let inserted = sqlx::query(
        "INSERT INTO sync_rounds (round, replica, started_at) VALUES ($1, $2, $3)
         ON CONFLICT (round) DO NOTHING",
    )
    .bind(round)
    .bind(replica)
    .bind(OffsetDateTime::now_utc())
    .execute(&mut **conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        lease.unlock().await?;
        return Ok(None);
    }
    Ok(Some(Box::new(lease)))
}

impl PgLease {
    async fn unlock(&mut self) -> Result<(), StoreError> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(SYNC_LOCK_KEY)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl SyncLease for PgLease {
    async fn finish(
        mut self: Box<Self>,
        counts: ImportCounts,
        errors: u64,
    ) -> Result<(), StoreError> {
        if let Some(conn) = self.conn.as_mut() {
            sqlx::query(
                "UPDATE sync_rounds SET finished_at = $2, conversations = $3, messages = $4, errors = $5
                 WHERE round = $1",
            )
            .bind(self.round)
            .bind(OffsetDateTime::now_utc())
            .bind(i64::try_from(counts.conversations).unwrap_or(i64::MAX))
            .bind(i64::try_from(counts.messages).unwrap_or(i64::MAX))
            .bind(i64::try_from(errors).unwrap_or(i64::MAX))
            .execute(&mut **conn)
            .await?;
        }
        self.unlock().await
    }
}

impl Drop for PgLease {
    fn drop(&mut self) {
        // Not finished (the run panicked or was cancelled): the session lock
        // would go back to the pool with the connection. Closing the
        // connection ends the session, which releases the lock.
        if let Some(mut conn) = self.conn.take() {
            conn.close_on_drop();
        }
    }
}

/// See [`crate::store::SyncStore::import_conversation`].
pub(super) async fn import_conversation(
    pool: &PgPool,
    owner: &Identity,
    conversation: &ImportedConversation,
    messages: &[ImportedTurn],
    at: OffsetDateTime,
) -> Result<ImportCounts, StoreError> {
    let system = owner.system.as_str();
    let user = owner.user.as_str();
    let created_at = stored(conversation.created_at.unwrap_or(at));
    let mut counts = ImportCounts::default();
    let mut tx = pool.begin().await?;
    writes::lock_owner(&mut tx, owner).await?;
    if let Some(first) = messages.first() {
        adopt_conversation(&mut tx, (system, user), &conversation.id, first).await?;
    }
    let inserted = sqlx::query(
        "INSERT INTO conversations
             (id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (system_id, user_id, upstream_conversation_id)
             WHERE upstream_conversation_id IS NOT NULL DO NOTHING",
    )
    .bind(new_id())
    .bind(system)
    .bind(user)
    .bind(&conversation.id)
    .bind(&conversation.name)
    .bind(created_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let (conversation_id, title): (String, String) = sqlx::query_as(
        "SELECT id, title FROM conversations
         WHERE system_id = $1 AND user_id = $2 AND upstream_conversation_id = $3
         FOR UPDATE",
    )
    .bind(system)
    .bind(user)
    .bind(&conversation.id)
    .fetch_one(&mut *tx)
    .await?;
    if inserted > 0 {
        counts.conversations = 1;
    } else if !conversation.name.is_empty() && conversation.name != title {
        sqlx::query("UPDATE conversations SET title = $1 WHERE id = $2")
            .bind(&conversation.name)
            .bind(&conversation_id)
            .execute(&mut *tx)
            .await?;
        counts.conversations = 1;
    }
    let mut last = created_at;
    for turn in messages {
        let when = turn.created_at.map(stored).unwrap_or(last);
        last = last.max(when);
        counts.messages += import_turn(&mut tx, &conversation_id, turn, when).await?;
    }
    if counts.messages > 0 {
        sqlx::query("UPDATE conversations SET updated_at = GREATEST(updated_at, $1) WHERE id = $2")
            .bind(last)
            .bind(&conversation_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(counts)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
/// See the SQLite twin, `sqlite/sync.rs`.
pub(super) async fn adopt_conversation(
    conn: &mut PgConnection,
    (system, user): (&str, &str),
    upstream_id: &str,
    first: &ImportedTurn,
) -> Result<(), StoreError> {
    let Some(query) = &first.query else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE conversations SET upstream_conversation_id = $3
         WHERE id = (
             SELECT c.id FROM conversations c
             WHERE c.system_id = $1 AND c.user_id = $2 AND c.upstream_conversation_id IS NULL
               AND EXISTS (SELECT 1 FROM messages m
                   WHERE m.seq = (SELECT MIN(f.seq) FROM messages f
                                  WHERE f.conversation_id = c.id AND f.role = 'user')
                     AND m.content = $4 AND m.open_by IS NULL
                     AND (m.upstream_message_id IS NULL OR m.upstream_message_id = $5))
             ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM conversations o
               WHERE o.system_id = $1 AND o.user_id = $2 AND o.upstream_conversation_id = $3)",
    )
    .bind(system)
    .bind(user)
    .bind(upstream_id)
    .bind(query)
    .bind(&first.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// See the SQLite twin, `sqlite/sync.rs`.
pub(super) async fn import_turn(
    conn: &mut PgConnection,
    conversation_id: &str,
    turn: &ImportedTurn,
    when: OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut added = 0;
    let mut question: Option<i64> = None;
    if let Some(query) = &turn.query {
        let known: Option<(i64, bool)> = sqlx::query_as(
            "UPDATE messages
             SET status = CASE WHEN open_by IS NULL THEN 'complete' ELSE status END
             WHERE conversation_id = $1 AND role = 'user' AND upstream_message_id = $2
             RETURNING seq, open_by IS NOT NULL",
        )
        .bind(conversation_id)
        .bind(&turn.id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((_, true)) = known {
            // Still answering: the live turn stores its answer itself.
            return Ok(added);
        }
        question = known.map(|(seq, _)| seq);
        if question.is_none() {
            question = sqlx::query_scalar(
                "UPDATE messages SET upstream_message_id = $2, status = 'complete'
                 WHERE seq = (SELECT seq FROM messages
                     WHERE conversation_id = $1 AND role = 'user'
                       AND upstream_message_id IS NULL AND content = $3
                           AND open_by IS NULL
                     ORDER BY seq LIMIT 1)
                 RETURNING seq",
            )
            .bind(conversation_id)
            .bind(&turn.id)
            .bind(query)
            .fetch_optional(&mut *conn)
            .await?;
        }
        if question.is_none() {
            added += insert(conn, conversation_id, "user", query, &turn.id, when).await?;
        }
    }
    let Some(answer) = &turn.answer else {
        return Ok(added);
    };
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM messages
             WHERE conversation_id = $1 AND role = 'assistant' AND upstream_message_id = $2)",
    )
    .bind(conversation_id)
    .bind(&turn.id)
    .fetch_one(&mut *conn)
    .await?;
    if known {
        return Ok(added);
    }
    if let Some(seq) = question {
        let completed = sqlx::query(
            "UPDATE messages SET upstream_message_id = $2, content = $3, status = 'complete'
             WHERE seq = (SELECT seq FROM messages
                 WHERE conversation_id = $1 AND seq > $4 ORDER BY seq LIMIT 1)
               AND role = 'assistant' AND upstream_message_id IS NULL",
        )
        .bind(conversation_id)
        .bind(&turn.id)
        .bind(answer)
        .bind(seq)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if completed > 0 {
            return Ok(added);
        }
    }
    added += insert(conn, conversation_id, "assistant", answer, &turn.id, when).await?;
    Ok(added)
}

async fn insert(
    conn: &mut PgConnection,
    conversation_id: &str,
    role: &str,
    text: &str,
    upstream_id: &str,
    when: OffsetDateTime,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO messages
             (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'complete', $5, $6, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(conversation_id)
    .bind(role)
    .bind(text)
    .bind(upstream_id)
    .bind(when)
    .execute(conn)
    .await?
    .rows_affected())
}

#[async_trait]
impl SyncStore for PgStore {
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
        import_conversation(&self.pool, owner, conversation, messages, at).await
    }

    async fn claim_sync_round(&self, round: i64) -> Result<Option<Box<dyn SyncLease>>, StoreError> {
        claim(&self.pool, round, &self.replica).await
    }
}
