use std::sync::Arc;

use super::*;
use crate::identity::Identity;
use crate::store::*;

pub(super) async fn temp_store() -> (SqliteStore, tempfile::TempDir) {
    temp_store_indexing(true).await
}

/// A store in a fresh file; `index_search`: with the background indexer.
pub(super) async fn temp_store_indexing(index_search: bool) -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = SqliteStore::open_with(&url, index_search).await.unwrap();
    (store, dir)
}

#[tokio::test]
async fn contract_on_a_file() {
    let (store, _dir) = temp_store().await;
    crate::store::contract::run(&store).await;
}

#[tokio::test]
async fn contract_with_every_message_still_queued_for_the_search_index() {
    let (store, _dir) = temp_store_indexing(false).await;
    crate::store::contract::run(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_turns_lose_nothing() {
    let (store, _dir) = temp_store().await;
    crate::store::contract::concurrent_turns(Arc::new(store)).await;
}

#[tokio::test]
async fn contract_in_memory() {
    let store = SqliteStore::open("sqlite::memory:").await.unwrap();
    crate::store::contract::run(&store).await;
}

#[tokio::test]
async fn contract_with_fsync_on_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?synchronous=full",
        dir.path().join("store.db").display()
    );
    let store = SqliteStore::open(&url).await.unwrap();
    crate::store::contract::run(&store).await;
}

#[tokio::test]
async fn reopening_keeps_data_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let owner = Identity::parse("s", "u").unwrap();
    {
        let store = SqliteStore::open(&url).await.unwrap();
        store
            .record_visit(&owner, OffsetDateTime::now_utc())
            .await
            .unwrap();
    }
    let again = SqliteStore::open(&url).await.unwrap();
    assert_eq!(again.sync_targets().await.unwrap(), vec![owner]);
}

#[tokio::test]
async fn a_turn_cut_by_a_crash_is_failed_on_reopening_and_retry_reuses_it() {
    use crate::store::contract::crashes;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let open = {
        let store = SqliteStore::open(&url).await.unwrap();
        let open = crashes::leave_open(&store).await;
        crashes::assert_still_open(&store, &open).await;
        open
    };
    let reopened = SqliteStore::open(&url).await.unwrap();
    crashes::assert_failed_and_retried(&reopened, &open).await;
}

#[tokio::test]
async fn an_idempotency_key_left_running_by_a_stopped_process_is_taken_over() {
    use crate::store::contract::idempotency;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let held = {
        let store = SqliteStore::open(&url).await.unwrap();
        idempotency::hold_key(&store).await
    };
    let reopened = SqliteStore::open(&url).await.unwrap();
    idempotency::assert_taken_over(&reopened, held).await;
}

