//! `POST /v1/chat`, blocking and streamed, through the SDK.

use futures::StreamExt;
use sdk::{ChatRequest, Error, ErrorCode, MessageStatus, Role, StreamEvent};
use testkit::fake_dify::Fault;

use crate::harness::TestGateway;

#[tokio::test]
async fn blocking_chat_answers_and_the_turns_are_stored() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");

    let first = user
        .chat(ChatRequest::new("Hello there").language("ko"))
        .await
        .unwrap();
    assert_eq!(first.answer, "Echo: Hello there");
    let second = user
        .chat(ChatRequest::new("And again").in_conversation(&first.conversation_id))
        .await
        .unwrap();
    assert_eq!(second.conversation_id, first.conversation_id);
    assert_eq!(second.answer, "Echo: And again");

    // The upstream saw the user under the gateway's name for them, and the
    // inputs the SDK sent.
    let chats = gw.fake.chats();
    assert_eq!(chats.len(), 2);
    assert_eq!(chats[0].user, "drillquiz_42");
    assert_eq!(chats[0].inputs["language"], "ko");
    assert_eq!(chats[0].response_mode, "blocking");

    let messages = user.messages(&first.conversation_id).await.unwrap();
    let seen: Vec<(Role, &str, MessageStatus)> = messages
        .iter()
        .map(|m| (m.role, m.content.as_str(), m.status))
        .collect();
    assert_eq!(
        seen,
        [
            (Role::User, "Hello there", MessageStatus::Complete),
            (
                Role::Assistant,
                "Echo: Hello there",
                MessageStatus::Complete
            ),
            (Role::User, "And again", MessageStatus::Complete),
            (Role::Assistant, "Echo: And again", MessageStatus::Complete),
        ]
    );
    assert_eq!(messages[1].id, first.message_id);
    assert_eq!(messages[0].id, first.user_message_id);

    let conversations = user.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].id, first.conversation_id);
    assert_eq!(conversations[0].name, "Hello there");
    assert_eq!(
        (
            conversations[0].system_id.as_str(),
            conversations[0].user_id.as_str()
        ),
        ("drillquiz", "42")
    );
}

#[tokio::test]
async fn streamed_chat_yields_start_deltas_and_end_then_stops() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");

    let mut stream = user
        .chat_stream(ChatRequest::new("stream me please"))
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Some(event) = stream.next_event().await {
        events.push(event.unwrap());
    }
    assert!(
        stream.next().await.is_none(),
        "nothing follows the end event"
    );

    let StreamEvent::Start {
        conversation_id,
        message_id,
        user_message_id,
    } = &events[0]
    else {
        panic!("first event is not start: {events:?}");
    };
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Delta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Echo: stream me please");
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, StreamEvent::Delta { .. }))
            .count()
            > 1,
        "the answer arrives in pieces: {events:?}"
    );
    match events.last().unwrap() {
        StreamEvent::End {
            conversation_id: c,
            message_id: m,
            user_message_id: u,
            usage,
            html,
        } => {
            assert_eq!((c, m, u), (conversation_id, message_id, user_message_id));
            assert!(usage.is_some_and(|u| u.total_tokens > 0), "{usage:?}");
            assert_eq!(html, &None);
        }
        other => panic!("last event is not end: {other:?}"),
    }
    assert_eq!(gw.fake.chats()[0].response_mode, "streaming");

    let stored = user.messages(conversation_id).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].id, *message_id);
    assert_eq!(stored[1].content, "Echo: stream me please");
    assert_eq!(stored[1].status, MessageStatus::Complete);
}

#[tokio::test]
async fn streamed_chat_with_html_and_collected_into_a_response() {
    let gw = TestGateway::start().await;
    let me = gw.user_client("drillquiz", "7").me();

    let mut request = ChatRequest::new("make it **bold**");
    request.html = true;
    let reply = me
        .chat_stream(request)
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap();
    assert_eq!(reply.answer, "Echo: make it **bold**");
    let html = reply.html.unwrap();
    assert!(html.contains("<strong>bold</strong>"), "{html}");

    let stored = me.messages(&reply.conversation_id).await.unwrap();
    assert_eq!(stored[1].id, reply.message_id);
    assert_eq!(stored[0].id, reply.user_message_id);
}

