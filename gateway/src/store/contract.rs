//! The behaviour every [`Store`] implementation must have. Each backend's
//! tests call [`run`] on a fresh, empty store.

mod races;

use std::sync::Arc;

use sdk::{MessageStatus, Role};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::identity::Identity;
use crate::upstream::{UpstreamConversation, UpstreamMessage};

fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn who(system: &str, user: &str) -> Identity {
    Identity::parse(system, user).unwrap()
}

/// A fixed base time with millisecond precision (what stores keep).
fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + Duration::milliseconds(123)
}

struct Turn {
    conversation: String,
    user_message: String,
}

async fn start(
    store: &dyn Store,
    owner: &Identity,
    conversation: Option<&str>,
    text: &str,
    at: OffsetDateTime,
) -> Option<Turn> {
    let new_id = id();
    let message = id();
    let started = store
        .begin_turn(&NewTurn {
            owner,
            conversation_id: conversation,
            new_conversation_id: &new_id,
            title: text,
            message_id: &message,
            content: text,
            retry_of: None,
            at,
        })
        .await
        .unwrap();
    let Begin::Started(started) = started else {
        return None;
    };
    assert_eq!(started.created, conversation.is_none());
    assert_eq!(started.user_message_id, message);
    Some(Turn {
        conversation: started.conversation_id,
        user_message: message,
    })
}

async fn answer(
    store: &dyn Store,
    turn: &Turn,
    text: &str,
    upstream: (&str, &str),
    at: OffsetDateTime,
) -> String {
    let reply_id = id();
    store
        .finish_turn(&TurnEnd {
            conversation_id: &turn.conversation,
            user_message_id: &turn.user_message,
            user_status: MessageStatus::Complete,
            reply: Some(StoredReply {
                message_id: &reply_id,
                content: text,
                status: MessageStatus::Complete,
            }),
            upstream_conversation_id: Some(upstream.0),
            upstream_message_id: Some(upstream.1),
            at,
        })
        .await
        .unwrap();
    reply_id
}

const ALL: PageRequest<'static> = PageRequest {
    limit: 1000,
    before: None,
};

/// Run every contract check against `store`, which must be empty.
pub(crate) async fn run(store: &dyn Store) {
    store.ping().await.unwrap();
    turns_and_outcomes(store).await;
    ownership_is_enforced(store).await;
    listing_order_and_pages(store).await;
    rename_and_delete(store).await;
    deleted_while_answering(store).await;
    retrying_a_failed_message(store).await;
    visits_and_sync_targets(store).await;
    import_is_idempotent(store).await;
    operator_search(store).await;
}

/// Concurrent writes, as several replicas (or several tasks of one) make
/// them: turns in one conversation, imports of one upstream conversation,
/// and imports racing live turns. Nothing lost, nothing duplicated, no
/// write fails. `store` must be empty.
pub(crate) async fn concurrent_turns(store: Arc<dyn Store>) {
    turns_in_one_conversation(store.clone()).await;
    races::imports_of_one_conversation(store.clone()).await;
    races::imports_racing_live_turns(store).await;
}

