//! Messages sent into a conversation whose first answer is still streaming
//! continue the one upstream conversation that answer starts: the upstream
//! names it only in its first event, and the later sends wait for that name
//! (or for the first send to fail) instead of starting conversations of
//! their own.

use futures::StreamExt;
use gateway::identity::Identity;
use sdk::StreamEvent;
use sdk::sse::SseDecoder;
use serde_json::json;
use testkit::fake_dify::{FakeOptions, Fault, Gate};

use crate::support::{API_KEY, Gateway, Upstream, eventually, read_events};

const LATER_SENDS: usize = 4;

fn upstream_user() -> String {
    Identity::parse("drillquiz", "u1").unwrap().upstream_user()
}

/// Read `resp` up to its `start` event; the conversation id, and the rest
/// of the stream.
async fn conversation_of(
    resp: reqwest::Response,
) -> (
    String,
    impl futures::Stream<Item = reqwest::Result<bytes::Bytes>>,
) {
    let mut body = resp.bytes_stream();
    let mut decoder = SseDecoder::new();
    loop {
        while let Some(ev) = decoder.next_event().unwrap() {
            if let Ok(StreamEvent::Start {
                conversation_id, ..
            }) = serde_json::from_str(&ev.data)
            {
                return (conversation_id, body);
            }
        }
        decoder.push(&body.next().await.unwrap().unwrap());
    }
}

/// Send the first message (held by `gate` before its first event), then
/// [`LATER_SENDS`] more into its conversation, all stored before the gate
/// opens; every send ends. Returns the conversation id.
async fn first_and_later_sends(gw: &Gateway, gate: &Gate) -> String {
    let first = gw
        .open_stream(json!({"system_id": "drillquiz", "user_id": "u1", "message": "first"}))
        .await;
    let (conversation, rest_of_first) = conversation_of(first).await;
    gate.held(1).await;
    let later: Vec<_> = (0..LATER_SENDS)
        .map(|i| {
            let send = gw
                .post("/v1/chat")
                .header("X-API-Key", API_KEY)
                .json(&json!({
                    "system_id": "drillquiz",
                    "user_id": "u1",
                    "message": format!("later {i}"),
                    "conversation_id": conversation,
                    "stream": true,
                }))
                .send();
            tokio::spawn(async move { read_events(send.await.unwrap()).await })
        })
        .collect();
    // Every later question is stored (so today's sends are past the point
    // where they pick an upstream conversation) before the first answer
    // may go on.
    eventually(|| async {
        let stored = gw.messages("drillquiz", "u1", &conversation).await;
        (stored.len() > LATER_SENDS).then_some(())
    })
    .await;
    gate.open();
    rest_of_first.for_each(|_| async {}).await;
    for send in later {
        let events = send.await.unwrap();
        assert!(
            matches!(events.last(), Some(StreamEvent::End { .. })),
            "{events:?}"
        );
    }
    conversation
}

fn gated(gate: &Gate) -> Upstream {
    Upstream::Dify(FakeOptions {
        gate: Some(gate.clone()),
        ..Default::default()
    })
}

#[tokio::test]
async fn sends_while_the_first_answer_streams_continue_its_upstream_conversation() {
    // Held before the upstream's first event: the conversation has no
    // upstream id yet when the later messages arrive.
    let gate = Gate::after(0);
    let gw = Gateway::with(gated(&gate), &[]).await;
    first_and_later_sends(&gw, &gate).await;

    assert_eq!(gw.fake.conversation_count(&upstream_user()), 1);
    let chats = gw.fake.chats();
    assert_eq!(chats.len(), 1 + LATER_SENDS);
    assert_eq!(chats[0].conversation_id, None);
    let upstream = gw
        .fake
        .chats()
        .iter()
        .skip(1)
        .map(|c| c.conversation_id.clone())
        .collect::<Vec<_>>();
    assert!(
        upstream.iter().all(|c| c.is_some() && *c == upstream[0]),
        "{upstream:?}"
    );
}

#[tokio::test]
async fn when_the_first_answer_fails_before_naming_it_one_later_send_starts_it() {
    let gate = Gate::after(0);
    let gw = Gateway::with(gated(&gate), &[]).await;
    // The first answer is cut before its first event: no upstream id.
    gw.fake.push_fault(Fault::CutAfter(0));
    let conversation = first_and_later_sends(&gw, &gate).await;

    // Dify keeps the cut first turn's conversation; the later sends share
    // one more: the earliest starts it, the others continue it.
    assert_eq!(gw.fake.conversation_count(&upstream_user()), 2);
    let later: Vec<Option<String>> = gw.fake.chats()[1..]
        .iter()
        .map(|c| c.conversation_id.clone())
        .collect();
    assert_eq!(later.iter().filter(|c| c.is_none()).count(), 1, "{later:?}");
    let continued: std::collections::HashSet<_> = later.iter().flatten().collect();
    assert_eq!(continued.len(), 1, "{later:?}");
    let stored = gw.messages("drillquiz", "u1", &conversation).await;
    let answered = stored
        .iter()
        .filter(|m| m.role == sdk::Role::Assistant && m.status == sdk::MessageStatus::Complete)
        .count();
    assert_eq!(answered, LATER_SENDS, "{stored:?}");
}
