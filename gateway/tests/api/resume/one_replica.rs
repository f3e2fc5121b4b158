//! Resuming on the replica generating the answer (one gateway, SQLite).

use reqwest::StatusCode;
use sdk::{MessageStatus, Role, StreamEvent};
use testkit::fake_dify::Gate;

use super::{Events, OWNER, first_words, held, open, parts, reattach, start_of, text_of, words};
use crate::support::{API_KEY, Gateway, Upstream, code, eventually, json_of};

/// A gateway that lets an answer run a minute after its client left, whose
/// upstream holds its answer after four words (until `Gate::open`); a story
/// asked of it, read up to the hold; what `first_words` read.
async fn a_held_story() -> (Gateway, Gate, Events, (String, String, String)) {
    let (options, gate) = held();
    let gw = Gateway::with(
        Upstream::Dify(options),
        &[("CHAT_GATEWAY_RESUME_GRACE_SECS", "60")],
    )
    .await;
    let mut first = open(&gw.url, "tell me a story").await;
    let read = first_words(&mut first).await;
    (gw, gate, first, read)
}

#[tokio::test]
async fn the_ids_of_a_stream_grow_and_count_the_answer_bytes() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "안녕 하세요 😀 again").await.rest().await;
    let (_, message_id, _) = &start_of(&events);
    let mut text = String::new();
    let mut previous: Option<u64> = None;
    for (id, ev) in &events {
        text = text_of(text, [ev]);
        let (message, n, offset) = parts(id);
        assert_eq!(&message, message_id, "{id}");
        assert!(
            previous.is_none_or(|p| n > p),
            "ids grow: {id} after {previous:?}"
        );
        previous = Some(n);
        assert_eq!(offset, text.len(), "{id} after {ev:?}");
    }
    assert_eq!(text, "Echo: 안녕 하세요 😀 again");
    assert!(matches!(events.last(), Some((_, StreamEvent::End { .. }))));
}

#[tokio::test]
async fn a_client_that_left_reattaches_to_the_answer_in_progress() {
    let (gw, gate, first, (conversation, message, last)) = a_held_story().await;
    drop(first); // the connection is lost

    let again = Events::of(reattach(&gw.url, &conversation, &message, Some(&last)).await);
    gate.open();
    let rest = again.rest().await;
    let whole = text_of(words(4), rest.iter().map(|(_, e)| e));
    assert_eq!(whole, words(40), "the rest, once");
    let (_, n_last, _) = parts(&last);
    let mut previous = n_last;
    for (id, _) in &rest {
        let (_, n, _) = parts(id);
        assert!(n > previous, "ids go on growing: {id}");
        previous = n;
    }
    let Some((_, StreamEvent::End { message_id, .. })) = rest.last() else {
        panic!("no end: {rest:?}");
    };
    assert_eq!(message_id, &message);

    // The answer was not cut when its client left: it is stored whole.
    let stored = gw.messages("drillquiz", "u1", &conversation).await;
    assert_eq!(
        (stored[1].role, stored[1].status, stored[1].content.as_str()),
        (Role::Assistant, MessageStatus::Complete, words(40).as_str())
    );
}

#[tokio::test]
async fn a_finished_answer_gives_the_rest_and_its_end_at_once() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "one two three four").await.rest().await;
    let (conversation_id, message_id, _) = &start_of(&events);
    // Reattach from the second delta: the text after it, then the end.
    let (id, _) = &events[2];
    let seen = text_of(String::new(), events[..3].iter().map(|(_, e)| e));
    let rest = Events::of(reattach(&gw.url, conversation_id, message_id, Some(id)).await)
        .rest()
        .await;
    assert_eq!(rest.len(), 2, "{rest:?}");
    assert_eq!(
        text_of(seen, rest.iter().map(|(_, e)| e)),
        "Echo: one two three four"
    );
    assert!(matches!(rest[1].1, StreamEvent::End { .. }));

    // Without an id, from the start; the id may come in the query instead.
    let all = Events::of(reattach(&gw.url, conversation_id, message_id, None).await)
        .rest()
        .await;
    assert_eq!(
        text_of(String::new(), all.iter().map(|(_, e)| e)),
        "Echo: one two three four"
    );
    let (_, _, end_offset) = parts(&events.last().unwrap().0);
    let last = format!("{message_id}:9:{end_offset}");
    let resp = gw
        .get(&format!(
            "/v1/conversations/{conversation_id}/messages/{message_id}/stream?{OWNER}&last_event_id={last}"
        ))
        .header("X-API-Key", API_KEY)
        .send()
        .await
        .unwrap();
    let tail = Events::of(resp).rest().await;
    assert_eq!(tail.len(), 1, "nothing left but the end: {tail:?}");
    assert_eq!(parts(&tail[0].0).1, 10, "ids go on from the client's");
}