#[test]
fn urls() {
    let loc = Location::parse("sqlite://chat_gateway.db").unwrap();
    assert_eq!(
        loc.file.as_deref(),
        Some(std::path::Path::new("chat_gateway.db"))
    );
    assert!(!loc.synchronous_full);
    assert!(
        Location::parse("sqlite:/var/lib/x.db?synchronous=full")
            .unwrap()
            .synchronous_full
    );
    assert_eq!(Location::parse("sqlite::memory:").unwrap().file, None);
    assert!(
        Location::parse("sqlite://x.db?cache=shared").is_err(),
        "unknown parameters are refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_job_does_not_undo_the_others_in_its_batch() {
    let (store, _dir) = temp_store().await;
    let owner = Identity::parse("batch", "u").unwrap();
    // Many writes at once end up in shared transactions; the duplicate ids
    // fail on their own, and every other write is kept.
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        let owner = owner.clone();
        tasks.push(tokio::spawn(async move {
            let id = if i % 10 == 0 {
                "duplicate".to_owned()
            } else {
                format!("c{i}")
            };
            store
                .begin_turn(&NewTurn {
                    owner: &owner,
                    conversation_id: None,
                    new_conversation_id: &id,
                    title: "t",
                    message_id: &format!("m{i}"),
                    content: "x",
                    retry_of: None,
                    agent: None,
                    at: OffsetDateTime::now_utc(),
                })
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(
        ok, 181,
        "180 distinct conversations and the first 'duplicate'"
    );
    let all = store
        .list_conversations(
            &owner,
            PageRequest {
                limit: 1000,
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 181);
}

pub(super) fn turn<'a>(owner: &'a Identity, id: &'a str, message_id: &'a str) -> NewTurn<'a> {
    NewTurn {
        owner,
        conversation_id: None,
        new_conversation_id: id,
        title: "t",
        message_id,
        content: "a question of ordinary length for a chat",
        retry_of: None,
        agent: None,
        at: OffsetDateTime::now_utc(),
    }
}

/// Wait (yielding, without a deadline on speed) until `ready` holds.
async fn until(mut ready: impl FnMut() -> bool) {
    let limit = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ready() {
        assert!(std::time::Instant::now() < limit, "never happened");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_queued_behind_a_busy_writer_share_one_commit_and_none_is_lost() {
    // Only this test's writes: no batches of the search indexer among them.
    let (store, _dir) = temp_store_indexing(false).await;
    let owner = Identity::parse("batch", "queued").unwrap();
    // A first write holds the connection until the test lets it go, so
    // every later write queues behind it, whatever the machine's speed.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let writer = store.writer.clone();
    let runtime = tokio::runtime::Handle::current();
    let first = tokio::task::spawn_blocking(move || {
        runtime.block_on(writer.write(move |_| {
            let _ = held.recv();
            Ok(())
        }))
    });
    until(|| store.writer.batches() == 1).await;

    const QUEUED: usize = 100;
    let mut tasks = Vec::new();
    for i in 0..QUEUED {
        let (store, owner) = (store.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let (id, message) = (format!("c{i}"), format!("m{i}"));
            store.begin_turn(&turn(&owner, &id, &message)).await
        }));
    }
    until(|| store.writer.queued() == QUEUED).await;
    release.send(()).unwrap();
    first.await.unwrap().unwrap();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        store.writer.batches(),
        2,
        "the held write, then everything queued behind it in one transaction"
    );
    let all = store
        .list_conversations(
            &owner,
            PageRequest {
                limit: 1000,
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), QUEUED, "every queued write was committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_resets_the_wal_when_asked() {
    let (store, dir) = temp_store().await;
    let owner = Identity::parse("wal", "u").unwrap();
    // The WAL's length in frames. A checkpoint that finds the database busy
    // (the store's own checkpoint thread at work) reports -1: ask again.
    let frames = || {
        let conn = rusqlite::Connection::open(dir.path().join("store.db")).unwrap();
        for _ in 0..500 {
            let (busy, frames) = conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })
                .unwrap();
            if busy == 0 && frames >= 0 {
                return frames;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the database stayed busy");
    };
    for i in 0..200 {
        let (id, message) = (format!("c{i}"), format!("m{i}"));
        store
            .begin_turn(&turn(&owner, &id, &message))
            .await
            .unwrap();
    }
    let before = frames();
    assert!(before > 200, "{before} frames");
    // The checkpoint thread asks for this once the WAL passes 64 MB; the
    // reset runs between two batches, and the WAL then starts over.
    store.writer.request_wal_restart();
    store
        .begin_turn(&turn(&owner, "after1", "ma1"))
        .await
        .unwrap();
    store
        .begin_turn(&turn(&owner, "after2", "ma2"))
        .await
        .unwrap();
    let after = frames();
    assert!(
        after < before / 10,
        "{before} frames before the reset, {after} after"
    );
    let all = store
        .list_conversations(
            &owner,
            PageRequest {
                limit: 1000,
                before: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 202);
}

#[tokio::test]
async fn synchronous_full_in_the_url_reaches_the_writers_connection() {
    for (query, want) in [
        ("", 1),
        ("?synchronous=full", 2),
        ("?synchronous=normal", 1),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}{query}", dir.path().join("store.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        // PRAGMA synchronous: 1 = NORMAL, 2 = FULL.
        let level: i64 = store
            .writer
            .write(|conn| Ok(conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(level, want, "{url}");
    }
}
