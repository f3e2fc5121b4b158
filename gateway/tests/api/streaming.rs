//! Streamed replies: SSE framing, what is stored for every way a stream ends.

use std::time::Duration;

use futures::StreamExt;
use sdk::{ErrorCode, MessageStatus, Role, StreamEvent};
use serde_json::json;
use testkit::fake_dify::{Chunking, FakeAnswer, FakeOptions, Fault, Gate};

use crate::support::{
    API_KEY, Gateway, Upstream, answer_of, code, eventually, json_of, read_events,
};

/// Read `stream` until its text so far contains `text`; that text.
async fn read_until(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    text: &str,
) -> String {
    let mut seen = String::new();
    while !seen.contains(text) {
        seen.push_str(&String::from_utf8_lossy(
            &stream.next().await.unwrap().unwrap(),
        ));
    }
    seen
}

fn hello() -> serde_json::Value {
    json!({"system_id": "drillquiz", "user_id": "u1", "message": "Hello streaming world"})
}

#[tokio::test]
async fn every_chunking_and_serialisation_gives_the_same_stored_answer() {
    for (chunking, legacy_json) in [
        (Chunking::PerEvent, false),
        (Chunking::ByteAtATime, false),
        (Chunking::Pieces(7), false),
        (Chunking::Pieces(3), true),
    ] {
        let gw = Gateway::with(
            Upstream::Dify(FakeOptions {
                chunking,
                legacy_json,
                ..Default::default()
            }),
            &[],
        )
        .await;
        let mut body = hello();
        body["message"] = json!("Hello 세계 😀 streaming");
        let events = gw.stream(body).await;
        let StreamEvent::Start {
            conversation_id,
            message_id,
            user_message_id,
        } = &events[0]
        else {
            panic!("first event is not start: {events:?}");
        };
        let Some(StreamEvent::End {
            conversation_id: c2,
            message_id: m2,
            usage,
            ..
        }) = events.last()
        else {
            panic!("last event is not end: {events:?}");
        };
        assert_eq!((c2, m2), (conversation_id, message_id));
        assert!(usage.is_some());
        let text = answer_of(&events);
        assert_eq!(
            text, "Echo: Hello 세계 😀 streaming",
            "{chunking:?} legacy={legacy_json}"
        );
        assert!(
            events
                .iter()
                .filter(|e| matches!(e, StreamEvent::Delta { .. }))
                .count()
                > 2
        );

        let stored = gw.messages("drillquiz", "u1", conversation_id).await;
        assert_eq!(stored.len(), 2);
        assert_eq!(&stored[0].id, user_message_id);
        assert_eq!(
            (stored[1].role, stored[1].status),
            (Role::Assistant, MessageStatus::Complete)
        );
        assert_eq!(stored[1].content, text);
    }
}

