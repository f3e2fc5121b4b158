//! The archive's background writer: batches queued lines by system and
//! day and uploads each batch as one object.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{ArchiveCounters, ArchivedTurn, BATCH_MAX, FLUSH_EVERY, QUEUE};

/// Longest pause between attempts after failed uploads.
const MAX_PAUSE: Duration = Duration::from_secs(300);
/// Attempts at shutdown before the remaining lines are given up (logged).
const FINAL_ATTEMPTS: u32 = 3;

/// `(system, date)` → the JSON lines waiting for that object.
type Pending = BTreeMap<(String, String), Vec<String>>;

pub(super) async fn run(
    store: Arc<dyn ObjectStore>,
    prefix: String,
    mut rx: mpsc::Receiver<ArchivedTurn>,
    stop: CancellationToken,
    counters: Arc<ArchiveCounters>,
) {
    let mut pending = Pending::new();
    let mut waiting = 0usize;
    let mut pause = FLUSH_EVERY;
    let mut next_flush = Instant::now() + pause;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            received = rx.recv() => match received {
                Some(turn) => {
                    waiting += add(&mut pending, &turn);
                    if waiting < BATCH_MAX || pause > FLUSH_EVERY {
                        continue;
                    }
                }
                None => break,
            },
            () = tokio::time::sleep_until(next_flush) => {}
        }
        if flush(store.as_ref(), &prefix, &mut pending, &counters).await {
            pause = FLUSH_EVERY;
        } else {
            // Storage is failing: wait longer before the next attempt.
            pause = (pause * 2).min(MAX_PAUSE);
        }
        waiting = pending.values().map(Vec::len).sum();
        if waiting > QUEUE {
            drop_oldest(&mut pending, waiting - QUEUE, &counters);
            waiting = QUEUE;
        }
        next_flush = Instant::now() + pause;
    }
    // Stopping: take what is still queued and upload it all.
    rx.close();
    while let Some(turn) = rx.recv().await {
        add(&mut pending, &turn);
    }
    for attempt in 1..=FINAL_ATTEMPTS {
        if flush(store.as_ref(), &prefix, &mut pending, &counters).await {
            return;
        }
        if attempt < FINAL_ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
        }
    }
    let lost: usize = pending.values().map(Vec::len).sum();
    counters
        .dropped
        .fetch_add(u64::try_from(lost).unwrap_or(u64::MAX), Ordering::Relaxed);
    tracing::error!(
        lines = lost,
        "transcript archive: storage failing at shutdown, finished turns not archived"
    );
}

/// Queue one line; the number of lines added (0 when it cannot be encoded).
fn add(pending: &mut Pending, turn: &ArchivedTurn) -> usize {
    let line = match serde_json::to_string(turn) {
        Ok(line) => line,
        Err(e) => {
            tracing::error!(error = %e, "transcript archive: a turn could not be encoded");
            return 0;
        }
    };
    let date = turn.finished_at.date().to_string();
    pending
        .entry((turn.system_id.clone(), date))
        .or_default()
        .push(line);
    1
}

/// Upload every pending batch (at most [`BATCH_MAX`] lines per object);
/// what fails stays pending. `true` when nothing failed.
async fn flush(
    store: &dyn ObjectStore,
    prefix: &str,
    pending: &mut Pending,
    counters: &ArchiveCounters,
) -> bool {
    let mut ok = true;
    let keys: Vec<(String, String)> = pending.keys().cloned().collect();
    for key in keys {
        let Some(lines) = pending.remove(&key) else {
            continue;
        };
        let mut kept = Vec::new();
        for chunk in lines.chunks(BATCH_MAX) {
            if !ok {
                kept.extend_from_slice(chunk);
                continue;
            }
            let path = object_path(prefix, &key.0, &key.1);
            let mut body = chunk.join("\n");
            body.push('\n');
            match store.put(&path, PutPayload::from(body)).await {
                Ok(_) => {
                    counters.written.fetch_add(
                        u64::try_from(chunk.len()).unwrap_or(u64::MAX),
                        Ordering::Relaxed,
                    );
                }
                Err(e) => {
                    ok = false;
                    counters.failed_uploads.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(path = %path, error = %e, "transcript archive: upload failed, will retry");
                    kept.extend_from_slice(chunk);
                }
            }
        }
        if !kept.is_empty() {
            pending.insert(key, kept);
        }
    }
    ok
}

/// `prefix/system=…/date=…/<uuid v7>.jsonl`.
fn object_path(prefix: &str, system: &str, date: &str) -> Path {
    let name = format!("system={system}/date={date}/{}.jsonl", uuid::Uuid::now_v7());
    if prefix.is_empty() {
        Path::from(name)
    } else {
        Path::from(format!("{prefix}/{name}"))
    }
}

/// Storage has been failing for long: give up the oldest lines.
fn drop_oldest(pending: &mut Pending, mut excess: usize, counters: &ArchiveCounters) {
    let dropped = excess;
    for lines in pending.values_mut() {
        let n = excess.min(lines.len());
        lines.drain(..n);
        excess -= n;
        if excess == 0 {
            break;
        }
    }
    pending.retain(|_, lines| !lines.is_empty());
    counters.dropped.fetch_add(
        u64::try_from(dropped).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    tracing::error!(
        lines = dropped,
        "transcript archive: storage failing for long, oldest finished turns dropped"
    );
}
