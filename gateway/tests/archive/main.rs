//! The transcript archive against a real S3-protocol server (moto's, started
//! here): finished turns land as JSON Lines objects per system and day, all
//! of them by the time a graceful stop returns; and an unreachable archive
//! neither fails a turn nor hangs the stop.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly at the first surprise"
)]

mod moto;

use futures::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use sdk::ChatResponse;
use serde_json::{Value, json};
use testkit::{TestGateway, Upstream};

const BUCKET: &str = "tz-archive-test";
const PREFIX: &str = "quality/logs";

async fn chat(gw: &TestGateway, body: Value) -> ChatResponse {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat", gw.url()))
        .header("X-API-Key", gw.api_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_turns_are_archived_per_system_and_day_by_the_time_the_gateway_stops() {
    let Some(server) = moto::Server::start().await else {
        return;
    };
    server.create_bucket(BUCKET).await;
    let mut gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .env(
            "CHAT_GATEWAY_ARCHIVE_URL",
            format!("s3://{BUCKET}/{PREFIX}/"),
        )
        .env("AWS_ENDPOINT_URL", server.url())
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY)
        .start()
        .await
        .unwrap();
    let first = chat(
        &gw,
        json!({"system_id": "shop", "user_id": "ada", "message": "Hello there"}),
    )
    .await;
    let second = chat(
        &gw,
        json!({"system_id": "shop", "user_id": "ada", "message": "And a second question",
               "conversation_id": first.conversation_id}),
    )
    .await;
    let other = chat(
        &gw,
        json!({"system_id": "school", "user_id": "bo", "message": "Elsewhere"}),
    )
    .await;
    gw.stop().await.unwrap();

    let s3 = AmazonS3Builder::new()
        .with_endpoint(server.url())
        .with_allow_http(true)
        .with_bucket_name(BUCKET)
        .with_region("eu-central-1")
        .with_access_key_id(moto::ACCESS_KEY)
        .with_secret_access_key(moto::SECRET_KEY)
        .build()
        .unwrap();
    let objects: Vec<_> = s3
        .list(Some(&Path::from(PREFIX)))
        .try_collect()
        .await
        .unwrap();
    assert!(!objects.is_empty(), "nothing archived");
    let mut lines: Vec<(String, Value)> = Vec::new();
    for object in &objects {
        let key = object.location.to_string();
        let body = s3
            .get(&object.location)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.ends_with('\n'), "{key}: JSON Lines end with a newline");
        for line in text.lines() {
            lines.push((key.clone(), serde_json::from_str(line).unwrap()));
        }
    }
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for (key, line) in &lines {
        let date = &line["finished_at"].as_str().unwrap()[..10];
        let folder = format!(
            "{PREFIX}/system={}/date={date}/",
            line["system_id"].as_str().unwrap()
        );
        assert!(key.starts_with(&folder), "{key} is not under {folder}");
        let name = &key[folder.len()..];
        let id = name.strip_suffix(".jsonl").expect(name);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{key}");
        assert_eq!(line["status"], "complete");
        assert_eq!(line["upstream"], "demo");
    }
    let find = |question: &str| {
        lines
            .iter()
            .map(|(_, l)| l)
            .find(|l| l["question"] == question)
            .unwrap_or_else(|| panic!("{question:?} not archived: {lines:#?}"))
    };
    for (question, answer) in [
        ("Hello there", &first),
        ("And a second question", &second),
        ("Elsewhere", &other),
    ] {
        let line = find(question);
        assert_eq!(line["answer"], answer.answer.as_str());
        assert_eq!(line["answer_id"], answer.message_id.as_str());
        assert_eq!(line["question_id"], answer.user_message_id.as_str());
        assert_eq!(line["conversation_id"], answer.conversation_id.as_str());
    }
    assert_eq!(find("Hello there")["user_id"], "ada");
    assert_eq!(find("Elsewhere")["system_id"], "school");
}

#[tokio::test]
async fn an_unreachable_archive_neither_fails_a_turn_nor_hangs_the_stop() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mut gw = TestGateway::builder()
        .upstream(Upstream::Demo)
        .env("CHAT_GATEWAY_ARCHIVE_URL", format!("s3://{BUCKET}"))
        .env("AWS_ENDPOINT_URL", closed)
        .env("AWS_ACCESS_KEY_ID", moto::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", moto::SECRET_KEY)
        .start()
        .await
        .unwrap();
    let reply = chat(
        &gw,
        json!({"system_id": "shop", "user_id": "ada", "message": "Hello"}),
    )
    .await;
    assert!(!reply.answer.is_empty());
    // The stop gives up on the archive after a few attempts (logged) rather
    // than waiting for storage forever.
    gw.stop().await.unwrap();
}
