//! Scheduled sync rounds: which gateway process runs a round of the
//! background sync (see `crate::sync`).

use async_trait::async_trait;

use super::{ImportCounts, StoreError};

/// The right to run one sync round, held for the whole run. Dropping it
/// without [`finish`](SyncLease::finish) (a panic, a cancelled task) still
/// lets other processes run later rounds.
#[async_trait]
pub trait SyncLease: Send {
    /// Record what the round did and give up the right.
    async fn finish(self: Box<Self>, counts: ImportCounts, errors: u64) -> Result<(), StoreError>;
}
