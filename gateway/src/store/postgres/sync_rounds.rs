//! Sync rounds on PostgreSQL: a session advisory lock held on one pooled
//! connection for the whole run, plus a row per round (`sync_rounds`), so
//! one replica runs a round and a replica whose timer fires late does not
//! run the same round again.

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use time::OffsetDateTime;

use super::super::sync_rounds::SyncLease;
use super::super::{ImportCounts, StoreError};

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
