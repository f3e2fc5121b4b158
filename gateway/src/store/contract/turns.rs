//! Turns sharing one upstream conversation (`store/turns.rs`): which turn
//! may start the upstream conversation, ids recorded before a turn ends,
//! and a sync that finds the upstream's copy of a turn a crash cut. Run by
//! [`super::run`].

use sdk::{MessageStatus, Role};

use super::seed::{ALL, Turn, assert_messages, start, t0, who};
use crate::identity::Identity;
use crate::store::{
    ConversationRoute, ImportedConversation, ImportedTurn, NewTurn, Scope, Store, StoredReply,
    TurnEnd, UpstreamClaim, UpstreamIds,
};

async fn claim(store: &dyn Store, turn: &Turn) -> UpstreamClaim {
    store
        .upstream_claim(&turn.conversation, &turn.user_message)
        .await
        .unwrap()
}

async fn record(store: &dyn Store, turn: &Turn, conversation: Option<&str>, message: &str) {
    store
        .record_upstream_ids(&UpstreamIds {
            conversation_id: &turn.conversation,
            user_message_id: &turn.user_message,
            upstream_conversation_id: conversation,
            upstream_message_id: Some(message),
        })
        .await
        .unwrap();
}

/// End `turn` as a turn whose upstream never answered (or, after a crash,
/// as the store marks it).
async fn fail(store: &dyn Store, turn: &Turn, partial: Option<&str>) {
    let reply_id = super::seed::id();
    store
        .finish_turn(&TurnEnd {
            conversation_id: &turn.conversation,
            user_message_id: &turn.user_message,
            user_status: if partial.is_some() {
                MessageStatus::Complete
            } else {
                MessageStatus::Failed
            },
            reply: partial.map(|content| StoredReply {
                message_id: &reply_id,
                content,
                status: MessageStatus::Incomplete,
                metrics: Default::default(),
            }),
            upstream_conversation_id: None,
            upstream_message_id: None,
            at: t0(),
        })
        .await
        .unwrap();
}

pub(super) async fn the_earliest_open_turn_starts_the_upstream_conversation(store: &dyn Store) {
    let owner = who("claims", "u");
    let first = start(store, &owner, None, "first", t0()).await.unwrap();
    let second = start(store, &owner, Some(&first.conversation), "second", t0())
        .await
        .unwrap();
    let third = start(store, &owner, Some(&first.conversation), "third", t0())
        .await
        .unwrap();
    assert_eq!(claim(store, &first).await, UpstreamClaim::Free);
    assert_eq!(claim(store, &second).await, UpstreamClaim::Pending);
    assert_eq!(claim(store, &third).await, UpstreamClaim::Pending);

    // The first fails before the upstream named the conversation: the
    // second (the earliest left) goes, the third still waits.
    fail(store, &first, None).await;
    assert_eq!(claim(store, &second).await, UpstreamClaim::Free);
    assert_eq!(claim(store, &third).await, UpstreamClaim::Pending);

    // The second learns the upstream's id while still answering.
    record(store, &second, Some("up-claims"), "m-second").await;
    assert_eq!(
        claim(store, &third).await,
        UpstreamClaim::Known("up-claims".into())
    );
    let stored = store
        .get_conversation(Scope::Owner(&owner), &first.conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.upstream_conversation_id.as_deref(),
        Some("up-claims")
    );

    // An id another conversation of the owner holds is not taken twice.
    let other = start(store, &owner, None, "other", t0()).await.unwrap();
    record(store, &other, Some("up-claims"), "m-other").await;
    let other = store
        .get_conversation(Scope::Owner(&owner), &other.conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.upstream_conversation_id, None);
}

pub(super) async fn a_conversations_route_is_read_for_its_owner_only(store: &dyn Store) {
    let owner = who("routes", "u");
    let plain = start(store, &owner, None, "plain", t0()).await.unwrap();
    let route = |id: String, owner: Identity| async move {
        store.conversation_route(&owner, &id).await.unwrap()
    };
    assert_eq!(
        route(plain.conversation.clone(), owner.clone()).await,
        Some(ConversationRoute {
            agent: None,
            upstream_conversation_id: None
        })
    );
    record(store, &plain, Some("up-routes"), "m-plain").await;
    assert_eq!(
        route(plain.conversation.clone(), owner.clone())
            .await
            .and_then(|r| r.upstream_conversation_id)
            .as_deref(),
        Some("up-routes")
    );

    let (bound, message) = (super::seed::id(), super::seed::id());
    store
        .begin_turn(&NewTurn {
            owner: &owner,
            conversation_id: None,
            new_conversation_id: &bound,
            title: "bound",
            message_id: &message,
            content: "bound",
            retry_of: None,
            agent: Some("tutor"),
            at: t0(),
        })
        .await
        .unwrap();
    assert_eq!(
        route(bound.clone(), owner.clone()).await,
        Some(ConversationRoute {
            agent: Some("tutor".into()),
            upstream_conversation_id: None
        })
    );

    // Another user of the system, another system, and no conversation at all.
    assert_eq!(route(bound.clone(), who("routes", "other")).await, None);
    assert_eq!(route(bound, who("elsewhere", "u")).await, None);
    assert_eq!(route(super::seed::id(), owner).await, None);
}

