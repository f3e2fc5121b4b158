//! The record of background housekeeping, for the console's status page:
//! each retention purge (written by
//! [`HousekeepingStore::purge_inactive`] in the purge's own
//! transaction) and each scheduled sync round (the `sync_rounds` row its
//! lease writes).
//!
//! Only the latest [`KEEP`] purges are kept.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;

/// How many purge runs a store keeps.
pub const KEEP: i64 = 1000;

/// What one purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub conversations: u64,
    /// Their messages (deleted with them).
    pub messages: u64,
}

/// One recorded purge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRun {
    /// The process (replica) that ran it.
    pub replica: String,
    pub ran_at: OffsetDateTime,
    /// Conversations inactive since before this were deleted.
    pub cutoff: OffsetDateTime,
    pub purged: Purged,
}

/// One scheduled sync round as recorded by the replica that ran it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRoundRecord {
    /// The round's slot number since the Unix epoch (see `crate::sync`).
    pub round: i64,
    pub replica: String,
    pub started_at: OffsetDateTime,
    /// `None` while it runs, or when it stopped without finishing.
    pub finished_at: Option<OffsetDateTime>,
    /// Conversations created or renamed (with `finished_at`).
    pub conversations: Option<u64>,
    /// Messages imported (with `finished_at`).
    pub messages: Option<u64>,
    /// Users whose upstream failed (with `finished_at`).
    pub errors: Option<u64>,
}

/// A stored count as a count (never negative in the tables).
pub(crate) fn count(n: Option<i64>) -> Option<u64> {
    n.and_then(|n| u64::try_from(n).ok())
}

/// The retention purge and the records of housekeeping runs shown on the
/// console. See the module docs.
#[async_trait]
pub trait HousekeepingStore: Send + Sync {
    /// Delete the conversations (and their messages) with no activity since
    /// `cutoff`, and record the run. `Ok(None)` when another replica is
    /// purging right now.
    async fn purge_inactive(&self, cutoff: OffsetDateTime) -> Result<Option<Purged>, StoreError>;

    /// The latest `limit` retention purges, newest first.
    async fn retention_runs(&self, limit: u32) -> Result<Vec<RetentionRun>, StoreError>;

    /// The latest `limit` scheduled sync rounds, newest first.
    async fn sync_rounds(&self, limit: u32) -> Result<Vec<SyncRoundRecord>, StoreError>;
}
