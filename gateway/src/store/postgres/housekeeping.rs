//! Housekeeping records on PostgreSQL: the retention purge (one replica at
//! a time) with its record, and the reads of purges and sync rounds (see
//! `store::housekeeping`; rounds are claimed in `sync_rounds.rs`).

use async_trait::async_trait;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;

use super::{PgStore, stored};
use crate::store::StoreError;
use crate::store::housekeeping::{
    HousekeepingStore, KEEP, Purged, RetentionRun, SyncRoundRecord, count,
};

/// The retention purge's advisory lock: one replica purges at a time.
const PURGE_LOCK: &str = "tz-chat/retention";

/// One replica at a time: the purge holds a transaction-scoped advisory
/// lock; a replica that cannot take it at once skips this round. The
/// messages are counted in the same transaction, before the cascade
/// deletes them.
pub(super) async fn purge_inactive(
    pool: &PgPool,
    cutoff: OffsetDateTime,
    replica: &str,
) -> Result<Option<Purged>, StoreError> {
    let mut tx = pool.begin().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(PURGE_LOCK)
            .fetch_one(&mut *tx)
            .await?;
    if !locked {
        return Ok(None);
    }
    let cutoff = stored(cutoff);
    let messages: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE c.updated_at < $1",
    )
    .bind(cutoff)
    .fetch_one(&mut *tx)
    .await?;
    let done = sqlx::query("DELETE FROM conversations WHERE updated_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
    let purged = Purged {
        conversations: done.rows_affected(),
        messages: u64::try_from(messages).unwrap_or(0),
    };
    sqlx::query(
        "INSERT INTO retention_runs (replica, ran_at, cutoff, conversations, messages)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(replica)
    .bind(stored(OffsetDateTime::now_utc()))
    .bind(cutoff)
    .bind(i64::try_from(purged.conversations).unwrap_or(i64::MAX))
    .bind(messages)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM retention_runs WHERE id <= (SELECT MAX(id) FROM retention_runs) - $1")
        .bind(KEEP)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(purged))
}

pub(super) async fn retention_runs(
    pool: &PgPool,
    limit: u32,
) -> Result<Vec<RetentionRun>, StoreError> {
    let rows = sqlx::query(
        "SELECT replica, ran_at, cutoff, conversations, messages FROM retention_runs
         ORDER BY id DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(RetentionRun {
                replica: row.try_get(0)?,
                ran_at: row.try_get(1)?,
                cutoff: row.try_get(2)?,
                purged: Purged {
                    conversations: count(row.try_get(3)?).unwrap_or(0),
                    messages: count(row.try_get(4)?).unwrap_or(0),
                },
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

pub(super) async fn sync_rounds(
    pool: &PgPool,
    limit: u32,
) -> Result<Vec<SyncRoundRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT round, replica, started_at, finished_at, conversations, messages, errors
         FROM sync_rounds ORDER BY round DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SyncRoundRecord {
                round: row.try_get(0)?,
                replica: row.try_get(1)?,
                started_at: row.try_get(2)?,
                finished_at: row.try_get(3)?,
                conversations: count(row.try_get(4)?),
                messages: count(row.try_get(5)?),
                errors: count(row.try_get(6)?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

#[async_trait]
impl HousekeepingStore for PgStore {
    async fn purge_inactive(&self, cutoff: OffsetDateTime) -> Result<Option<Purged>, StoreError> {
        purge_inactive(&self.pool, cutoff, &self.replica).await
    }

    async fn retention_runs(&self, limit: u32) -> Result<Vec<RetentionRun>, StoreError> {
        retention_runs(&self.pool, limit).await
    }

    async fn sync_rounds(&self, limit: u32) -> Result<Vec<SyncRoundRecord>, StoreError> {
        sync_rounds(&self.pool, limit).await
    }
}
