//! The scheduled sync with two replicas on one PostgreSQL: each round runs
//! on one of them. The replicas are in-process gateways (each its own
//! connection pool, so the advisory lock really is contended) whose rounds
//! the test starts, and each talks to a fake Dify of its own, so the
//! imported titles tell which replica ran.

use std::time::Duration;

use gateway::App;
use gateway::identity::Identity;
use gateway::state::AppState;
use gateway::store::{ImportCounts, PageRequest};
use gateway::sync::schedule::RoundOutcome;
use testkit::fake_dify::{FakeDify, FakeOptions};
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway, Upstream};
use time::OffsetDateTime;

const DIFY_KEY: &str = "app-sync-rounds";

async fn replica(postgres: &ThrowawayPostgres) -> (App, FakeDify) {
    let fake = FakeDify::new(FakeOptions {
        api_key: DIFY_KEY.into(),
        ..FakeOptions::default()
    });
    let url = fake.spawn().await.unwrap();
    let app = TestGateway::builder()
        .upstream(Upstream::None)
        .database(Database::Url(postgres.url()))
        .env("DIFY_BASE_URL", url)
        .env("DIFY_API_KEY", DIFY_KEY)
        .app()
        .await
        .unwrap();
    (app, fake)
}

/// Round `round` on the replica whose state is `state`, as its timer would
/// start it.
async fn run_round(state: &AppState, round: i64) -> RoundOutcome {
    gateway::sync::schedule::run_round(
        state.store.as_ref(),
        &state.catalog.routes(),
        &state.sync,
        round,
    )
    .await
}

async fn titles(app: &App, who: &Identity) -> Vec<String> {
    let mut titles: Vec<String> = app
        .state()
        .store
        .list_conversations(
            who,
            PageRequest {
                limit: 50,
                before: None,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    titles.sort();
    titles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_one_replica_runs_a_sync_round() {
    let postgres = ThrowawayPostgres::start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (a, fake_a) = replica(&postgres).await;
    let (b, fake_b) = replica(&postgres).await;
    let who = Identity::parse("shop", "ada").unwrap();
    a.state()
        .store
        .record_visit(&who, OffsetDateTime::now_utc())
        .await
        .unwrap();
    fake_a.add_conversation(&who.upstream_user(), "seen by A", &[("q", "a")]);
    fake_b.add_conversation(&who.upstream_user(), "seen by B", &[("q", "a")]);

    // Both wake for round 7 at once.
    let (ran_a, ran_b) = tokio::join!(run_round(a.state(), 7), run_round(b.state(), 7));
    let mut outcomes = [ran_a, ran_b];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [RoundOutcome::Ran, RoundOutcome::Skipped]);
    let (winner, loser, seen) = if ran_a == RoundOutcome::Ran {
        (&a, &b, "seen by A")
    } else {
        (&b, &a, "seen by B")
    };
    assert_eq!(
        titles(winner, &who).await,
        [seen],
        "only the winner imported"
    );

    // A replica whose timer fires late does not run the same round again.
    assert_eq!(run_round(loser.state(), 7).await, RoundOutcome::Skipped);
    assert_eq!(titles(winner, &who).await, [seen]);
    assert_eq!(loser.state().sync.snapshot().rounds_run, 0);
    assert_eq!(winner.state().sync.snapshot().rounds_run, 1);
    assert_eq!(winner.state().sync.snapshot().last_conversations, 1);

    // The next round is anyone's.
    assert_eq!(run_round(loser.state(), 8).await, RoundOutcome::Ran);
    assert_eq!(titles(winner, &who).await, ["seen by A", "seen by B"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_replica_starts_a_round_while_another_runs_one() {
    let postgres = ThrowawayPostgres::start()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let (a, _fake_a) = replica(&postgres).await;
    let (b, _fake_b) = replica(&postgres).await;

    // A is running round 20 (slow upstream): B's timer fires for round 21.
    let lease = a.state().store.claim_sync_round(20).await.unwrap().unwrap();
    assert_eq!(run_round(b.state(), 21).await, RoundOutcome::Skipped);
    lease.finish(ImportCounts::default(), 0).await.unwrap();
    assert_eq!(run_round(b.state(), 21).await, RoundOutcome::Ran);

    // A run that dies without finishing (a panic, a cancelled task) frees
    // the lock when its connection closes.
    let lease = a.state().store.claim_sync_round(30).await.unwrap().unwrap();
    drop(lease);
    let mut outcome = RoundOutcome::Skipped;
    for round in 31..31 + 100 {
        outcome = run_round(b.state(), round).await;
        if outcome == RoundOutcome::Ran {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(outcome, RoundOutcome::Ran, "the lock was never released");
}
