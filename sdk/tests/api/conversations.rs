//! A user's conversations: list, page, read, rename, delete.

use sdk::{ChatRequest, Error, ErrorCode, MessagesQuery, Page, Role};

use crate::harness::TestGateway;

#[tokio::test]
async fn rename_then_delete_a_conversation() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");
    let reply = user.chat(ChatRequest::new("First question")).await.unwrap();
    let id = reply.conversation_id;

    let renamed = user.rename(&id, "  Exam prep ").await.unwrap();
    assert_eq!(renamed.id, id);
    assert_eq!(renamed.name, "Exam prep");
    assert_eq!(user.conversations().await.unwrap()[0].name, "Exam prep");

    user.delete(&id).await.unwrap();
    assert!(user.conversations().await.unwrap().is_empty());
    assert_eq!(gw.fake.conversation_count("drillquiz_42"), 0);
    let err = user.messages(&id).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConversationNotFound));
    let err = user.delete(&id).await.unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some(ErrorCode::ConversationNotFound))
    );
    let err = user.rename(&id, "gone").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConversationNotFound));
}

#[tokio::test]
async fn the_same_calls_work_with_the_users_own_token() {
    let gw = TestGateway::start().await;
    let me = gw.user_client("cointutor", "alice@example.com").me();
    let reply = me.chat(ChatRequest::new("Hi from alice")).await.unwrap();

    let listed = me.conversations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_id, "alice@example.com");
    assert_eq!(me.messages(&reply.conversation_id).await.unwrap().len(), 2);
    assert_eq!(
        me.rename(&reply.conversation_id, "Mine")
            .await
            .unwrap()
            .name,
        "Mine"
    );

    // The server sees the same conversation under the user's name.
    let server_view = gw.client().user("cointutor", "alice@example.com");
    assert_eq!(server_view.conversations().await.unwrap()[0].name, "Mine");

    me.delete(&reply.conversation_id).await.unwrap();
    assert!(server_view.conversations().await.unwrap().is_empty());
}

#[tokio::test]
async fn users_never_see_each_others_conversations() {
    let gw = TestGateway::start().await;
    let client = gw.client();
    let alice = client.user("drillquiz", "alice");
    let reply = alice.chat(ChatRequest::new("private")).await.unwrap();

    let bob = client.user("drillquiz", "bob");
    assert!(bob.conversations().await.unwrap().is_empty());
    let err = bob.messages(&reply.conversation_id).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConversationNotFound));
    let err = gw
        .user_client("drillquiz", "bob")
        .me()
        .delete(&reply.conversation_id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConversationNotFound));
    assert_eq!(alice.conversations().await.unwrap().len(), 1);
}

#[tokio::test]
async fn conversations_and_messages_page() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(
            user.chat(ChatRequest::new(text))
                .await
                .unwrap()
                .conversation_id,
        );
    }

    // Newest first, two at a time.
    let first = user
        .conversations_page(&Page::new().limit(2))
        .await
        .unwrap();
    let first_ids: Vec<&str> = first.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(first_ids, [ids[2].as_str(), ids[1].as_str()]);
    let rest = user
        .conversations_page(&Page::new().limit(2).before(&first[1].id))
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id, ids[0]);

    // The newest message only, with HTML.
    let id = &ids[0];
    user.chat(ChatRequest::new("*more*").in_conversation(id))
        .await
        .unwrap();
    let newest = user
        .messages_with(id, &MessagesQuery::new().limit(1).html())
        .await
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].role, Role::Assistant);
    assert_eq!(newest[0].content, "Echo: *more*");
    assert!(newest[0].html.as_deref().unwrap().contains("<em>more</em>"));
    let older = user
        .messages_with(id, &MessagesQuery::new().before(&newest[0].id))
        .await
        .unwrap();
    let contents: Vec<&str> = older.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["one", "Echo: one", "*more*"]);
    assert!(older.iter().all(|m| m.html.is_none()));
}

#[tokio::test]
async fn invalid_values_are_the_gateways_validation_errors() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");
    let id = user
        .chat(ChatRequest::new("x"))
        .await
        .unwrap()
        .conversation_id;

    for err in [
        user.rename(&id, "   ").await.unwrap_err(),
        user.conversations_page(&Page::new().limit(0))
            .await
            .unwrap_err(),
        user.messages_with(&id, &MessagesQuery::new().limit(501))
            .await
            .unwrap_err(),
        gw.client()
            .user("has space", "42")
            .conversations()
            .await
            .unwrap_err(),
    ] {
        match err {
            Error::Api {
                status: 422,
                code: ErrorCode::ValidationFailed,
                message,
                ..
            } => assert!(!message.is_empty()),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn ids_that_cannot_name_a_conversation_are_refused_locally() {
    let gw = TestGateway::start().await;
    let user = gw.client().user("drillquiz", "42");
    for id in ["", ".", ".."] {
        assert!(matches!(
            user.messages(id).await,
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(user.delete(id).await, Err(Error::InvalidInput(_))));
    }
    // An id with a slash stays one path segment: the gateway looks it up (and
    // finds nothing) instead of routing elsewhere.
    let err = user.messages("a/../../health").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConversationNotFound));
}

#[tokio::test]
async fn an_answer_is_rated_and_the_rating_cleared() {
    let gw = TestGateway::start().await;
    let me = gw.user_client("drillquiz", "rater").me();
    let reply = me.chat(ChatRequest::new("Rate me")).await.unwrap();
    let messages = me.messages(&reply.conversation_id).await.unwrap();
    let (question, answer) = (&messages[0], &messages[1]);
    assert_eq!(answer.role, Role::Assistant);
    assert_eq!(answer.feedback, None);

    let stored = me
        .feedback(&answer.id, Some(sdk::Rating::Like), Some("Spot on"))
        .await
        .unwrap();
    assert_eq!(stored.message_id, answer.id);
    let feedback = stored.feedback.unwrap();
    assert_eq!(
        (feedback.rating, feedback.comment.as_deref()),
        (sdk::Rating::Like, Some("Spot on"))
    );
    let listed = me.messages(&reply.conversation_id).await.unwrap();
    assert_eq!(
        listed[1].feedback.as_ref().map(|f| f.rating),
        Some(sdk::Rating::Like)
    );

    let cleared = me.feedback(&answer.id, None, None).await.unwrap();
    assert_eq!(cleared.feedback, None);
    assert_eq!(
        me.messages(&reply.conversation_id).await.unwrap()[1].feedback,
        None
    );

    // The server names the user; another user's answer is not found.
    let err = gw
        .client()
        .user("drillquiz", "someone-else")
        .feedback(&answer.id, Some(sdk::Rating::Dislike), None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.status(), err.code()),
        (Some(404), Some(ErrorCode::NotFound))
    );
    let err = me
        .feedback(&question.id, Some(sdk::Rating::Like), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ValidationFailed));
}