#[tokio::test]
async fn accept_header_selects_streaming_and_html_is_sent() {
    let gw = Gateway::start().await;
    let resp = gw
        .post("/v1/chat")
        .header("X-API-Key", API_KEY)
        .header("Accept", "text/event-stream")
        .json(&json!({"system_id": "s", "user_id": "u", "message": "**bold** move", "html": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    assert_eq!(resp.headers()["x-accel-buffering"], "no");
    let events = read_events(resp).await;
    let Some(StreamEvent::End {
        html: Some(html), ..
    }) = events.last()
    else {
        panic!("{events:?}");
    };
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    let sent = gw.fake.chats();
    assert_eq!(sent[0].response_mode, "streaming");
}

#[tokio::test]
async fn http2_to_the_upstream_streams_and_stores_the_same_answer() {
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions {
            chunking: Chunking::ByteAtATime,
            ..FakeOptions::default()
        }),
        &[("CHAT_GATEWAY_UPSTREAM_HTTP2", "always")],
    )
    .await;
    let mut events = Vec::new();
    for message in ["first over h2c", "second over h2c"] {
        let body = json!({"system_id": "drillquiz", "user_id": "u1", "message": message});
        events = gw.stream(body).await;
        assert_eq!(answer_of(&events), format!("Echo: {message}"));
    }
    let (blocking_status, blocking) = gw
        .chat(json!({"system_id": "drillquiz", "user_id": "u1", "message": "blocking"}))
        .await;
    assert_eq!(blocking_status, 200, "{blocking}");
    assert_eq!(blocking["answer"], "Echo: blocking");

    let versions: Vec<_> = gw.fake.chats().iter().map(|c| c.http_version).collect();
    assert_eq!(versions, [axum::http::Version::HTTP_2; 3]);
    let Some(StreamEvent::End {
        conversation_id, ..
    }) = events.last()
    else {
        panic!("{events:?}");
    };
    let stored = gw.messages("drillquiz", "u1", conversation_id).await;
    assert_eq!(stored[1].content, "Echo: second over h2c");
    assert_eq!(stored[1].status, MessageStatus::Complete);
}

#[tokio::test]
async fn a_proxy_speaking_http2_streams_many_answers_at_once() {
    let gw = Gateway::start().await;
    // A proxy in front (Envoy, Caddy's h2c://, HAProxy's proto h2) sends
    // cleartext HTTP/2 with prior knowledge.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let ask = |message: &str, stream: bool| {
        h2.post(format!("{}/v1/chat", gw.url))
            .header("X-API-Key", API_KEY)
            .json(&json!({"system_id": "drillquiz", "user_id": "h2", "message": message, "stream": stream}))
            .send()
    };
    let (first, second) = tokio::join!(ask("first of two", true), ask("second of two", true));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.version(), reqwest::Version::HTTP_2);
    let (first, second) = tokio::join!(read_events(first), read_events(second));
    assert_eq!(answer_of(&first), "Echo: first of two");
    assert_eq!(answer_of(&second), "Echo: second of two");

    let blocking = ask("and a blocking one", false).await.unwrap();
    assert_eq!(blocking.version(), reqwest::Version::HTTP_2);
    let (status, body) = json_of(blocking).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["answer"], "Echo: and a blocking one", "{body}");
    let conversations = gw.conversations("drillquiz", "h2").await;
    assert_eq!(conversations.len(), 3, "every turn is stored");
}

#[tokio::test]
async fn an_error_event_mid_stream_keeps_the_partial_answer_as_failed() {
    let gw = Gateway::start().await;
    gw.fake.push_fault(Fault::ErrorEventAfter(2));
    let events = gw.stream(hello()).await;
    let Some(StreamEvent::Error {
        code,
        status,
        message,
    }) = events.last()
    else {
        panic!("{events:?}");
    };
    assert_eq!((*code, *status), (ErrorCode::UpstreamError, 502));
    assert!(
        !message.contains("Rate Limit"),
        "upstream details stay in the log: {message}"
    );
    let StreamEvent::Start {
        conversation_id, ..
    } = &events[0]
    else {
        panic!()
    };
    let stored = gw.messages("drillquiz", "u1", conversation_id).await;
    assert_eq!(stored[0].status, MessageStatus::Complete);
    assert_eq!(stored[1].status, MessageStatus::Failed);
    assert_eq!(stored[1].content, "Echo: Hello ");
    assert_eq!(stored[1].content, answer_of(&events));
}

#[tokio::test]
async fn a_cut_upstream_stream_keeps_the_partial_answer_as_incomplete() {
    let gw = Gateway::start().await;
    gw.fake.push_fault(Fault::CutAfter(3));
    let events = gw.stream(hello()).await;
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Error {
            code: ErrorCode::UpstreamError,
            ..
        })
    ));
    let StreamEvent::Start {
        conversation_id, ..
    } = &events[0]
    else {
        panic!()
    };
    let stored = gw.messages("drillquiz", "u1", conversation_id).await;
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
    assert_eq!(stored[1].content, "Echo: Hello streaming ");
}

