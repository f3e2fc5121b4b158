//! The store contract on a real PostgreSQL server, plus what only a shared
//! database has: replicas migrating at once and connection loss.

use std::sync::Arc;

use super::*;
use crate::identity::Identity;
use crate::store::*;
use testkit::postgres::ThrowawayPostgres;

async fn server_and_store() -> (ThrowawayPostgres, PgStore) {
    let server = ThrowawayPostgres::start().await.unwrap();
    let store = PgStore::open(&server.url()).await.unwrap();
    (server, store)
}

#[tokio::test]
async fn contract() {
    let (_server, store) = server_and_store().await;
    crate::store::contract::run(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_lose_and_duplicate_nothing() {
    let (_server, store) = server_and_store().await;
    crate::store::contract::concurrent_turns(Arc::new(store)).await;
}

#[tokio::test]
async fn open_picks_postgres_for_both_url_schemes() {
    let server = ThrowawayPostgres::start().await.unwrap();
    let url = server.url();
    let owner = Identity::parse("scheme", "u").unwrap();
    let first = crate::store::open(&url).await.unwrap();
    first
        .record_visit(&owner, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let alias = url.replacen("postgres://", "postgresql://", 1);
    let second = crate::store::open(&alias).await.unwrap();
    assert_eq!(second.sync_targets().await.unwrap(), vec![owner]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    let server = ThrowawayPostgres::start().await.unwrap();
    let url = server.url();
    let opened = futures::future::join_all((0..4).map(|_| PgStore::open(&url))).await;
    let stores: Vec<PgStore> = opened.into_iter().map(Result::unwrap).collect();
    let (applied,): (i64,) = sqlx::query_as("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(stores[0].pool())
        .await
        .unwrap();
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(usize::try_from(applied).unwrap(), files);

    // Reopening keeps the data.
    let owner = Identity::parse("s", "u").unwrap();
    stores[1]
        .record_visit(&owner, OffsetDateTime::now_utc())
        .await
        .unwrap();
    drop(stores);
    let again = PgStore::open(&url).await.unwrap();
    assert_eq!(again.sync_targets().await.unwrap(), vec![owner]);
}

#[tokio::test]
async fn timestamps_are_timestamptz_in_utc() {
    let (_server, store) = server_and_store().await;
    let owner = Identity::parse("tz", "u").unwrap();
    // 2027-01-15 09:30:00.123456789 +09:00, i.e. 00:30:00.123 UTC.
    let local = time::macros::datetime!(2027-01-15 09:30:00.123456789 +09:00);
    store.record_visit(&owner, local).await.unwrap();
    let (column_type, as_text): (String, String) = sqlx::query_as(
        "SELECT pg_typeof(last_seen_at)::text, to_char(last_seen_at AT TIME ZONE 'UTC',
                'YYYY-MM-DD HH24:MI:SS.US')
         FROM visitors",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(column_type, "timestamp with time zone");
    assert_eq!(
        as_text, "2027-01-15 00:30:00.123000",
        "the instant, to the millisecond"
    );
}

#[tokio::test]
async fn a_lost_connection_is_unavailable_not_a_query_error() {
    let (_server, store) = server_and_store().await;
    let killed = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(store.pool())
        .await
        .unwrap_err();
    assert!(
        matches!(StoreError::from(killed), StoreError::Unavailable(_)),
        "a terminated session maps to 503"
    );
    // The pool replaces the connection: the store keeps working.
    store.ping().await.unwrap();
}

#[tokio::test]
async fn a_stopped_server_makes_ping_unavailable() {
    let (mut server, store) = server_and_store().await;
    store.ping().await.unwrap();
    server.stop();
    let err = store.ping().await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
}

#[tokio::test]
async fn turns_of_a_stopped_replica_are_failed_and_a_live_ones_are_not() {
    use crate::store::contract::crashes;
    let (server, first) = server_and_store().await;
    let open = crashes::leave_open(&first).await;
    // A replica starting while the first one is alive leaves its turn alone.
    let second = PgStore::open(&server.url()).await.unwrap();
    crashes::assert_still_open(&second, &open).await;
    // The first replica dies: its heartbeat stops and grows old.
    let dead = first.replica.to_string();
    drop(first);
    sqlx::query("UPDATE gateway_replicas SET seen_at = now() - interval '1 hour' WHERE id = $1")
        .bind(&dead)
        .execute(second.pool())
        .await
        .unwrap();
    // The second replica's own heartbeat is fresh; only the dead one's turn
    // is failed, by the next replica to start (or the next sweep).
    let third = PgStore::open(&server.url()).await.unwrap();
    crashes::assert_failed_and_retried(&third, &open).await;
    let live: Vec<(String,)> = sqlx::query_as("SELECT id FROM gateway_replicas ORDER BY id")
        .fetch_all(third.pool())
        .await
        .unwrap();
    let mut expected = vec![(second.replica.to_string(),), (third.replica.to_string(),)];
    expected.sort();
    assert_eq!(live, expected, "the dead replica is forgotten");
}

#[tokio::test]
async fn an_idempotency_key_of_a_stopped_replica_is_taken_over_and_a_live_ones_is_not() {
    use crate::store::contract::idempotency;
    let (server, first) = server_and_store().await;
    let held = idempotency::hold_key(&first).await;
    let second = PgStore::open(&server.url()).await.unwrap();
    idempotency::assert_still_held(&second, held).await;
    let dead = first.replica.to_string();
    drop(first);
    sqlx::query("UPDATE gateway_replicas SET seen_at = now() - interval '1 hour' WHERE id = $1")
        .bind(&dead)
        .execute(second.pool())
        .await
        .unwrap();
    idempotency::assert_taken_over(&second, held).await;
}

#[tokio::test]
async fn a_read_only_database_makes_ping_unavailable() {
    let (_server, store) = server_and_store().await;
    store.ping().await.unwrap();
    sqlx::query(
        "DO $$ BEGIN EXECUTE format(
             'ALTER DATABASE %I SET default_transaction_read_only = on', current_database());
         END $$",
    )
    .execute(store.pool())
    .await
    .unwrap();
    // Sessions pick the setting up when they start: end the pooled ones.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(store.pool())
    .await
    .unwrap();
    // The probe writes, so it fails, as "unavailable" (503), not as a
    // query error (500).
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        let outcome = store.ping().await;
        let done = matches!(&outcome, Err(StoreError::Unavailable(e)) if e.contains("read-only"));
        outcomes.push(format!("{outcome:?}"));
        if done {
            break;
        }
    }
    assert!(
        outcomes
            .last()
            .is_some_and(|o| o.starts_with("Err(Unavailable") && o.contains("read-only")),
        "{outcomes:?}"
    );
    // Reads still work.
    let owner = Identity::parse("s", "u").unwrap();
    assert!(
        store
            .list_conversations(
                &owner,
                crate::store::PageRequest {
                    limit: 10,
                    before: None
                }
            )
            .await
            .is_ok()
    );
}
