//! Housekeeping records on SQLite: retention purges and scheduled sync
//! rounds (see `store::housekeeping`). One process uses the database, so
//! the writer's order is the only lock needed.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::writer::Writer;
use crate::store::housekeeping::{KEEP, Purged, RetentionRun, SyncRoundRecord, count};
use crate::store::{ImportCounts, StoreError, SyncLease, from_millis};

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

/// On the writer: `true` when `round` had not run yet and is now claimed.
pub(super) fn claim(
    conn: &Connection,
    round: i64,
    replica: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM sync_rounds WHERE round = ?1")?
        .query_row(params![round], |_| Ok(()))
        .optional()?
        .is_some();
    if exists {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO sync_rounds (round, replica, started_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![round, replica, now])?;
    Ok(true)
}

/// The right to run a claimed round; finishing records what it did.
pub(super) struct LiteLease {
    pub(super) writer: Writer,
    pub(super) round: i64,
}

#[async_trait]
impl SyncLease for LiteLease {
    async fn finish(self: Box<Self>, counts: ImportCounts, errors: u64) -> Result<(), StoreError> {
        let round = self.round;
        let now = crate::store::to_millis(time::OffsetDateTime::now_utc());
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "UPDATE sync_rounds SET finished_at = ?2, conversations = ?3, messages = ?4,
                         errors = ?5 WHERE round = ?1",
                )?
                .execute(params![
                    round,
                    now,
                    i64::try_from(counts.conversations).unwrap_or(i64::MAX),
                    i64::try_from(counts.messages).unwrap_or(i64::MAX),
                    i64::try_from(errors).unwrap_or(i64::MAX),
                ])?;
                Ok(())
            })
            .await
    }
}