#[tokio::test]
async fn a_cut_before_any_text_marks_the_user_message_failed() {
    let gw = Gateway::start().await;
    gw.fake.push_fault(Fault::CutAfter(0));
    let events = gw.stream(hello()).await;
    let StreamEvent::Start {
        conversation_id, ..
    } = &events[0]
    else {
        panic!()
    };
    let stored = gw.messages("drillquiz", "u1", conversation_id).await;
    assert_eq!(stored.len(), 1, "no empty assistant message");
    assert_eq!(
        (stored[0].role, stored[0].status),
        (Role::User, MessageStatus::Failed)
    );
}

/// A gateway in front of a fake whose answers (200 words) wait after
/// `held_after` words until the test opens `gate`.
async fn gated(held_after: usize, env: &[(&str, &str)]) -> (Gateway, Gate) {
    let gate = Gate::after(held_after);
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions {
            answer: FakeAnswer::Words {
                count: 200,
                delay: Duration::ZERO,
            },
            gate: Some(gate.clone()),
            ..Default::default()
        }),
        env,
    )
    .await;
    (gw, gate)
}

#[tokio::test]
async fn a_client_that_leaves_keeps_the_partial_answer_and_stops_the_upstream() {
    // The upstream holds its answer after four words: whatever the machine's
    // speed, the client leaves while the answer is still being generated.
    let (gw, gate) = gated(4, &[]).await;
    let resp = gw.open_stream(hello()).await;
    let mut stream = resp.bytes_stream();
    read_until(&mut stream, "w3 ").await;
    drop(stream); // the user pressed Stop

    let conversation = gw.conversations("drillquiz", "u1").await.remove(0);
    let stored = eventually(|| async {
        let m = gw.messages("drillquiz", "u1", &conversation.id).await;
        (m.len() == 2).then_some(m)
    })
    .await;
    assert_eq!(stored[0].status, MessageStatus::Complete);
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
    assert_eq!(stored[1].content, "w0 w1 w2 w3 ");
    eventually(|| async { (!gw.fake.stopped_tasks().is_empty()).then_some(()) }).await;
    gate.open();
}

#[tokio::test]
async fn shutting_down_mid_stream_stores_the_partial_answer() {
    let (mut gw, _gate) = gated(3, &[("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", "0")]).await;
    let resp = gw.open_stream(hello()).await;
    let mut stream = resp.bytes_stream();
    let mut seen = read_until(&mut stream, "w2 ").await;
    let reader = tokio::spawn(async move {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
        seen
    });
    // The gate stays closed: the answer cannot end on its own.
    gw.stop().await;
    let seen = reader.await.unwrap();
    assert!(
        seen.contains("\"code\":\"shutting_down\""),
        "the client is told: {seen}"
    );

    let store = gateway::store::sqlite::SqliteStore::open(&gw.database_url)
        .await
        .unwrap();
    let owner = gateway::identity::Identity::parse("drillquiz", "u1").unwrap();
    use gateway::store::{ConversationStore, PageRequest, Scope};
    let page = PageRequest {
        limit: 10,
        before: None,
    };
    let conversation = store
        .list_conversations(&owner, page)
        .await
        .unwrap()
        .remove(0);
    let stored = store
        .list_messages(Scope::Owner(&owner), &conversation.id, page)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
    assert_eq!(stored[1].content, "w0 w1 w2 ");
}

#[tokio::test]
async fn failures_before_the_stream_starts_are_plain_http_errors() {
    let gw = Gateway::start().await;
    gw.fake.push_fault(Fault::Html502);
    let resp = gw.open_stream(hello()).await;
    let (status, err) = json_of(resp).await;
    assert_eq!((status.as_u16(), code(&err)), (502, "upstream_error"));

    gw.fake.push_fault(Fault::JsonInsteadOfStream);
    let resp = gw.open_stream(hello()).await;
    let (status, err) = json_of(resp).await;
    assert_eq!((status.as_u16(), code(&err)), (502, "upstream_error"));

    let conversations = gw.conversations("drillquiz", "u1").await;
    assert_eq!(conversations.len(), 2, "both questions were kept");
    for c in conversations {
        let stored = gw.messages("drillquiz", "u1", &c.id).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].status, MessageStatus::Failed);
    }
}

