//! Health, sync and the operators' cache reads.

use sdk::{CacheQuery, ChatRequest, ErrorCode, MessagesQuery};
use time::{Duration as TimeDelta, OffsetDateTime};

use crate::harness::TestGateway;

#[tokio::test]
async fn health_and_ready_answer_ok_for_either_credential() {
    let gw = TestGateway::start().await;
    assert_eq!(gw.client().health().await.unwrap().status, "ok");
    assert_eq!(gw.client().ready().await.unwrap().status, "ok");
    let user = gw.user_client("drillquiz", "1");
    assert_eq!(user.health().await.unwrap().status, "ok");
    assert_eq!(user.ready().await.unwrap().status, "ok");
}

#[tokio::test]
async fn sync_me_imports_the_users_upstream_only_history_once() {
    let gw = TestGateway::start().await;
    gw.fake.add_conversation(
        "drillquiz_7",
        "Before the gateway",
        &[("q1", "a1"), ("q2", "a2")],
    );
    gw.fake
        .add_conversation("drillquiz_8", "Someone else's", &[("x", "y")]);
    let client = gw.user_client("drillquiz", "7");

    let report = client.sync_me().await.unwrap();
    assert_eq!(
        (report.conversations_synced, report.messages_synced),
        (1, 4)
    );
    assert!(report.errors.is_empty());

    let me = client.me();
    let conversations = me.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].name, "Before the gateway");
    let contents: Vec<String> = me
        .messages(&conversations[0].id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["q1", "a1", "q2", "a2"]);

    let again = client.sync_me().await.unwrap();
    assert_eq!((again.conversations_synced, again.messages_synced), (0, 0));
    assert_eq!(me.messages(&conversations[0].id).await.unwrap().len(), 4);
}

#[tokio::test]
async fn sync_imports_upstream_history_of_every_known_user() {
    let gw = TestGateway::start().await;
    let client = gw.client();
    let user = client.user("drillquiz", "42");
    let live = user.chat(ChatRequest::new("hello")).await.unwrap();
    gw.fake
        .add_conversation("drillquiz_42", "Old chat", &[("old q", "old a")]);

    let report = client.sync().await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.conversations_synced >= 1, "{report:?}");
    assert!(report.messages_synced >= 2, "{report:?}");

    let conversations = user.conversations().await.unwrap();
    let names: Vec<&str> = conversations.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"Old chat"), "{names:?}");
    assert_eq!(conversations.len(), 2, "{names:?}");
    // The conversation made through the gateway is not duplicated.
    assert_eq!(user.messages(&live.conversation_id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_cache_searches_every_users_history() {
    let gw = TestGateway::start().await;
    let client = gw.client();
    let a = client
        .user("drillquiz", "a")
        .chat(ChatRequest::new("from a"))
        .await
        .unwrap();
    let b = client
        .user("drillquiz", "b")
        .chat(ChatRequest::new("from b"))
        .await
        .unwrap();
    let c = client
        .user("cointutor", "c")
        .chat(ChatRequest::new("from c"))
        .await
        .unwrap();
    let cache = client.cache();
    let ids =
        |list: Vec<sdk::Conversation>| -> Vec<String> { list.into_iter().map(|c| c.id).collect() };

    let all = ids(cache.conversations(&CacheQuery::new()).await.unwrap());
    assert_eq!(
        all,
        [
            c.conversation_id.as_str(),
            b.conversation_id.as_str(),
            a.conversation_id.as_str()
        ]
    );

    let drillquiz = cache
        .conversations(&CacheQuery::new().system_id("DrillQuiz"))
        .await
        .unwrap();
    assert_eq!(
        ids(drillquiz),
        [b.conversation_id.as_str(), a.conversation_id.as_str()]
    );
    let only_a = cache
        .conversations(&CacheQuery::new().system_id("drillquiz").user_id("a"))
        .await
        .unwrap();
    assert_eq!(ids(only_a), [a.conversation_id.as_str()]);

    let today = OffsetDateTime::now_utc().date();
    let yesterday = today.previous_day().unwrap();
    let tomorrow = today.next_day().unwrap();
    let in_range = cache
        .conversations(&CacheQuery::new().since(yesterday).until(tomorrow))
        .await
        .unwrap();
    assert_eq!(in_range.len(), 3);
    assert!(
        cache
            .conversations(&CacheQuery::new().since(tomorrow))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        cache
            .conversations(&CacheQuery::new().until(yesterday))
            .await
            .unwrap()
            .is_empty()
    );
    let an_hour_ago = OffsetDateTime::now_utc() - TimeDelta::hours(1);
    assert_eq!(
        cache
            .conversations(&CacheQuery::new().since(an_hour_ago))
            .await
            .unwrap()
            .len(),
        3
    );

    let page = cache
        .conversations(&CacheQuery::new().limit(2))
        .await
        .unwrap();
    assert_eq!(
        ids(page.clone()),
        [c.conversation_id.as_str(), b.conversation_id.as_str()]
    );
    let next = cache
        .conversations(&CacheQuery::new().limit(2).before(&page[1].id))
        .await
        .unwrap();
    assert_eq!(ids(next), [a.conversation_id.as_str()]);

    let messages = cache.messages(&a.conversation_id).await.unwrap();
    let contents: Vec<&str> = messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(contents, ["from a", "Echo: from a"]);
    let html = cache
        .messages_with(&a.conversation_id, &MessagesQuery::new().html())
        .await
        .unwrap();
    assert!(html[1].html.as_deref().unwrap().contains("Echo: from a"));

    let err = cache
        .messages("0193a5e2-0000-7000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ConversationNotFound));
    let err = cache
        .conversations(&CacheQuery::new().limit(501))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ValidationFailed));
}
