use std::sync::Arc;

use super::*;

async fn temp_store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    (SqliteStore::open(&url).await.unwrap(), dir)
}

#[tokio::test]
async fn contract_on_a_file() {
    let (store, _dir) = temp_store().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_small_under_sustained_writes() {
    let (store, dir) = temp_store().await;
    let wal = dir.path().join("store.db-wal");
    let owner = Identity::parse("wal", "u").unwrap();
    let started = std::time::Instant::now();
    let mut largest = 0;
    let mut turns = 0;
    // Write without pause for three seconds, from several tasks at once.
    while started.elapsed() < std::time::Duration::from_secs(3) {
        let mut batch = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            let owner = owner.clone();
            batch.push(tokio::spawn(async move {
                let id = uuid::Uuid::now_v7().to_string();
                store
                    .begin_turn(&NewTurn {
                        owner: &owner,
                        conversation_id: None,
                        new_conversation_id: &id,
                        title: "t",
                        message_id: &uuid::Uuid::now_v7().to_string(),
                        content: "a question of ordinary length for a chat",
                        retry_of: None,
                        agent: None,
                        at: OffsetDateTime::now_utc(),
                    })
                    .await
                    .unwrap();
            }));
        }
        for t in batch {
            t.await.unwrap();
        }
        turns += 16;
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    // Never checkpointed, this many turns write over a gigabyte of WAL; reset
    // at 64 MB, it stays near that whatever the number of turns.
    assert!(
        turns > 10_000,
        "the test must write enough to matter ({turns} turns)"
    );
    assert!(
        largest < 128 * 1024 * 1024,
        "{turns} turns grew the WAL to {largest} bytes"
    );
}
