//! WAL checkpoints on a thread of their own, in small steps.
//!
//! SQLite normally checkpoints inside whichever commit pushes the WAL past a
//! threshold, so every few hundred turns one unlucky request waits for pages
//! to be copied and files to be synced. Here the writer never checkpoints
//! (`wal_autocheckpoint=0`). This thread runs `PASSIVE` checkpoints, which
//! copy the WAL into the database without blocking the writer or readers.
//!
//! Each checkpoint's `fsync`s still stall the writer (on ext4, a sync
//! commits the filesystem journal, and the writer's WAL appends wait for
//! it), and how long depends on how much was copied. So:
//! - every [`TICK`] a passive checkpoint copies what is new, keeping each
//!   sync small (a few MB at 2,000 requests/s);
//! - when the WAL holds more than [`RESET_ABOVE`], the thread repeats passive
//!   passes until one finds little new, then asks the writer to reset the WAL
//!   (a `RESTART` checkpoint it runs between two batches — see `writer` —
//!   copying the few frames written in between). Under continuous writes a
//!   passive checkpoint alone would never let the WAL start over, and it
//!   would grow without bound.
//!
//! BENCHMARKS.md records what was tried (one large checkpoint per reset,
//! resets on every tick) and what each did to the tail latency.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;

use super::writer::Writer;
use crate::store::StoreError;

/// How often new WAL frames are copied into the database.
const TICK: Duration = Duration::from_millis(100);
/// WAL content (frames × page size) above which the WAL is reset.
const RESET_ABOVE: i64 = 64 * 1024 * 1024;
/// The writer's `journal_size_limit`: after a reset, its first commit cuts
/// the WAL *file* back to this size. A reset WAL is written again from the
/// start but its file keeps its length (an earlier version that judged the
/// WAL by its file size reset it on every tick once it had reached 64 MB).
pub(super) const WAL_FILE_LIMIT: i64 = RESET_ABOVE;
/// Frames a checkpoint may leave for the writer's `RESTART` to copy.
const LEFT_BEHIND: i64 = 256;
/// Most `PASSIVE` passes of one checkpoint.
const MAX_PASSES: usize = 8;

/// Keeps the checkpoint thread running; dropping it stops the thread.
pub(super) struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    /// Start checkpointing the database at `path`, written by `writer`.
    pub(super) fn start(path: &Path, writer: Writer) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let (stop, stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    let log = match passive(&conn) {
                        Ok((log, _)) => log,
                        Err(e) => {
                            tracing::warn!(error = %e, "WAL checkpoint failed");
                            continue;
                        }
                    };
                    if log.saturating_mul(page_size) < RESET_ABOVE {
                        continue;
                    }
                    if let Err(e) = catch_up(&conn, log) {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                        continue;
                    }
                    writer.request_wal_restart();
                }
                // Fold the WAL into the database file on the way out.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            })
            .map_err(|e| StoreError::Unavailable(format!("starting the checkpoint thread: {e}")))?;
        Ok(Self { _stop: stop })
    }
}

/// Repeat `PASSIVE` checkpoints until a pass finds at most [`LEFT_BEHIND`]
/// new frames (or [`MAX_PASSES`] times), starting from `before` frames
/// already copied. The writer's `RESTART` then only has a few frames to
/// copy while requests wait.
fn catch_up(conn: &Connection, mut before: i64) -> rusqlite::Result<()> {
    for _ in 0..MAX_PASSES {
        let (log, copied) = passive(conn)?;
        if log - before <= LEFT_BEHIND || copied < log {
            break;
        }
        before = log;
    }
    Ok(())
}

/// One `PASSIVE` checkpoint: (frames in the WAL, frames copied), which are
/// equal unless a reader still needs old frames.
fn passive(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(1)?, r.get(2)?))
    })
}
