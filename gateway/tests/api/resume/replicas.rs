//! Resuming on another replica: two gateways sharing one PostgreSQL, and
//! the partial a killed replica leaves behind.

use reqwest::StatusCode;
use sdk::StreamEvent;
use serde_json::json;
use testkit::postgres::ThrowawayPostgres;
use testkit::{Database, TestGateway, Upstream as TestUpstream};

use super::{Events, first_words, held, open, reattach, text_of, words};
use crate::support::{API_KEY, json_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_reattaches_on_another_replica() {
    let postgres = ThrowawayPostgres::start().await.unwrap();
    let (options, gate) = held();
    let replica = |upstream: TestUpstream| {
        TestGateway::builder()
            .upstream(upstream)
            .api_key(API_KEY)
            .database(Database::Url(postgres.url()))
            .env("CHAT_GATEWAY_RESUME_GRACE_SECS", "60")
            .start()
    };
    let a = replica(TestUpstream::Dify(options)).await.unwrap();
    let b = replica(TestUpstream::Demo).await.unwrap();

    let mut first = open(a.url(), "tell me a story").await;
    let (conversation, message, last) = first_words(&mut first).await;
    drop(first);

    // B has never seen this turn: it follows A's partials in the database.
    let again = Events::of(reattach(b.url(), &conversation, &message, Some(&last)).await);
    gate.open();
    let rest = again.rest().await;
    let whole = text_of(words(4), rest.iter().map(|(_, e)| e));
    assert_eq!(whole, words(40), "the rest, once: {rest:?}");
    let Some((_, StreamEvent::End { message_id, .. })) = rest.last() else {
        panic!("no end: {rest:?}");
    };
    assert_eq!(message_id, &message);

    // Another user of the system is refused there too.
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/v1/conversations/{conversation}/messages/{message}/stream",
            b.url()
        ))
        .bearer_auth(b.token("drillquiz", "u2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_that_stops_moving_ends_as_interrupted() {
    use gateway::store::LiveStore;
    use gateway::store::live::PartialAnswer;

    let postgres = ThrowawayPostgres::start().await.unwrap();
    let gw = TestGateway::builder()
        .upstream(TestUpstream::Demo)
        .api_key(API_KEY)
        .database(Database::Url(postgres.url()))
        .start()
        .await
        .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat", gw.url()))
        .header("X-API-Key", API_KEY)
        .json(&json!({"system_id": "drillquiz", "user_id": "u1", "message": "hello"}))
        .send()
        .await
        .unwrap();
    let (status, turn) = json_of(resp).await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let conversation = turn["conversation_id"].as_str().unwrap();

    // What a replica killed mid-answer leaves: a partial nobody writes to.
    let other = gateway::store::postgres::PgStore::open(&postgres.url())
        .await
        .unwrap();
    let message = uuid::Uuid::now_v7().to_string();
    other
        .save_partial(&PartialAnswer {
            conversation_id: conversation,
            message_id: &message,
            user_message_id: turn["user_message_id"].as_str().unwrap(),
            content: "half an ans",
            at: time::OffsetDateTime::now_utc(),
        })
        .await
        .unwrap();

    let events = Events::of(reattach(gw.url(), conversation, &message, None).await)
        .rest()
        .await;
    let kinds: Vec<&StreamEvent> = events.iter().map(|(_, e)| e).collect();
    assert_eq!(
        kinds[0],
        &StreamEvent::Delta {
            text: "half an ans".into()
        }
    );
    assert!(
        matches!(
            kinds[1..],
            [StreamEvent::Error {
                code: sdk::ErrorCode::ShuttingDown,
                status: 503,
                ..
            }]
        ),
        "the follower gives up with an interruption: {kinds:?}"
    );
}