#[tokio::test]
async fn someone_elses_answer_is_not_found_and_bad_ids_are_refused() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "hello there").await.rest().await;
    let (conversation_id, message_id, user_message_id) = &start_of(&events);

    // Another user of the same system, with their own chat token.
    let token = gw.token("drillquiz", "u2");
    let resp = gw
        .get(&format!(
            "/v1/conversations/{conversation_id}/messages/{message_id}/stream"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(code(&body), "not_found");
    let resp = reattach(
        &gw.url,
        conversation_id,
        &uuid::Uuid::now_v7().to_string(),
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let end_offset = parts(&events.last().unwrap().0).2;
    for (message, last) in [
        // A question is not an answer.
        (user_message_id.as_str(), None),
        // Past the end of the answer.
        (
            message_id.as_str(),
            Some(format!("{message_id}:3:{}", end_offset + 1)),
        ),
        // Inside a character? The answer is ASCII here: not a number at all.
        (message_id.as_str(), Some(format!("{message_id}:x:1"))),
        (message_id.as_str(), Some("garbage".to_owned())),
        // The id of another message.
        (message_id.as_str(), Some(format!("{user_message_id}:1:0"))),
    ] {
        let resp = reattach(&gw.url, conversation_id, message, last.as_deref()).await;
        let (status, body) = json_of(resp).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{last:?}: {body}");
        assert_eq!(code(&body), "validation_failed", "{last:?}");
    }
}

#[tokio::test]
async fn an_offset_inside_a_character_is_refused() {
    let gw = Gateway::start().await;
    let events = open(&gw.url, "안녕").await.rest().await;
    let (conversation_id, message_id, _) = &start_of(&events);
    // "Echo: " is 6 bytes; the 7th is inside "안".
    let last = format!("{message_id}:1:7");
    let resp = reattach(&gw.url, conversation_id, message_id, Some(&last)).await;
    let (status, body) = json_of(resp).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn stop_cuts_an_answer_at_once_even_with_a_grace() {
    let (gw, gate, first, (conversation, message, _)) = a_held_story().await;
    let path = format!("/v1/conversations/{conversation}/messages/{message}/stream");

    // Someone else cannot stop it.
    let resp = gw
        .http
        .delete(format!("{}{path}", gw.url))
        .bearer_auth(gw.token("drillquiz", "u2"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let stop = || {
        gw.http
            .delete(format!("{}{path}?{OWNER}", gw.url))
            .header("X-API-Key", API_KEY)
            .send()
    };
    assert_eq!(stop().await.unwrap().status(), StatusCode::NO_CONTENT);
    // The client still reading is told, and what arrived is stored.
    let rest = first.rest().await;
    assert!(
        matches!(
            rest.last(),
            Some((
                _,
                StreamEvent::Error {
                    code: sdk::ErrorCode::Stopped,
                    ..
                }
            ))
        ),
        "{rest:?}"
    );
    let stored = gw.messages("drillquiz", "u1", &conversation).await;
    assert_eq!(
        (stored[1].status, stored[1].content.as_str()),
        (MessageStatus::Incomplete, words(4).as_str())
    );
    // The upstream is asked to stop.
    eventually(|| async { (!gw.fake.stopped_tasks().is_empty()).then_some(()) }).await;
    gate.open();
    // A stored answer has nothing left to stop.
    assert_eq!(stop().await.unwrap().status(), StatusCode::NO_CONTENT);
}