/// Import the upstream's copy of `owner`'s conversation `up`: one turn,
/// `question` answered with `answer`.
async fn import(store: &dyn Store, owner: &Identity, up: &str, turns: &[(&str, &str, &str)]) {
    let conversation = ImportedConversation {
        id: up.into(),
        name: String::new(),
        created_at: Some(t0()),
    };
    let turns: Vec<ImportedTurn> = turns
        .iter()
        .map(|(id, q, a)| ImportedTurn {
            id: (*id).into(),
            query: Some((*q).into()),
            answer: Some((*a).into()),
            created_at: Some(t0()),
        })
        .collect();
    for _ in 0..2 {
        store
            .import_conversation(owner, &conversation, &turns, t0())
            .await
            .unwrap();
    }
}

async fn conversations(store: &dyn Store, owner: &Identity) -> Vec<(String, Option<String>)> {
    store
        .list_conversations(owner, ALL)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c.upstream_conversation_id))
        .collect()
}

pub(super) async fn a_sync_completes_turns_a_crash_cut(store: &dyn Store) {
    // Cut before the upstream named anything: matched by the question.
    let owner = who("cut", "before-ids");
    let turn = start(store, &owner, None, "question", t0()).await.unwrap();
    fail(store, &turn, None).await;
    import(
        store,
        &owner,
        "up-cut-1",
        &[("m1", "question", "the answer")],
    )
    .await;
    assert_eq!(
        conversations(store, &owner).await,
        [(turn.conversation.clone(), Some("up-cut-1".into()))],
        "the upstream conversation belongs to the conversation that started it"
    );
    assert_messages(
        store,
        &owner,
        &turn.conversation,
        &[
            (Role::User, MessageStatus::Complete, "question"),
            (Role::Assistant, MessageStatus::Complete, "the answer"),
        ],
    )
    .await;

    // Cut after the upstream named them: matched by the ids.
    let owner = who("cut", "after-ids");
    let turn = start(store, &owner, None, "question", t0()).await.unwrap();
    record(store, &turn, Some("up-cut-2"), "m2").await;
    fail(store, &turn, None).await;
    import(
        store,
        &owner,
        "up-cut-2",
        &[("m2", "question", "the answer")],
    )
    .await;
    assert_eq!(
        conversations(store, &owner).await,
        [(turn.conversation.clone(), Some("up-cut-2".into()))]
    );
    assert_messages(
        store,
        &owner,
        &turn.conversation,
        &[
            (Role::User, MessageStatus::Complete, "question"),
            (Role::Assistant, MessageStatus::Complete, "the answer"),
        ],
    )
    .await;

    // A later turn of a known conversation cut with part of its answer
    // stored: the part becomes the upstream's whole answer.
    let owner = who("cut", "partial");
    let first = start(store, &owner, None, "one", t0()).await.unwrap();
    super::seed::answer(store, &first, "first answer", ("up-cut-3", "m3a"), t0()).await;
    let second = start(store, &owner, Some(&first.conversation), "two", t0())
        .await
        .unwrap();
    fail(store, &second, Some("the ans")).await;
    import(
        store,
        &owner,
        "up-cut-3",
        &[("m3a", "one", "first answer"), ("m3b", "two", "the answer")],
    )
    .await;
    assert_eq!(conversations(store, &owner).await.len(), 1);
    assert_messages(
        store,
        &owner,
        &first.conversation,
        &[
            (Role::User, MessageStatus::Complete, "one"),
            (Role::Assistant, MessageStatus::Complete, "first answer"),
            (Role::User, MessageStatus::Complete, "two"),
            (Role::Assistant, MessageStatus::Complete, "the answer"),
        ],
    )
    .await;
}
