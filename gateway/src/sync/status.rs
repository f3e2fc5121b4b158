//! The last scheduled sync run, for whoever reports on it (the console,
//! `/metrics`): read [`SyncStatus::snapshot`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

/// What the scheduled sync did in this process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// When the last round this process ran started.
    pub last_started: Option<OffsetDateTime>,
    /// How long it took.
    pub last_duration: Option<Duration>,
    /// Users it looked at.
    pub last_users: u64,
    /// Conversations it created or renamed.
    pub last_conversations: u64,
    /// Messages it created.
    pub last_messages: u64,
    /// Users whose upstream failed in it.
    pub last_errors: u64,
    /// Rounds this process ran since it started.
    pub rounds_run: u64,
    /// Rounds it left to another replica (or that had already run).
    pub rounds_skipped: u64,
    /// Rounds that failed as a whole (the store could not be read).
    pub rounds_failed: u64,
    /// Totals over every round this process ran.
    pub total_conversations: u64,
    /// Totals over every round this process ran.
    pub total_messages: u64,
}

/// Shared, cheaply cloned record of the scheduled sync; also keeps two runs
/// of one process from overlapping.
#[derive(Debug, Clone, Default)]
pub struct SyncStatus {
    stats: Arc<Mutex<SyncStats>>,
    running: Arc<tokio::sync::Mutex<()>>,
}

impl SyncStatus {
    /// The figures as they are now.
    pub fn snapshot(&self) -> SyncStats {
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn update(&self, change: impl FnOnce(&mut SyncStats)) {
        change(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Held while this process runs a round.
    pub(super) fn try_run(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        self.running.clone().try_lock_owned().ok()
    }
}
