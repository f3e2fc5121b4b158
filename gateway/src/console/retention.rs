//! The retention purge: conversations with no activity for longer than
//! `CHAT_GATEWAY_RETENTION_DAYS` are deleted, at start-up and then every
//! [`EVERY`]. On PostgreSQL one replica purges at a time (an advisory lock);
//! the others skip that round. The store records each run for the
//! console's status page.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// How often the purge runs.
pub const EVERY: Duration = Duration::from_secs(3600);

/// Purge once: conversations inactive for longer than `keep`.
pub async fn purge_once(store: &dyn Store, keep: time::Duration) {
    let cutoff = OffsetDateTime::now_utc() - keep;
    match store.purge_inactive(cutoff).await {
        Ok(Some(purged)) => tracing::info!(
            deleted = purged.conversations,
            messages = purged.messages,
            retention_days = keep.whole_days(),
            "retention: purged inactive conversations"
        ),
        Ok(None) => tracing::debug!("retention: another replica is purging"),
        Err(e) => tracing::warn!(error = %e, "retention: the purge failed; retrying next round"),
    }
}

/// Purge every [`EVERY`] until `stop`.
pub async fn run(store: Arc<dyn Store>, keep: time::Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => purge_once(&*store, keep).await,
        }
    }
}
