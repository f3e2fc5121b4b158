//! The WebSocket door over a socket's life: one turn at a time, stop, a
//! dropped socket, two sockets of one user, and shutdown.

use std::time::Duration;

use sdk::MessageStatus;
use serde_json::{Value, json};
use testkit::fake_dify::{FakeAnswer, FakeOptions};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::support::{Gateway, Upstream, eventually};
use crate::ws::{answer_of, deltas, next, ready, send, slow_gateway, turn, until_close};

#[tokio::test]
async fn one_turn_at_a_time_and_stop_keeps_the_partial_answer() {
    let gw = slow_gateway(&[]).await;
    let mut ws = ready(&gw, "u1").await;
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "long one"}}),
    )
    .await;
    let mut frames = deltas(&mut ws, 2).await;
    let start = frames[0]["data"].clone();

    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "meanwhile"}}),
    )
    .await;
    loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "error" {
            assert_eq!(frame["data"]["code"], "busy", "{frame}");
            assert_eq!(frame["data"]["status"], 409);
            break;
        }
        frames.push(frame);
    }
    send(&mut ws, json!({"type": "stop"})).await;
    let stopped = loop {
        let frame = next(&mut ws).await;
        if frame["type"] == "error" {
            break frame;
        }
        frames.push(frame);
    };
    assert_eq!(stopped["data"]["code"], "stopped", "{stopped}");
    assert_eq!(stopped["data"]["conversation_id"], start["conversation_id"]);
    assert_eq!(stopped["data"]["message_id"], start["user_message_id"]);

    let conversation = start["conversation_id"].as_str().unwrap();
    let stored = eventually(|| async {
        let m = gw.messages("drillquiz", "u1", conversation).await;
        (m.len() == 2).then_some(m)
    })
    .await;
    assert_eq!(stored[0].content, "long one");
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
    let sent = answer_of(&frames);
    assert!(
        stored[1].content.starts_with(&sent),
        "{} / {sent}",
        stored[1].content
    );
    assert!(!stored[1].content.contains("w199"));
    eventually(|| async { (!gw.fake.stopped_tasks().is_empty()).then_some(()) }).await;
    assert_eq!(
        gw.conversations("drillquiz", "u1").await.len(),
        1,
        "busy stored nothing"
    );

    // The socket is free again.
    send(&mut ws, json!({"type": "ping"})).await;
    let mut frame = next(&mut ws).await;
    while frame["type"] == "delta" {
        frame = next(&mut ws).await;
    }
    assert_eq!(frame["type"], "pong");
}

#[tokio::test]
async fn a_socket_that_drops_mid_answer_loses_nothing() {
    let gw = slow_gateway(&[]).await;
    let mut ws = ready(&gw, "u1").await;
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "bye"}}),
    )
    .await;
    let frames = deltas(&mut ws, 3).await;
    let conversation = frames[0]["data"]["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(ws); // the tab was closed: no close frame

    let stored = eventually(|| async {
        let m = gw.messages("drillquiz", "u1", &conversation).await;
        (m.len() == 2).then_some(m)
    })
    .await;
    assert_eq!(stored[0].status, MessageStatus::Complete);
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
    assert!(stored[1].content.starts_with(&answer_of(&frames)));
    assert!(!stored[1].content.contains("w199"));
    eventually(|| async { (!gw.fake.stopped_tasks().is_empty()).then_some(()) }).await;
}

#[tokio::test]
async fn two_sockets_of_one_user_share_conversations_not_reservations() {
    let gw = Gateway::start().await;
    let mut a = ready(&gw, "u1").await;
    let mut b = ready(&gw, "u1").await;

    send(&mut a, json!({"type": "start_conversation"})).await;
    let reserved = next(&mut a).await["data"]["conversation_id"].clone();
    send(
        &mut b,
        json!({"type": "send_message", "data": {"conversation_id": reserved, "content": "mine?"}}),
    )
    .await;
    let refused = turn(&mut b).await;
    assert_eq!(
        refused.last().unwrap()["data"]["code"],
        "conversation_not_found"
    );

    send(
        &mut a,
        json!({"type": "send_message", "data": {"conversation_id": reserved, "content": "from a"}}),
    )
    .await;
    assert_eq!(turn(&mut a).await.last().unwrap()["type"], "end");
    send(
        &mut b,
        json!({"type": "send_message", "data": {"conversation_id": reserved, "content": "from b"}}),
    )
    .await;
    let frames = turn(&mut b).await;
    assert_eq!(frames.last().unwrap()["type"], "end", "{frames:?}");
    assert_eq!(answer_of(&frames), "Echo: from b");

    let stored = gw
        .messages("drillquiz", "u1", reserved.as_str().unwrap())
        .await;
    let texts: Vec<_> = stored.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts, ["from a", "Echo: from a", "from b", "Echo: from b"]);
    // Neither socket saw the other's frames.
    send(&mut a, json!({"type": "ping"})).await;
    assert_eq!(next(&mut a).await["type"], "pong");
}

