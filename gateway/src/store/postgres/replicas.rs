//! Turns left open by a replica that is gone.
//!
//! A user message is marked open by the replica answering it until its turn
//! finishes (`messages.open_by`). A replica killed mid-turn never finishes
//! it, so the question would stay `complete` with no answer and no Retry.
//! Every replica therefore keeps a heartbeat row in `gateway_replicas`
//! (refreshed every [`HEARTBEAT`]) and, at start-up and after each
//! heartbeat, marks `failed` the open turns of replicas not seen for
//! [`EXPIRY`].
//!
//! Why heartbeats and not the turn's age: a streamed answer has no upper
//! bound on its length (only on silences), so no age proves a turn dead,
//! while a live replica's turns must never be failed under it. A replica cut
//! off from the database for longer than [`EXPIRY`] may see its open turns
//! failed by others; when it finishes them, the real outcome overwrites
//! `failed`. Time is the database's clock, so replicas' clocks may differ.

use std::time::Duration;

use sqlx::postgres::PgPool;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::store::StoreError;

/// How often a replica says it is alive.
pub(super) const HEARTBEAT: Duration = Duration::from_secs(10);
/// A replica not seen for this long is gone; its open turns are failed.
pub(super) const EXPIRY: Duration = Duration::from_secs(60);

/// Record that `replica` is alive now.
pub(super) async fn beat(pool: &PgPool, replica: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO gateway_replicas (id, seen_at) VALUES ($1, now())
         ON CONFLICT (id) DO UPDATE SET seen_at = now()",
    )
    .bind(replica)
    .execute(pool)
    .await?;
    Ok(())
}

/// Mark `failed` the open turns of replicas not seen for `expiry`, and
/// forget those replicas. Returns how many turns were failed.
///
/// Locks only message rows of dead replicas, which no live turn writes
/// (a retry of one locks its conversation first and the message last, as
/// every writer does), so it cannot take part in a deadlock.
pub(super) async fn fail_abandoned_turns(
    pool: &PgPool,
    expiry: Duration,
) -> Result<u64, StoreError> {
    let failed = sqlx::query(
        "UPDATE messages SET status = 'failed', open_by = NULL
         WHERE open_by IS NOT NULL
           AND open_by NOT IN (SELECT id FROM gateway_replicas
                               WHERE seen_at > now() - make_interval(secs => $1))",
    )
    .bind(expiry.as_secs_f64())
    .execute(pool)
    .await?
    .rows_affected();
    // Partials of answers being streamed move every few seconds while their
    // replica lives (see `crate::chat::live`): one that stopped is a leftover.
    sqlx::query("DELETE FROM live_answers WHERE updated_at <= now() - make_interval(secs => $1)")
        .bind(expiry.as_secs_f64())
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM gateway_replicas WHERE seen_at <= now() - make_interval(secs => $1)")
        .bind(expiry.as_secs_f64())
        .execute(pool)
        .await?;
    if failed > 0 {
        tracing::warn!(
            turns = failed,
            "turns left unanswered by a stopped replica are marked failed"
        );
    }
    Ok(failed)
}

/// Beat and sweep every [`HEARTBEAT`] until the returned guard is dropped.
pub(super) fn keep_alive(pool: PgPool, replica: String) -> DropGuard {
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = stopped.cancelled() => break,
                () = tokio::time::sleep(HEARTBEAT) => {}
            }
            if let Err(e) = beat(&pool, &replica).await {
                tracing::warn!(error = %e, "could not record this replica's heartbeat");
                continue;
            }
            if let Err(e) = fail_abandoned_turns(&pool, EXPIRY).await {
                tracing::warn!(error = %e, "could not close turns of stopped replicas");
            }
        }
    });
    stop.drop_guard()
}
