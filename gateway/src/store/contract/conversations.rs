//! A conversation's life through the chat API: turns and their outcomes,
//! ownership, a delete while answering, and retrying a failed message. Run
//! by [`super::run`].

use sdk::{MessageStatus, Role};
use time::Duration;

use super::seed::{ALL, Turn, answer, assert_messages, id, retry, start, t0, who};
use crate::store::{Begin, NewTurn, Scope, Store, StoredReply, TurnEnd};

pub(super) async fn turns_and_outcomes(store: &dyn Store) {
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
            agent: None,
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
                metrics: Default::default(),
            }),
            upstream_conversation_id: Some("up-c1"),
            upstream_message_id: Some("up-m3"),
            at: later,
        })
        .await
        .unwrap();
    assert_messages(
        store,
        &owner,
        &turn.conversation,
        &[
            (Role::User, MessageStatus::Complete, "Hello 한국어 😀"),
            (Role::Assistant, MessageStatus::Complete, "Hi!"),
            (Role::User, MessageStatus::Failed, "and then?"),
            (Role::User, MessageStatus::Complete, "x"),
            (Role::User, MessageStatus::Complete, "long please"),
            (Role::Assistant, MessageStatus::Incomplete, "Once upon a"),
        ],
    )
    .await;
}

pub(super) async fn ownership_is_enforced(store: &dyn Store) {
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

pub(super) async fn deleted_while_answering(store: &dyn Store) {
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

pub(super) async fn retrying_a_failed_message(store: &dyn Store) {
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
    assert_messages(
        store,
        &owner,
        &first.conversation,
        &[
            (Role::User, MessageStatus::Complete, "question, edited"),
            (Role::Assistant, MessageStatus::Complete, "an answer"),
        ],
    )
    .await;
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
