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
//!   ids, [`TurnStore::finish_turn`](super::TurnStore::finish_turn) and
//!   [`SyncStore::import_conversation`](super::SyncStore::import_conversation), first
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
mod conversations;
mod feedback;
mod housekeeping;
mod idempotency;
mod live;
mod operators;
pub(crate) mod probe;
mod replicas;
mod revocation;
mod sync;
mod turns;
mod usage;
mod writes;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use time::OffsetDateTime;

use super::{Store, StoreError, from_millis, to_millis};

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
}

#[cfg(test)]
mod tests;