#[tokio::test]
async fn an_upstream_failure_mid_stream_is_the_final_error_event() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");
    gw.fake.push_fault(Fault::ErrorEventAfter(2));

    let mut stream = user
        .chat_stream(ChatRequest::new("one two three four"))
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Some(event) = stream.next_event().await {
        events.push(event.unwrap());
    }
    let deltas = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Delta { .. }))
        .count();
    assert_eq!(deltas, 2, "{events:?}");
    match events.last().unwrap() {
        StreamEvent::Error { code, status, .. } => {
            assert_eq!((*code, *status), (ErrorCode::UpstreamError, 502));
        }
        other => panic!("last event is not error: {other:?}"),
    }

    // What arrived is stored, marked failed; the user's message is kept.
    let StreamEvent::Start {
        conversation_id, ..
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    let stored = user.messages(conversation_id).await.unwrap();
    assert_eq!(stored[0].content, "one two three four");
    assert_eq!(stored[1].status, MessageStatus::Failed);
    assert_eq!(stored[1].content, "Echo: one ");

    // Collected, the same failure is an API error.
    gw.fake.push_fault(Fault::CutAfter(1));
    let err = user
        .chat_stream(ChatRequest::new("again"))
        .await
        .unwrap()
        .into_response()
        .await
        .unwrap_err();
    let Error::Api {
        status: 502,
        code: ErrorCode::UpstreamError,
        conversation_id: Some(conversation_id),
        message_id: Some(message_id),
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    // The ids name the stored user message, which a retry answers.
    let stored = user.messages(conversation_id).await.unwrap();
    assert_eq!(&stored[0].id, message_id);
    assert_eq!(stored[0].content, "again");
}

#[tokio::test]
async fn a_stream_refused_before_it_starts_is_an_api_error() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");
    let unknown = "0193a5e2-0000-7000-8000-000000000000";
    let err = user
        .chat_stream(ChatRequest::new("hi").in_conversation(unknown))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.code(), Some(ErrorCode::ConversationNotFound));

    let err = user.chat_stream(ChatRequest::new("   ")).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ValidationFailed));
    assert_eq!(err.status(), Some(422));
}

#[tokio::test]
async fn a_request_naming_another_user_is_refused_before_sending() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");
    let err = user
        .chat(ChatRequest::new("hi").for_user("drillquiz", "43"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    assert!(gw.fake.chats().is_empty(), "nothing reached the upstream");

    // Naming the same user is fine.
    let reply = user
        .chat(ChatRequest::new("hi").for_user("drillquiz", "42"))
        .await
        .unwrap();
    assert_eq!(reply.answer, "Echo: hi");
}

#[tokio::test]
async fn a_stream_resumes_from_its_last_event_id() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");

    // Read the start and two pieces of the answer, then lose the stream.
    let mut stream = user
        .chat_stream(ChatRequest::new("one two three four"))
        .await
        .unwrap();
    assert_eq!(stream.last_event_id(), None, "nothing read yet");
    let Some(Ok(StreamEvent::Start {
        conversation_id,
        message_id,
        ..
    })) = stream.next_event().await
    else {
        panic!("no start");
    };
    let mut seen = String::new();
    for _ in 0..2 {
        if let Some(Ok(StreamEvent::Delta { text })) = stream.next_event().await {
            seen.push_str(&text);
        }
    }
    let last = stream.last_event_id().expect("numbered events").to_owned();
    assert!(last.starts_with(&format!("{message_id}:")), "{last}");
    drop(stream);

    let rest = user
        .resume_stream(&conversation_id, &message_id, Some(&last))
        .await
        .unwrap();
    // The rest of the text, then the same end as the original stream.
    let reply = rest.into_response().await.unwrap();
    assert_eq!(seen + &reply.answer, "Echo: one two three four");
    assert_eq!(reply.message_id, message_id);
    assert_eq!(reply.conversation_id, conversation_id);

    // Another user of the system gets the API's 404.
    let err = gw
        .client()
        .user("drillquiz", "43")
        .resume_stream(&conversation_id, &message_id, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");
}
