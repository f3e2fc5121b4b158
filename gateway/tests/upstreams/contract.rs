//! The cases every kind passes.

use sdk::{MessageStatus, Role, StreamEvent};
use serde_json::json;

use crate::kinds::{ALL, streamed_text};

#[tokio::test]
async fn a_blocking_answer_arrives_whole_and_is_stored() {
    for kind in ALL {
        let gw = kind.gateway().await;
        let (status, body) = gw
            .chat(json!({"system_id": "team", "user_id": "u1", "message": "hello there"}))
            .await;
        assert_eq!(status, 200, "{kind:?}: {body}");
        assert_eq!(body["answer"], "Echo: hello there", "{kind:?}");
        let stored = gw
            .messages("u1", body["conversation_id"].as_str().unwrap())
            .await;
        let got: Vec<(Role, &str, MessageStatus)> = stored
            .iter()
            .map(|m| (m.role, m.content.as_str(), m.status))
            .collect();
        assert_eq!(
            got,
            [
                (Role::User, "hello there", MessageStatus::Complete),
                (
                    Role::Assistant,
                    "Echo: hello there",
                    MessageStatus::Complete
                ),
            ],
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_streamed_answer_arrives_whole_and_is_stored() {
    for kind in ALL {
        let gw = kind.gateway().await;
        let body = json!({"system_id": "team", "user_id": "u1", "message": "stream me 가나다"});
        let events = gw.stream(body).await;
        assert!(
            matches!(events.first(), Some(StreamEvent::Start { .. })),
            "{kind:?}: {events:?}"
        );
        let Some(StreamEvent::End {
            conversation_id, ..
        }) = events.last()
        else {
            panic!("{kind:?} did not end: {events:?}");
        };
        assert_eq!(streamed_text(&events), "Echo: stream me 가나다", "{kind:?}");
        let stored = gw.messages("u1", conversation_id).await;
        assert_eq!(stored.len(), 2, "{kind:?}");
        assert_eq!(stored[1].content, "Echo: stream me 가나다");
        assert_eq!(stored[1].status, MessageStatus::Complete);
        // A second message continues the same conversation.
        let again = gw
            .stream(
                json!({"system_id": "team", "user_id": "u1", "message": "more",
                "conversation_id": conversation_id}),
            )
            .await;
        assert_eq!(streamed_text(&again), "Echo: more", "{kind:?}");
        assert_eq!(gw.messages("u1", conversation_id).await.len(), 4);
    }
}

#[tokio::test]
async fn a_failing_upstream_keeps_the_users_message() {
    for kind in ALL {
        let gw = kind.gateway().await;
        gw.fail_next();
        let (status, body) = gw
            .chat(json!({"system_id": "team", "user_id": "u2", "message": "Will this work?"}))
            .await;
        assert_eq!(status, 502, "{kind:?}: {body}");
        assert_eq!(body["error"]["code"], "upstream_error");
        assert!(
            !body.to_string().contains("secret detail"),
            "{kind:?} leaked: {body}"
        );
        let conversation = body["error"]["conversation_id"].as_str().unwrap();
        let stored = gw.messages("u2", conversation).await;
        assert_eq!(stored.len(), 1, "{kind:?}: {stored:?}");
        assert_eq!(stored[0].content, "Will this work?");
        assert_eq!(stored[0].status, MessageStatus::Failed);

        // The same over a stream: refused before it started, as JSON.
        gw.fail_next();
        let (status, body) = gw
            .chat(
                json!({"system_id": "team", "user_id": "u3", "message": "Again?", "stream": true}),
            )
            .await;
        assert_eq!(status, 502, "{kind:?}: {body}");
        let conversation = gw.only_conversation("u3").await;
        let stored = gw.messages("u3", &conversation).await;
        assert_eq!(stored[0].content, "Again?");
        assert_eq!(stored[0].status, MessageStatus::Failed, "{kind:?}");
    }
}

#[tokio::test]
async fn a_cut_stream_is_stored_incomplete_with_what_arrived() {
    for kind in ALL {
        let gw = kind.gateway().await;
        gw.cut_next(2);
        let events = gw
            .stream(json!({"system_id": "team", "user_id": "u4", "message": "one two three four"}))
            .await;
        let Some(StreamEvent::Error { code, .. }) = events.last() else {
            panic!("{kind:?}: {events:?}");
        };
        assert_eq!(code.as_str(), "upstream_error", "{kind:?}");
        let conversation = gw.only_conversation("u4").await;
        let stored = gw.messages("u4", &conversation).await;
        if kind.streams() {
            assert_eq!(stored[0].status, MessageStatus::Complete, "{kind:?}");
            let text = streamed_text(&events);
            assert!(!text.is_empty() && text.len() < "Echo: one two three four".len());
            assert_eq!(stored.len(), 2, "{kind:?}: {stored:?}");
            assert_eq!(stored[1].content, text, "{kind:?}");
            assert_eq!(stored[1].status, MessageStatus::Incomplete, "{kind:?}");
        } else {
            // A whole answer cut midway has no usable part.
            assert_eq!(stored.len(), 1, "{kind:?}: {stored:?}");
            assert_eq!(stored[0].status, MessageStatus::Failed, "{kind:?}");
        }
    }
}