async fn turns_in_one_conversation(store: Arc<dyn Store>) {
    let owner = who("race", "u");
    let first = start(&*store, &owner, None, "first", t0()).await.unwrap();
    let conversation = first.conversation.clone();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            let owner = owner.clone();
            let conversation = conversation.clone();
            tokio::spawn(async move {
                let turn = start(&*store, &owner, Some(&conversation), &format!("q{i}"), t0())
                    .await
                    .unwrap();
                answer(
                    &*store,
                    &turn,
                    &format!("a{i}"),
                    ("up-race", &format!("m{i}")),
                    t0(),
                )
                .await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let messages = store
        .list_messages(Scope::Owner(&owner), &conversation, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(messages.len(), 81, "first question plus 40 turns of two");
    let mut contents: Vec<_> = messages.iter().map(|m| m.content.clone()).collect();
    contents.sort();
    contents.dedup();
    assert_eq!(contents.len(), 81, "no duplicates");
}

async fn turns_and_outcomes(store: &dyn Store) {
    let owner = who("drillquiz", "12345");
    let turn = start(store, &owner, None, "Hello 한국어 😀", t0())
        .await
        .unwrap();
    let conv = store
        .get_conversation(Scope::Owner(&owner), &turn.conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv.title, "Hello 한국어 😀");
    assert_eq!(conv.upstream_conversation_id, None);
    assert_eq!(conv.created_at, t0(), "millisecond timestamps round-trip");
    assert_eq!(conv.created_at.offset(), time::UtcOffset::UTC);

    // Before the upstream answers, the user's message is already stored.
    let msgs = store
        .list_messages(Scope::Owner(&owner), &turn.conversation, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(
        (msgs[0].role, msgs[0].status),
        (Role::User, MessageStatus::Complete)
    );
    assert_eq!(msgs[0].content, "Hello 한국어 😀");

    let later = t0() + Duration::seconds(2);
    let reply = answer(store, &turn, "Hi!", ("up-c1", "up-m1"), later).await;
    let msgs = store
        .list_messages(Scope::Owner(&owner), &turn.conversation, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1].id, reply);
    assert_eq!(
        (msgs[1].role, msgs[1].status),
        (Role::Assistant, MessageStatus::Complete)
    );
    assert_eq!(msgs[0].upstream_message_id.as_deref(), Some("up-m1"));
    assert_eq!(msgs[1].upstream_message_id.as_deref(), Some("up-m1"));
    let conv = store
        .get_conversation(Scope::Any, &turn.conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conv.upstream_conversation_id.as_deref(), Some("up-c1"));
    assert_eq!(conv.updated_at, later);

    // Continuing returns the upstream id, so the upstream conversation continues.
    let second = start(store, &owner, Some(&turn.conversation), "and then?", later)
        .await
        .unwrap();
    let again = store
        .begin_turn(&NewTurn {
            owner: &owner,
            conversation_id: Some(&turn.conversation),
            new_conversation_id: &id(),
            title: "",
            message_id: &id(),
            content: "x",
            retry_of: None,
            at: later,
        })
        .await
        .unwrap();
    let Begin::Started(again) = again else {
        panic!("{again:?}");
    };
    assert_eq!(again.upstream_conversation_id.as_deref(), Some("up-c1"));

    // The upstream failed before answering: the question stays, marked failed.
    store
        .finish_turn(&TurnEnd {
            conversation_id: &second.conversation,
            user_message_id: &second.user_message,
            user_status: MessageStatus::Failed,
            reply: None,
            upstream_conversation_id: None,
            upstream_message_id: None,
            at: later,
        })
        .await
        .unwrap();
    // A stream cut half way: the partial answer is kept as incomplete.
    let cut = start(
        store,
        &owner,
        Some(&turn.conversation),
        "long please",
        later,
    )
    .await
    .unwrap();
    let partial_id = id();
    store
        .finish_turn(&TurnEnd {
            conversation_id: &cut.conversation,
            user_message_id: &cut.user_message,
            user_status: MessageStatus::Complete,
            reply: Some(StoredReply {
                message_id: &partial_id,
                content: "Once upon a",
                status: MessageStatus::Incomplete,
            }),
            upstream_conversation_id: Some("up-c1"),
            upstream_message_id: Some("up-m3"),
            at: later,
        })
        .await
        .unwrap();
    let msgs = store
        .list_messages(Scope::Owner(&owner), &turn.conversation, ALL)
        .await
        .unwrap()
        .unwrap();
    let summary: Vec<_> = msgs
        .iter()
        .map(|m| (m.role, m.status, m.content.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Role::User, MessageStatus::Complete, "Hello 한국어 😀"),
            (Role::Assistant, MessageStatus::Complete, "Hi!"),
            (Role::User, MessageStatus::Failed, "and then?"),
            (Role::User, MessageStatus::Complete, "x"),
            (Role::User, MessageStatus::Complete, "long please"),
            (Role::Assistant, MessageStatus::Incomplete, "Once upon a"),
        ]
    );
}

async fn ownership_is_enforced(store: &dyn Store) {
    let alice = who("own", "alice");
    let bob = who("own", "bob");
    let other_system = who("other", "alice");
    let turn = start(store, &alice, None, "mine", t0()).await.unwrap();
    for intruder in [&bob, &other_system] {
        assert!(
            start(store, intruder, Some(&turn.conversation), "x", t0())
                .await
                .is_none()
        );
        assert!(
            store
                .get_conversation(Scope::Owner(intruder), &turn.conversation)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .list_messages(Scope::Owner(intruder), &turn.conversation, ALL)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .rename_conversation(intruder, &turn.conversation, "hijack", t0())
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            !store
                .delete_conversation(intruder, &turn.conversation)
                .await
                .unwrap()
        );
        assert!(
            store
                .list_conversations(intruder, ALL)
                .await
                .unwrap()
                .iter()
                .all(|c| c.id != turn.conversation)
        );
    }
    assert!(
        start(store, &alice, Some(&id()), "unknown", t0())
            .await
            .is_none()
    );
    // Only the intruders' attempts were refused: nothing was written.
    let msgs = store
        .list_messages(Scope::Owner(&alice), &turn.conversation, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(msgs.len(), 1);
}

async fn listing_order_and_pages(store: &dyn Store) {
    let owner = who("pages", "u");
    let mut ids = Vec::new();
    for i in 0..5 {
        let turn = start(
            store,
            &owner,
            None,
            &format!("c{i}"),
            t0() + Duration::seconds(i),
        )
        .await
        .unwrap();
        ids.push(turn.conversation);
    }
    // Activity moves a conversation to the top.
    start(
        store,
        &owner,
        Some(&ids[1]),
        "bump",
        t0() + Duration::seconds(60),
    )
    .await
    .unwrap();
    let listed: Vec<_> = store
        .list_conversations(&owner, ALL)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        listed,
        vec![
            ids[1].clone(),
            ids[4].clone(),
            ids[3].clone(),
            ids[2].clone(),
            ids[0].clone()
        ]
    );

    let first = store
        .list_conversations(
            &owner,
            PageRequest {
                limit: 2,
                before: None,
            },
        )
        .await
        .unwrap();
    let next = store
        .list_conversations(
            &owner,
            PageRequest {
                limit: 2,
                before: Some(&first[1].id),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        listed[2..4]
    );
    assert!(
        store
            .list_conversations(
                &owner,
                PageRequest {
                    limit: 2,
                    before: Some(&id())
                }
            )
            .await
            .unwrap()
            .is_empty()
    );

    // Messages: newest page first, each page in chronological order.
    let conv = &ids[0];
    for i in 0..6 {
        start(store, &owner, Some(conv), &format!("m{i}"), t0())
            .await
            .unwrap();
    }
    let last3 = store
        .list_messages(
            Scope::Owner(&owner),
            conv,
            PageRequest {
                limit: 3,
                before: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        last3.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["m3", "m4", "m5"]
    );
    let older = store
        .list_messages(
            Scope::Owner(&owner),
            conv,
            PageRequest {
                limit: 3,
                before: Some(&last3[0].id),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        older.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["m0", "m1", "m2"]
    );
}

async fn rename_and_delete(store: &dyn Store) {
    let owner = who("edit", "u");
    let turn = start(store, &owner, None, "old title", t0()).await.unwrap();
    answer(store, &turn, "reply", ("up-edit", "m-edit"), t0()).await;
    let later = t0() + Duration::minutes(5);
    let renamed = store
        .rename_conversation(&owner, &turn.conversation, "New title", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (renamed.title.as_str(), renamed.updated_at),
        ("New title", later)
    );
    assert!(
        store
            .delete_conversation(&owner, &turn.conversation)
            .await
            .unwrap()
    );
    assert!(
        store
            .get_conversation(Scope::Any, &turn.conversation)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_messages(Scope::Any, &turn.conversation, ALL)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .delete_conversation(&owner, &turn.conversation)
            .await
            .unwrap()
    );
}

async fn visits_and_sync_targets(store: &dyn Store) {
    let visitor = who("visit", "only-visited");
    store.record_visit(&visitor, t0()).await.unwrap();
    store
        .record_visit(&visitor, t0() + Duration::hours(1))
        .await
        .unwrap();
    let targets = store.sync_targets().await.unwrap();
    assert_eq!(targets.iter().filter(|t| **t == visitor).count(), 1);
    assert!(
        targets.contains(&who("drillquiz", "12345")),
        "conversation owners too"
    );
}

async fn import_is_idempotent(store: &dyn Store) {
    let owner = who("sync", "u");
    let conversation = UpstreamConversation {
        id: "up-sync-1".into(),
        name: "Imported".into(),
        created_at: Some(t0()),
    };
    let turns = vec![
        UpstreamMessage {
            id: "t1".into(),
            query: Some("q1".into()),
            answer: Some("a1".into()),
            created_at: Some(t0()),
        },
        UpstreamMessage {
            id: "t2".into(),
            query: Some("q2".into()),
            answer: None,
            created_at: Some(t0() + Duration::seconds(1)),
        },
    ];
    let first = store
        .import_conversation(&owner, &conversation, &turns, t0())
        .await
        .unwrap();
    assert_eq!(
        first,
        ImportCounts {
            conversations: 1,
            messages: 3
        }
    );
    let again = store
        .import_conversation(&owner, &conversation, &turns, t0())
        .await
        .unwrap();
    assert_eq!(again, ImportCounts::default());
    let renamed = UpstreamConversation {
        name: "Renamed upstream".into(),
        ..conversation.clone()
    };
    let third = store
        .import_conversation(&owner, &renamed, &turns, t0())
        .await
        .unwrap();
    assert_eq!(
        third,
        ImportCounts {
            conversations: 1,
            messages: 0
        }
    );

    let listed = store.list_conversations(&owner, ALL).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title, "Renamed upstream");
    let msgs = store
        .list_messages(Scope::Owner(&owner), &listed[0].id, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        msgs.iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (Role::User, "q1"),
            (Role::Assistant, "a1"),
            (Role::User, "q2")
        ]
    );

    // A turn recorded live (with upstream ids) is not imported a second time.
    let live = start(store, &owner, Some(&listed[0].id), "q3", t0())
        .await
        .unwrap();
    answer(store, &live, "a3", ("up-sync-1", "t3"), t0()).await;
    let with_live = [
        turns.clone(),
        vec![UpstreamMessage {
            id: "t3".into(),
            query: Some("q3".into()),
            answer: Some("a3".into()),
            created_at: None,
        }],
    ]
    .concat();
    let fourth = store
        .import_conversation(&owner, &renamed, &with_live, t0())
        .await
        .unwrap();
    assert_eq!(fourth, ImportCounts::default());
}

async fn operator_search(store: &dyn Store) {
    let early = who("search", "a");
    let late = who("search", "b");
    start(store, &early, None, "early", t0() - Duration::days(10))
        .await
        .unwrap();
    start(store, &late, None, "late", t0() + Duration::days(10))
        .await
        .unwrap();
    let by_system = store
        .search_conversations(ConversationFilter {
            system_id: Some("search"),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_system
            .iter()
            .map(|c| c.title.as_str())
            .collect::<Vec<_>>(),
        ["late", "early"]
    );
    let in_range = store
        .search_conversations(ConversationFilter {
            system_id: Some("search"),
            from: Some(t0() - Duration::days(1)),
            to: Some(t0() + Duration::days(11)),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        in_range
            .iter()
            .map(|c| c.title.as_str())
            .collect::<Vec<_>>(),
        ["late"]
    );
    let by_user = store
        .search_conversations(ConversationFilter {
            user_id: Some("a"),
            system_id: Some("search"),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_user.len(), 1);
    let paged = store
        .search_conversations(ConversationFilter {
            system_id: Some("search"),
            limit: 100,
            before: Some(&by_system[0].id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        paged.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
        ["early"]
    );
}

async fn deleted_while_answering(store: &dyn Store) {
    let owner = who("gone", "u");
    let turn = start(store, &owner, None, "question", t0()).await.unwrap();
    assert!(
        store
            .delete_conversation(&owner, &turn.conversation)
            .await
            .unwrap()
    );
    // The answer arrives after the user deleted the conversation: nothing is
    // stored and nothing fails.
    answer(store, &turn, "late answer", ("up-gone", "m-gone"), t0()).await;
    assert!(
        store
            .get_conversation(Scope::Any, &turn.conversation)
            .await
            .unwrap()
            .is_none()
    );
}

async fn retrying_a_failed_message(store: &dyn Store) {
    let owner = who("retry", "u");
    let first = start(store, &owner, None, "question", t0()).await.unwrap();
    store
        .finish_turn(&TurnEnd {
            conversation_id: &first.conversation,
            user_message_id: &first.user_message,
            user_status: MessageStatus::Failed,
            reply: None,
            upstream_conversation_id: None,
            upstream_message_id: None,
            at: t0(),
        })
        .await
        .unwrap();
    let retry_of = first.user_message.as_str();
    // The failed message is reused, not stored again.
    let Begin::Started(started) = retry(store, &owner, &first.conversation, retry_of).await else {
        panic!("retry refused");
    };
    assert_eq!(started.user_message_id, first.user_message);
    let turn = Turn {
        conversation: first.conversation.clone(),
        user_message: started.user_message_id,
    };
    answer(store, &turn, "an answer", ("up-retry", "m-retry"), t0()).await;
    let msgs = store
        .list_messages(Scope::Owner(&owner), &first.conversation, ALL)
        .await
        .unwrap()
        .unwrap();
    let summary: Vec<_> = msgs
        .iter()
        .map(|m| (m.role, m.status, m.content.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Role::User, MessageStatus::Complete, "question, edited"),
            (Role::Assistant, MessageStatus::Complete, "an answer"),
        ]
    );
    // An answered message is asked again as a new one.
    let Begin::Started(again) = retry(store, &owner, &first.conversation, retry_of).await else {
        panic!("retry refused");
    };
    assert_ne!(again.user_message_id, first.user_message);
    // A message of another conversation is not a retry target.
    let other = start(store, &owner, None, "elsewhere", t0()).await.unwrap();
    assert_eq!(
        retry(store, &owner, &other.conversation, retry_of).await,
        Begin::RetryTargetNotFound
    );
}

/// Begin a turn that retries `retry_of` in `conversation`.
async fn retry(store: &dyn Store, owner: &Identity, conversation: &str, retry_of: &str) -> Begin {
    store
        .begin_turn(&NewTurn {
            owner,
            conversation_id: Some(conversation),
            new_conversation_id: &id(),
            title: "",
            message_id: &id(),
            content: "question, edited",
            retry_of: Some(retry_of),
            at: t0(),
        })
        .await
        .unwrap()
}