#[tokio::test]
async fn streams_open_at_shutdown_may_finish_within_the_grace_period() {
    let (gw, gate) = gated(2, &[("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", "30")]).await;
    let url = gw.url.clone();
    let resp = gw.open_stream(hello()).await;
    let mut stream = resp.bytes_stream();
    let mut seen = read_until(&mut stream, "w1 ").await;
    let reader = tokio::spawn(async move {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
        seen
    });
    let mut gw = gw;
    let stopping = tokio::spawn(async move {
        gw.stop().await;
        gw
    });

    // The answer is held upstream, so the gateway is still draining: new
    // connections are refused meanwhile (polled, since the stop signal
    // reaches the accept loop asynchronously).
    eventually(|| async {
        let fresh = reqwest::Client::new();
        fresh
            .get(format!("{url}/health"))
            .send()
            .await
            .is_err()
            .then_some(())
    })
    .await;
    assert!(
        !stopping.is_finished(),
        "the gateway waited for the open stream"
    );

    gate.open();
    let seen = reader.await.unwrap();
    assert!(
        seen.contains("event: end"),
        "the open answer ran to its end: {seen}"
    );
    assert!(seen.contains("w199 "));
    let _gw = stopping.await.unwrap();
}

#[tokio::test]
async fn an_agent_answer_replaced_by_moderation_streams_replace_and_html() {
    let gate = Gate::after(2);
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions {
            agent: true,
            replace_with: Some("[removed by moderation]".into()),
            gate: Some(gate.clone()),
            ..Default::default()
        }),
        &[],
    )
    .await;
    let mut body = hello();
    body["message"] = json!("**bold** words here");
    body["html"] = json!(true);
    let resp = gw.open_stream(body).await;
    assert_eq!(resp.status(), 200);
    // Two words have gone out and the answer waits upstream. The gateway
    // renders HTML at most every 150 ms: once this pause is over, the next
    // word must bring an `html` event with it.
    gate.held(1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    gate.open();
    let raw = String::from_utf8(resp.bytes().await.unwrap().to_vec()).unwrap();

    // The wire format, as README.md and the SDK documentation write it:
    // every event has an `id:` line between its name and its data (their
    // values are checked in resume.rs), the rest is checked without them.
    let ids = raw.lines().filter(|l| l.starts_with("id: ")).count();
    assert_eq!(ids, raw.matches("event: ").count(), "{raw}");
    let raw: String = raw
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("id: "))
        .collect();
    assert!(
        raw.contains("event: delta\ndata: {\"type\":\"delta\",\"text\":\"**bold** \"}\n\n"),
        "{raw}"
    );
    assert!(
        raw.contains("event: html\ndata: {\"type\":\"html\",\"html\":\"<p>Echo: <strong>bold</strong> words</p>"),
        "an intermediate html event with the text so far: {raw}"
    );
    assert!(
        raw.contains(
            "event: replace\ndata: {\"type\":\"replace\",\"text\":\"[removed by moderation]\"}\n\n"
        ),
        "{raw}"
    );
    let end = raw.find("event: end\n").expect("an end event");
    assert!(raw.find("event: replace\n").unwrap() < end, "{raw}");
    assert!(raw.find("event: html\n").unwrap() < end, "{raw}");
    assert!(!raw.contains("agent_thought"), "{raw}");

    let conversation = gw.conversations("drillquiz", "u1").await.remove(0);
    let stored = gw.messages("drillquiz", "u1", &conversation.id).await;
    assert_eq!(stored[1].content, "[removed by moderation]");
    assert_eq!(stored[1].status, MessageStatus::Complete);
}
