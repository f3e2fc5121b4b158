//! Feeding the search index in the background.
//!
//! A new message only queues its `seq` in `messages_to_index` (migration
//! 0016); this thread moves the queue into the FTS5 trigram index in
//! batches of at most [`BATCH`] messages, each one write on the store's
//! writer. Search answers from the index and scans the queued messages
//! directly (see `console`), so nothing waits for this thread to be found.
//!
//! Batches are small so a turn's commit never waits long behind one; while
//! a batch comes back full the next follows at once, otherwise the thread
//! sleeps for [`TICK`].

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;
use tokio::runtime::Handle;

use super::writer::Writer;
use crate::store::StoreError;

/// How often the queue is looked at when it was last found short.
const TICK: Duration = Duration::from_millis(100);
/// Most messages indexed by one write.
pub(super) const BATCH: i64 = 128;

/// Keeps the indexing thread running; dropping it stops the thread.
pub(super) struct Indexer {
    _stop: Sender<()>,
}

impl Indexer {
    /// Start indexing what `writer` queues. The writer's jobs may need the
    /// runtime behind `runtime` (they run on its blocking threads under load).
    pub(super) fn start(writer: Writer, runtime: Handle) -> Result<Self, StoreError> {
        let (stop, stopped) = mpsc::channel::<()>();
        thread::Builder::new()
            .name("sqlite-search-index".into())
            .spawn(move || {
                let mut wait = Duration::ZERO;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    let indexed = runtime.block_on(writer.write(|conn| index_queued(conn, BATCH)));
                    wait = match indexed {
                        Ok(n) if n >= BATCH => Duration::ZERO,
                        Ok(_) => TICK,
                        Err(e) => {
                            tracing::warn!(error = %e, "indexing messages for search failed");
                            TICK
                        }
                    };
                }
            })
            .map_err(|e| StoreError::Unavailable(format!("starting the search indexer: {e}")))?;
        Ok(Self { _stop: stop })
    }
}

/// Index up to `limit` queued messages, oldest first, and take them off the
/// queue; how many were indexed.
pub(super) fn index_queued(conn: &Connection, limit: i64) -> Result<i64, StoreError> {
    let indexed = conn
        .prepare_cached(
            "INSERT INTO messages_fts (rowid, content)
             SELECT m.seq, m.content FROM messages_to_index q JOIN messages m ON m.seq = q.seq
             ORDER BY q.seq LIMIT ?1",
        )?
        .execute([limit])?;
    conn.prepare_cached(
        "DELETE FROM messages_to_index
         WHERE seq IN (SELECT seq FROM messages_to_index ORDER BY seq LIMIT ?1)",
    )?
    .execute([limit])?;
    Ok(i64::try_from(indexed).unwrap_or(i64::MAX))
}
