//! Systems and agents changed through one replica's `/v1/admin` reach the
//! other replica without a restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use testkit::fake_dify::FakeOptions;

use crate::cluster::{Cluster, DIFY_KEY, Replica};

/// Ask `replica` until `done` holds for its answer. The bound only stops a
/// broken gateway from hanging the test; nothing is asserted about time.
async fn eventually(
    replica: &Replica,
    what: &str,
    request: impl Fn() -> (Method, String, Option<Value>),
    done: impl Fn(u16, &Value) -> bool,
) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for _ in 0..300 {
        let (method, path, body) = request();
        last = replica.send(method, &path, body).await;
        if done(last.0, &last.1) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{what} never happened on {}; last answer {last:?}",
        replica.base
    );
}

fn chat_as(agent: Option<&str>, message: &str) -> Value {
    let mut body = json!({"system_id": "hot", "user_id": "ann", "message": message});
    if let Some(agent) = agent {
        body["agent"] = json!(agent);
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_added_and_a_system_disabled_on_one_replica_reach_the_other() {
    let cluster = Cluster::start(FakeOptions::default()).await;
    let (a, b) = (cluster.replica().await, cluster.replica().await);

    // B has loaded the (empty) catalog and knows no agent of "hot".
    let (status, listed) = b.send(Method::GET, "/v1/agents?system_id=hot", None).await;
    assert_eq!((status, &listed["agents"]), (200, &json!([])), "{listed}");

    let (status, body) = a
        .send(
            Method::POST,
            "/v1/admin/systems",
            Some(json!({"id": "hot", "display_name": "Hot"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = a
        .send(
            Method::POST,
            "/v1/admin/systems/hot/agents",
            Some(json!({
                "id": "helper",
                "kind": "dify",
                "url": cluster.fake_url,
                "credential": DIFY_KEY,
                "title": "Helper",
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // The stored row holds the credential sealed, never in plain text.
    let pool = sqlx::PgPool::connect(&cluster.database_url())
        .await
        .unwrap();
    let (row, hint): (String, String) = sqlx::query_as(
        "SELECT row_to_json(agents)::text, credential_hint FROM agents WHERE id = 'helper'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(row.contains("\"credential_sealed\":\"v1."), "{row}");
    assert!(
        !row.contains(DIFY_KEY),
        "the credential is stored in plain text: {row}"
    );
    assert_eq!(hint, "…cas");
    pool.close().await;

    // B picks the agent up by itself and answers with it.
    eventually(
        &b,
        "the new agent listed",
        || (Method::GET, "/v1/agents?system_id=hot".into(), None),
        |status, body| status == 200 && body["agents"][0]["name"] == "helper",
    )
    .await;
    let (status, answer) = b
        .send(
            Method::POST,
            "/v1/chat",
            Some(chat_as(Some("helper"), "Hi B")),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["answer"], "Echo: Hi B");

    // Disabled on A: B refuses the system.
    let (status, body) = a
        .send(
            Method::PATCH,
            "/v1/admin/systems/hot",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!((status, &body["enabled"]), (200, &json!(false)), "{body}");
    let (_, refused) = eventually(
        &b,
        "the system refused",
        || {
            (
                Method::POST,
                "/v1/chat".into(),
                Some(chat_as(None, "Still there?")),
            )
        },
        |status, _| status == 403,
    )
    .await;
    assert_eq!(refused["error"]["code"], "system_disabled", "{refused}");
}
