//! WAL checkpoints on a thread of their own.
//!
//! SQLite normally checkpoints inside whichever commit pushes the WAL past a
//! threshold, so every few hundred turns one unlucky request waits for pages
//! to be copied and the database file to be synced (milliseconds). Here the
//! writer never checkpoints (`wal_autocheckpoint=0`); every [`INTERVAL`] this
//! thread runs a `PASSIVE` checkpoint, which copies the WAL into the database
//! without blocking the writer or readers.
//!
//! Under continuous writes that alone would let the WAL grow without bound:
//! it only starts over from its beginning when a checkpoint completes with no
//! commit in between. So when the WAL file passes [`RESTART_ABOVE`], a
//! `RESTART` checkpoint follows the passive one: it copies the few frames
//! written meanwhile and resets the WAL, holding the writer off for well
//! under a millisecond (measured in BENCHMARKS.md).

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;

use crate::store::StoreError;

/// How often the WAL is checkpointed.
const INTERVAL: Duration = Duration::from_millis(200);
/// WAL size above which a checkpoint also resets the WAL.
const RESTART_ABOVE: u64 = 8 * 1024 * 1024;

/// Keeps the checkpoint thread running; dropping it stops the thread.
pub(super) struct Checkpointer {
    _stop: Sender<()>,
}

impl Checkpointer {
    /// Start checkpointing the database at `path`.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let wal = std::path::PathBuf::from(wal);
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                        continue;
                    }
                    let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
                    if size > RESTART_ABOVE
                        && let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(RESTART)")
                    {
                        tracing::warn!(error = %e, "WAL restart failed");
                    }
                }
                // Fold the WAL into the database file on the way out.
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            })
            .map_err(|e| StoreError::Unavailable(format!("starting the checkpoint thread: {e}")))?;
        Ok(Self { _stop: stop })
    }
}
