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
    // An idle gateway looks every tick: a read, and nothing written.
    let queued: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM messages_to_index)")?
        .query_row([], |r| r.get(0))?;
    if !queued {
        return Ok(0);
    }
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

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use super::super::tests::{temp_store, temp_store_indexing, turn};
    use super::{BATCH, index_queued};
    use crate::identity::Identity;
    use crate::store::*;

    /// Conversations holding every word of `q`, as the console finds them.
    async fn found(store: &SqliteStore, q: &str) -> Vec<String> {
        use crate::store::console::{ConsoleFilter, ConsoleStore, SearchWords};
        let filter = ConsoleFilter {
            words: SearchWords::parse(q),
            ..ConsoleFilter::default()
        };
        let page = PageRequest {
            limit: 10,
            before: None,
        };
        let listed = store.console_conversations(&filter, page).await.unwrap();
        listed.into_iter().map(|c| c.record.id).collect()
    }

    /// Messages waiting for the search index, and whether FTS5 finds its index
    /// in step with `messages` (its own `integrity-check`).
    async fn search_index_state(store: &SqliteStore) -> (i64, bool) {
        store
            .writer
            .write(|conn| {
                let queued =
                    conn.query_row("SELECT COUNT(*) FROM messages_to_index", [], |r| r.get(0))?;
                let sound = conn
                    .execute(
                        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
                        [],
                    )
                    .is_ok();
                Ok((queued, sound))
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn search_finds_messages_before_and_after_they_are_indexed() {
        use crate::store::console::ConsoleStore;
        // The test moves the queue into the index itself, so each way of
        // finding a message is tried on its own.
        let (store, _dir) = temp_store_indexing(false).await;
        let owner = Identity::parse("s", "u").unwrap();
        let (first, second) = (
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
        );
        for (conversation, words) in [(&first, "quick brown fox"), (&second, "lazy dog")] {
            let message = uuid::Uuid::now_v7().to_string();
            let mut t = turn(&owner, conversation, &message);
            t.content = words;
            assert!(matches!(
                store.begin_turn(&t).await.unwrap(),
                Begin::Started(_)
            ));
        }
        // Not indexed yet, both are found.
        assert_eq!(store.search_backlog().await.unwrap(), 2);
        assert_eq!(found(&store, "brown").await, [first.as_str()]);
        assert_eq!(found(&store, "LAZY dog").await, [second.as_str()]);

        // Once indexed, they are found the same way, from the index.
        let indexed = store
            .writer
            .write(|conn| index_queued(conn, BATCH))
            .await
            .unwrap();
        assert_eq!(indexed, 2);
        assert_eq!(search_index_state(&store).await, (0, true));
        assert_eq!(store.search_backlog().await.unwrap(), 0);
        assert_eq!(found(&store, "brown").await, [first.as_str()]);
        assert_eq!(found(&store, "LAZY dog").await, [second.as_str()]);

        // Edits and deletes of indexed messages keep the index in step.
        store
            .writer
            .write(|conn| {
                conn.execute(
                    "UPDATE messages SET content = 'slow grey turtle' WHERE content = 'quick brown fox'",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(found(&store, "brown").await.is_empty());
        assert_eq!(found(&store, "turtle").await, [first.as_str()]);
        assert!(store.delete_conversation(&owner, &second).await.unwrap());
        assert!(found(&store, "lazy").await.is_empty());

        // A message deleted while still queued leaves the queue, not the index.
        let (third, message) = (
            uuid::Uuid::now_v7().to_string(),
            uuid::Uuid::now_v7().to_string(),
        );
        let mut t = turn(&owner, &third, &message);
        t.content = "queued then gone";
        store.begin_turn(&t).await.unwrap();
        assert_eq!(store.search_backlog().await.unwrap(), 1);
        assert!(store.delete_conversation(&owner, &third).await.unwrap());
        assert!(found(&store, "gone").await.is_empty());
        assert_eq!(search_index_state(&store).await, (0, true));
    }

    #[tokio::test]
    async fn the_background_indexer_empties_the_queue() {
        use crate::store::console::ConsoleStore;
        let (store, _dir) = temp_store().await;
        let owner = Identity::parse("s", "u").unwrap();
        for i in 0..(BATCH + 5) {
            let (conversation, message) = (format!("c{i}"), format!("m{i}"));
            store
                .begin_turn(&turn(&owner, &conversation, &message))
                .await
                .unwrap();
        }
        let limit = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while store.search_backlog().await.unwrap() > 0 {
            assert!(std::time::Instant::now() < limit, "the queue never emptied");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(search_index_state(&store).await, (0, true));
        assert_eq!(
            found(&store, "ordinary length").await.len(),
            10,
            "a page of them"
        );
    }
}
