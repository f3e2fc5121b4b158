//! Housekeeping on SQLite: the retention purge and the records of purges
//! and scheduled sync rounds (see `store::housekeeping`; rounds are claimed
//! in `sync.rs`). One process uses the database, so
//! the writer's order is the only lock needed.

use async_trait::async_trait;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::store::housekeeping::{
    HousekeepingStore, KEEP, Purged, RetentionRun, SyncRoundRecord, count,
};
use crate::store::{StoreError, from_millis, to_millis};

/// On the writer: delete what is inactive since `cutoff` (milliseconds)
/// and record the run.
pub(super) fn purge_inactive(
    conn: &Connection,
    cutoff: i64,
    replica: &str,
    now: i64,
) -> Result<Purged, StoreError> {
    let messages: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE c.updated_at < ?1",
        )?
        .query_row(params![cutoff], |row| row.get(0))?;
    let conversations = conn
        .prepare_cached("DELETE FROM conversations WHERE updated_at < ?1")?
        .execute(params![cutoff])?;
    let purged = Purged {
        conversations: conversations as u64,
        messages: u64::try_from(messages).unwrap_or(0),
    };
    conn.prepare_cached(
        "INSERT INTO retention_runs (replica, ran_at, cutoff, conversations, messages)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        replica,
        now,
        cutoff,
        i64::try_from(purged.conversations).unwrap_or(i64::MAX),
        i64::try_from(purged.messages).unwrap_or(i64::MAX),
    ])?;
    conn.prepare_cached(
        "DELETE FROM retention_runs WHERE id <= (SELECT MAX(id) FROM retention_runs) - ?1",
    )?
    .execute(params![KEEP])?;
    Ok(purged)
}

pub(super) fn retention_runs(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<RetentionRun>, StoreError> {
    let runs = conn
        .prepare_cached(
            "SELECT replica, ran_at, cutoff, conversations, messages FROM retention_runs
             ORDER BY id DESC LIMIT ?1",
        )?
        .query_map(params![limit], |row| {
            Ok(RetentionRun {
                replica: row.get(0)?,
                ran_at: from_millis(row.get(1)?),
                cutoff: from_millis(row.get(2)?),
                purged: Purged {
                    conversations: count(row.get(3)?).unwrap_or(0),
                    messages: count(row.get(4)?).unwrap_or(0),
                },
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(runs)
}

pub(super) fn sync_rounds(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<SyncRoundRecord>, StoreError> {
    let rounds = conn
        .prepare_cached(
            "SELECT round, replica, started_at, finished_at, conversations, messages, errors
             FROM sync_rounds ORDER BY round DESC LIMIT ?1",
        )?
        .query_map(params![limit], |row| {
            Ok(SyncRoundRecord {
                round: row.get(0)?,
                replica: row.get(1)?,
                started_at: from_millis(row.get(2)?),
                finished_at: row.get::<_, Option<i64>>(3)?.map(from_millis),
                conversations: count(row.get(4)?),
                messages: count(row.get(5)?),
                errors: count(row.get(6)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rounds)
}

#[async_trait]
impl HousekeepingStore for SqliteStore {
    async fn purge_inactive(&self, cutoff: OffsetDateTime) -> Result<Option<Purged>, StoreError> {
        // SQLite serves one process, so no other purge can run.
        let cutoff = to_millis(cutoff);
        let replica = self.process.clone();
        let now = to_millis(OffsetDateTime::now_utc());
        self.writer
            .write(move |conn| purge_inactive(conn, cutoff, &replica, now))
            .await
            .map(Some)
    }

    async fn retention_runs(&self, limit: u32) -> Result<Vec<RetentionRun>, StoreError> {
        self.readers
            .read(move |conn| retention_runs(conn, limit))
            .await
    }

    async fn sync_rounds(&self, limit: u32) -> Result<Vec<SyncRoundRecord>, StoreError> {
        self.readers
            .read(move |conn| sync_rounds(conn, limit))
            .await
    }
}
