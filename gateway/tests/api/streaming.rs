//! Streamed replies: SSE framing, what is stored for every way a stream ends.

use std::time::Duration;

use futures::StreamExt;
use sdk::{ErrorCode, MessageStatus, Role, StreamEvent};
use serde_json::json;
use testkit::fake_dify::{Chunking, FakeAnswer, FakeOptions, Fault};

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

#[tokio::test]
async fn a_client_that_leaves_keeps_the_partial_answer_and_stops_the_upstream() {
    let gw = Gateway::with(
        Upstream::Dify(FakeOptions {
            answer: FakeAnswer::Words {
                count: 200,
                delay: Duration::from_millis(10),
            },
            ..Default::default()
        }),
        &[],
    )
    .await;
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
    assert!(
        stored[1].content.starts_with("w0 w1 w2 w3 "),
        "{}",
        stored[1].content
    );
    assert!(
        !stored[1].content.contains("w199"),
        "the whole answer was not waited for"
    );
    eventually(|| async { (!gw.fake.stopped_tasks().is_empty()).then_some(()) }).await;
}

#[tokio::test]
async fn shutting_down_mid_stream_stores_the_partial_answer() {
    let mut gw = Gateway::with(
        Upstream::Dify(FakeOptions {
            answer: FakeAnswer::Words {
                count: 500,
                delay: Duration::from_millis(10),
            },
            ..Default::default()
        }),
        &[("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", "0")],
    )
    .await;
    let resp = gw.open_stream(hello()).await;
    let mut stream = resp.bytes_stream();
    let mut seen = read_until(&mut stream, "w2 ").await;
    let reader = tokio::spawn(async move {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
        seen
    });
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
    use gateway::store::{PageRequest, Scope, Store};
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
    assert!(stored[1].content.starts_with("w0 w1 w2 "));
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
    let mut gw = Gateway::with(
        Upstream::Dify(FakeOptions {
            answer: FakeAnswer::Words {
                count: 30,
                delay: Duration::from_millis(20),
            },
            ..Default::default()
        }),
        &[("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", "30")],
    )
    .await;
    let resp = gw.open_stream(hello()).await;
    let mut stream = resp.bytes_stream();
    let mut seen = read_until(&mut stream, "w1 ").await;
    let reader = tokio::spawn(async move {
        while let Some(chunk) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
        seen
    });
    gw.stop().await;
    let seen = reader.await.unwrap();
    assert!(
        seen.contains("event: end"),
        "the open answer ran to its end: {seen}"
    );
    assert!(seen.contains("w29 "));

    // New connections were refused while it drained.
    let refused = reqwest::Client::new()
        .get(format!("{}/health", gw.url))
        .send()
        .await;
    assert!(refused.is_err(), "the gateway stopped listening");
}