#[tokio::test]
async fn shutdown_lets_a_running_answer_end_then_closes_with_1001() {
    let mut gw = Gateway::with(
        Upstream::Dify(FakeOptions {
            answer: FakeAnswer::Words {
                count: 30,
                delay: Duration::from_millis(20),
            },
            ..FakeOptions::default()
        }),
        &[("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", "30")],
    )
    .await;
    let mut busy = ready(&gw, "u1").await;
    let mut idle = ready(&gw, "u2").await;
    send(
        &mut busy,
        json!({"type": "send_message", "data": {"content": "finish me"}}),
    )
    .await;
    let first = deltas(&mut busy, 1).await;
    let busy_reader = tokio::spawn(async move { until_close(&mut busy).await });
    let idle_reader = tokio::spawn(async move { until_close(&mut idle).await });

    gw.stop().await;
    let (frames, code) = busy_reader.await.unwrap();
    assert_eq!(code, CloseCode::Away);
    assert_eq!(frames.last().unwrap()["type"], "end", "{frames:?}");
    let all: Vec<Value> = first.into_iter().chain(frames).collect();
    assert!(answer_of(&all).ends_with("w29 "), "{}", answer_of(&all));
    let (frames, code) = idle_reader.await.unwrap();
    assert_eq!((frames.len(), code), (0, CloseCode::Away));
}

#[tokio::test]
async fn shutdown_past_the_grace_cuts_the_answer_and_keeps_it() {
    let mut gw = slow_gateway(&[("CHAT_GATEWAY_SHUTDOWN_GRACE_SECS", "0")]).await;
    let mut ws = ready(&gw, "u1").await;
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"content": "cut me"}}),
    )
    .await;
    let first = deltas(&mut ws, 2).await;
    let reader = tokio::spawn(async move { until_close(&mut ws).await });
    gw.stop().await;
    let (frames, code) = reader.await.unwrap();
    assert_eq!(code, CloseCode::Away);
    assert_eq!(
        frames.last().unwrap()["data"]["code"],
        "shutting_down",
        "{frames:?}"
    );

    let store = gateway::store::sqlite::SqliteStore::open(&gw.database_url)
        .await
        .unwrap();
    use gateway::store::{ConversationStore, PageRequest, Scope};
    let owner = gateway::identity::Identity::parse("drillquiz", "u1").unwrap();
    let page = PageRequest {
        limit: 10,
        before: None,
    };
    let conversation = first[0]["data"]["conversation_id"].as_str().unwrap();
    let stored = store
        .list_messages(Scope::Owner(&owner), conversation, page)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
    let all: Vec<Value> = first.into_iter().chain(frames).collect();
    assert_eq!(stored[1].content, answer_of(&all));
}

#[tokio::test]
async fn ending_the_conversation_of_a_running_answer_stops_it() {
    let gw = slow_gateway(&[]).await;
    let mut ws = ready(&gw, "u1").await;
    send(&mut ws, json!({"type": "start_conversation"})).await;
    let conversation = next(&mut ws).await["data"]["conversation_id"].clone();
    send(
        &mut ws,
        json!({"type": "send_message", "data": {"conversation_id": conversation, "content": "go"}}),
    )
    .await;
    deltas(&mut ws, 1).await;
    send(
        &mut ws,
        json!({"type": "end_conversation", "data": {"conversation_id": conversation}}),
    )
    .await;
    let mut frame = next(&mut ws).await;
    while frame["type"] == "delta" {
        frame = next(&mut ws).await;
    }
    assert_eq!(frame["data"]["code"], "stopped", "{frame}");
    assert_eq!(next(&mut ws).await["type"], "conversation_ended");
    let stored = eventually(|| async {
        let m = gw
            .messages("drillquiz", "u1", conversation.as_str().unwrap())
            .await;
        (m.len() == 2).then_some(m)
    })
    .await;
    assert_eq!(stored[1].status, MessageStatus::Incomplete);
}
