//! Blocking chat: answers, persistence, identity passed upstream.

use serde_json::json;

use crate::support::{Gateway, Upstream, code};
use sdk::{MessageStatus, Role};

#[tokio::test]
async fn a_message_is_answered_stored_and_continued() {
    let gw = Gateway::start().await;
    let (status, body) = gw
        .chat(
            json!({"system_id": "drillquiz", "user_id": "12345", "message": "Hello",
                     "inputs": {"language": "ko"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["answer"], "Echo: Hello");
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(
        body.get("metadata").is_none(),
        "upstream metadata is not leaked"
    );
    let conversation = body["conversation_id"].as_str().unwrap().to_owned();

    let sent = gw.fake.chats();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].user, "drillquiz_12345",
        "seed-compatible upstream user"
    );
    assert_eq!(sent[0].inputs, json!({"language": "ko"}));
    assert_eq!(sent[0].response_mode, "blocking");
    assert_eq!(sent[0].conversation_id, None);

    let listed = gw.conversations("drillquiz", "12345").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, conversation);
    assert_eq!(listed[0].name, "Hello");

    let (status, second) = gw
        .chat(
            json!({"system_id": "drillquiz", "user_id": "12345", "message": "And then?",
                     "conversation_id": conversation}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["conversation_id"], conversation.as_str());
    let sent = gw.fake.chats();
    assert!(
        sent[1].conversation_id.is_some(),
        "the upstream conversation continues"
    );
    assert_eq!(gw.fake.conversation_count("drillquiz_12345"), 1);

    let messages = gw.messages("drillquiz", "12345", &conversation).await;
    let got: Vec<_> = messages
        .iter()
        .map(|m| (m.role, m.content.as_str(), m.status))
        .collect();
    assert_eq!(
        got,
        vec![
            (Role::User, "Hello", MessageStatus::Complete),
            (Role::Assistant, "Echo: Hello", MessageStatus::Complete),
            (Role::User, "And then?", MessageStatus::Complete),
            (Role::Assistant, "Echo: And then?", MessageStatus::Complete),
        ]
    );
    assert_eq!(messages[1].id, body["message_id"].as_str().unwrap());
    assert_eq!(messages[0].id, body["user_message_id"].as_str().unwrap());
}

#[tokio::test]
async fn colliding_seed_identities_are_kept_apart_upstream() {
    let gw = Gateway::start().await;
    for (system, user) in [("a_b", "c"), ("a", "b_c")] {
        let (status, _) = gw
            .chat(json!({"system_id": system, "user_id": user, "message": "hi"}))
            .await;
        assert_eq!(status, 200);
    }
    let users: Vec<_> = gw.fake.chats().into_iter().map(|c| c.user).collect();
    assert_eq!(users, ["a%5Fb_c", "a_b_c"]);
    assert_eq!(gw.conversations("a_b", "c").await.len(), 1);
    assert_eq!(gw.conversations("a", "b_c").await.len(), 1);
}

#[tokio::test]
async fn the_demo_upstream_answers_with_no_configuration() {
    let gw = Gateway::with(Upstream::Demo, &[]).await;
    let (status, body) = gw
        .chat(
            json!({"system_id": "demo", "user_id": "guest", "message": "Hello there",
                     "inputs": {"language": "es"}, "html": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let answer = body["answer"].as_str().unwrap();
    assert!(answer.contains("> Hello there"), "{answer}");
    assert!(
        answer.contains("Upstream de demostración"),
        "answers in the asked language"
    );
    let html = body["html"].as_str().unwrap();
    assert!(html.contains("<blockquote>"), "{html}");
    assert_eq!(gw.conversations("demo", "guest").await.len(), 1);
}

#[tokio::test]
async fn a_system_without_upstream_gets_503() {
    let gw = Gateway::with(Upstream::Demo, &[("CHAT_GATEWAY_DEMO", "off")]).await;
    let (status, body) = gw
        .chat(json!({"system_id": "drillquiz", "user_id": "1", "message": "Hello"}))
        .await;
    assert_eq!(status, 503);
    assert_eq!(code(&body), "not_configured");
    assert_eq!(body["detail"], "Chat is not configured for this app.");
    assert!(
        gw.conversations("drillquiz", "1").await.is_empty(),
        "nothing was accepted"
    );
}

#[tokio::test]
async fn per_system_upstreams_route_any_system() {
    // One fake acts as DrillQuiz's app; everything else falls back to the demo.
    let fake = testkit::fake_dify::FakeDify::new(testkit::fake_dify::FakeOptions {
        api_key: "app-drillquiz".into(),
        ..Default::default()
    });
    let fake_url = fake.spawn().await.unwrap();
    let gw = Gateway::with(
        Upstream::Demo,
        &[
            ("DIFY_DRILL-QUIZ_BASE_URL", fake_url.as_str()),
            ("DIFY_DRILL_QUIZ_API_KEY", "app-drillquiz"),
        ],
    )
    .await;
    let (_, routed) = gw
        .chat(json!({"system_id": "drill-quiz", "user_id": "1", "message": "via dify"}))
        .await;
    assert_eq!(routed["answer"], "Echo: via dify");
    let (_, other) = gw
        .chat(json!({"system_id": "cointutor", "user_id": "1", "message": "via demo"}))
        .await;
    assert!(other["answer"].as_str().unwrap().contains("> via demo"));
    assert_eq!(fake.chats().len(), 1);
}

#[tokio::test]
async fn a_blocking_reply_says_where_its_time_went_in_server_timing() {
    let gw = Gateway::start().await;
    let resp = gw
        .post("/v1/chat")
        .header("X-API-Key", crate::support::API_KEY)
        .json(&json!({"system_id": "drillquiz", "user_id": "timed", "message": "Hello"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let header = resp
        .headers()
        .get("server-timing")
        .expect("README.md: blocking replies carry Server-Timing")
        .to_str()
        .unwrap()
        .to_owned();
    // `name;dur=<milliseconds>` for store, upstream and total, in that order.
    let metrics: Vec<(&str, f64)> = header
        .split(", ")
        .map(|metric| {
            let (name, dur) = metric
                .split_once(";dur=")
                .unwrap_or_else(|| panic!("not name;dur=ms: {header}"));
            (
                name,
                dur.parse().unwrap_or_else(|e| panic!("{e}: {header}")),
            )
        })
        .collect();
    let names: Vec<_> = metrics.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["store", "upstream", "total"], "{header}");
    let (store, upstream, total) = (metrics[0].1, metrics[1].1, metrics[2].1);
    assert!(
        store > 0.0 && upstream > 0.0,
        "both were measured: {header}"
    );
    assert!(total >= store.max(upstream), "{header}");
}
