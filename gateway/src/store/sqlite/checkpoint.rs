//! WAL checkpoints on a thread of their own, as rarely as is safe.
//!
//! SQLite normally checkpoints inside whichever commit pushes the WAL past a
//! threshold, so every few hundred turns one unlucky request waits for pages
//! to be copied and files to be synced. Here the writer never checkpoints
//! (`wal_autocheckpoint=0`). This thread runs `PASSIVE` checkpoints, which
//! copy the WAL into the database without blocking the writer or readers.
//!
//! Each checkpoint's `fsync` still costs the writer a stall of a few
//! milliseconds (the filesystem commits its journal), so their *number* is
//! what reaches the tail latency: checkpointing every 200 ms gave a write p99
//! of 2.8 ms at 2,000 requests/s, every 2 s gave 0.5 ms (BENCHMARKS.md). So:
//! - when the WAL passes [`RESET_ABOVE`], a passive checkpoint copies it and
//!   the writer is asked to reset the WAL (a `RESTART` checkpoint it runs
//!   between two batches — see `writer` — copying the few frames written in
//!   between). Under continuous writes a passive checkpoint alone would never
//!   let the WAL start over, and it would grow without bound;
//! - otherwise a passive checkpoint runs at most every [`QUIET_EVERY`], so an
//!   idle gateway's WAL is folded into the database soon after the traffic.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::writer::Writer;
use crate::store::StoreError;

/// How often the WAL's size is looked at.
const TICK: Duration = Duration::from_millis(100);
/// WAL size above which it is checkpointed and reset.
const RESET_ABOVE: u64 = 64 * 1024 * 1024;
/// The writer's `journal_size_limit`: after a reset, its first commit cuts
/// the WAL *file* back to this size. A reset WAL is written again from the
/// start but its file keeps its length, so without the limit the file would
/// stay above [`RESET_ABOVE`] and every tick would checkpoint and reset
/// again — which is what the benchmark caught (BENCHMARKS.md).
pub(super) const WAL_FILE_LIMIT: i64 = RESET_ABOVE as i64;
/// Frames a checkpoint may leave for the writer's `RESTART` to copy.
const LEFT_BEHIND: i64 = 256;
/// Most `PASSIVE` passes of one checkpoint.
const MAX_PASSES: usize = 8;
/// Longest time between two checkpoints while the WAL holds anything.
const QUIET_EVERY: Duration = Duration::from_secs(10);

/// Keeps the checkpoint thread running; dropping it stops the thread.
pub(super) struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    /// Start checkpointing the database at `path`, written by `writer`.
    pub(super) fn start(path: &Path, writer: Writer) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = std::path::PathBuf::from(wal);
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                let mut last = Instant::now();
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
                    let reset = size > RESET_ABOVE;
                    if !reset && (size == 0 || last.elapsed() < QUIET_EVERY) {
                        continue;
                    }
                    last = Instant::now();
                    if let Err(e) = catch_up(&conn) {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                        continue;
                    }
                    if reset {
                        writer.request_wal_restart();
                    }
                }
                // Fold the WAL into the database file on the way out.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            })
            .map_err(|e| StoreError::Unavailable(format!("starting the checkpoint thread: {e}")))?;
        Ok(Self { _stop: stop })
    }
}

/// Copy the WAL into the database with `PASSIVE` checkpoints, pass after
/// pass, until what was written meanwhile is at most [`LEFT_BEHIND`] frames
/// (or after [`MAX_PASSES`]). The writer's `RESTART` then only has those
/// frames to copy: one pass over a 64 MB WAL takes long enough for tens of
/// megabytes more to arrive under load, and copying them inside the writer
/// was the benchmark's p99 (BENCHMARKS.md).
fn catch_up(conn: &Connection) -> rusqlite::Result<()> {
    let mut before = 0;
    for _ in 0..MAX_PASSES {
        // (busy, frames in the WAL, frames copied): all of them unless a
        // reader still needs old ones.
        let (log, copied): (i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })?;
        if log - before <= LEFT_BEHIND || copied < log {
            break;
        }
        before = log;
    }
    Ok(())
}
