//! The background sync (`CHAT_GATEWAY_SYNC_EVERY`): every interval, one
//! round of [`super::run`] over every user.
//!
//! Rounds are numbered by time: round `n` covers `[n × every, (n + 1) ×
//! every)` since the Unix epoch, and each process wakes at the start of
//! each round. Of several replicas, the one that claims the round in the
//! store runs it ([`crate::store::SyncStore::claim_sync_round`]: a PostgreSQL
//! advisory lock held for the run, plus a row per round, so a replica whose
//! timer fires late does not run the same round again). SQLite is one
//! process, which keeps its own rounds apart.

use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use super::SyncStatus;
use crate::store::Store;
use crate::upstream::Upstreams;

/// What became of one round in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundOutcome {
    /// This process ran it.
    Ran,
    /// Another process is running a round, or already ran this one.
    Skipped,
    /// It could not start or could not read the store (logged).
    Failed,
}

/// The round `at` falls in.
pub fn round_at(at: OffsetDateTime, every: Duration) -> i64 {
    let every_ms = i128::try_from(every.as_millis().max(1)).unwrap_or(i128::MAX);
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms.div_euclid(every_ms)).unwrap_or(i64::MAX)
}

/// How long from `now` until the next round starts.
fn until_next_round(now: OffsetDateTime, every: Duration) -> Duration {
    let every_ms = every.as_millis().max(1);
    let ms = u128::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    let into = ms % every_ms;
    Duration::from_millis(u64::try_from(every_ms - into).unwrap_or(u64::MAX))
}

/// Call `round` with each round's number, every `every`, until `stop` is
/// cancelled (the caller runs [`run_round`] in it). The first round is the
/// next one to start, not one at start-up (a restarting fleet would
/// otherwise sync on every deploy).
pub async fn run_every<F, Fut>(every: Duration, stop: CancellationToken, mut round_of: F)
where
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = RoundOutcome>,
{
    tracing::info!(every = %humantime::format_duration(every), "scheduled sync on");
    loop {
        let wait = until_next_round(OffsetDateTime::now_utc(), every);
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        // A few milliseconds into the round, so the round number is the
        // one that just began even when the timer fires early.
        let round = round_at(OffsetDateTime::now_utc() + Duration::from_millis(5), every);
        tokio::select! {
            () = stop.cancelled() => return,
            _ = round_of(round) => {}
        }
    }
}

/// Run round `round` here unless another process claims it first; what it
/// did is recorded in `status`.
pub async fn run_round(
    store: &dyn Store,
    upstreams: &Upstreams,
    status: &SyncStatus,
    round: i64,
) -> RoundOutcome {
    let Some(_running) = status.try_run() else {
        status.update(|s| s.rounds_skipped += 1);
        return RoundOutcome::Skipped;
    };
    let lease = match store.claim_sync_round(round).await {
        Ok(Some(lease)) => lease,
        Ok(None) => {
            tracing::debug!(round, "sync round left to another replica");
            status.update(|s| s.rounds_skipped += 1);
            return RoundOutcome::Skipped;
        }
        Err(e) => {
            tracing::warn!(round, error = %e, "scheduled sync could not start");
            status.update(|s| s.rounds_failed += 1);
            return RoundOutcome::Failed;
        }
    };
    let started_at = OffsetDateTime::now_utc();
    let clock = Instant::now();
    let report = super::run(store, upstreams, &[], &mut |_, _| {}).await;
    let took = clock.elapsed();
    match report {
        Ok(report) => {
            for (who, e) in &report.errors {
                tracing::warn!(user = %who, error = %e, "scheduled sync: one user failed");
            }
            tracing::info!(
                round,
                users = report.users,
                conversations = report.imported.conversations,
                messages = report.imported.messages,
                errors = report.errors.len(),
                took_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
                "scheduled sync round done"
            );
            let errors = u64::try_from(report.errors.len()).unwrap_or(u64::MAX);
            status.update(|s| {
                s.last_started = Some(started_at);
                s.last_duration = Some(took);
                s.last_users = u64::try_from(report.users).unwrap_or(u64::MAX);
                s.last_conversations = report.imported.conversations;
                s.last_messages = report.imported.messages;
                s.last_errors = errors;
                s.rounds_run += 1;
                s.total_conversations += report.imported.conversations;
                s.total_messages += report.imported.messages;
            });
            if let Err(e) = lease.finish(report.imported, errors).await {
                tracing::warn!(round, error = %e, "scheduled sync: recording the round failed");
            }
            RoundOutcome::Ran
        }
        Err(e) => {
            tracing::warn!(round, error = %e, "scheduled sync round failed");
            status.update(|s| s.rounds_failed += 1);
            drop(lease);
            RoundOutcome::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn rounds_are_slots_of_the_interval_since_the_epoch() {
        let every = Duration::from_secs(15 * 60);
        // 1970-01-01 00:14:59.999 is in round 0, 00:15:00 starts round 1.
        assert_eq!(round_at(datetime!(1970-01-01 00:14:59.999 UTC), every), 0);
        assert_eq!(round_at(datetime!(1970-01-01 00:15:00 UTC), every), 1);
        assert_eq!(round_at(datetime!(1970-01-02 00:00:00 UTC), every), 96);
        assert_eq!(
            until_next_round(datetime!(2026-01-01 10:07:30 UTC), every),
            Duration::from_secs(7 * 60 + 30)
        );
        assert_eq!(
            until_next_round(datetime!(2026-01-01 10:15:00 UTC), every),
            every,
            "at a round's start, the next one is a whole interval away"
        );
    }
}
