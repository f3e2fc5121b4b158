//! The behaviour every [`Store`] implementation must have. Each backend's
//! tests call [`run`] on a fresh, empty store.

mod agents;
mod console_feedback;
pub(crate) mod crashes;
mod feedback;
pub(crate) mod idempotency;
mod imports;
mod limits;
mod listings;
mod live;
mod operators;
mod races;
mod search;
mod systems;
mod turns;
mod usage;

use std::sync::Arc;

use sdk::{MessageStatus, Role};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::identity::Identity;

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
            agent: None,
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
                metrics: Default::default(),
            }),
            upstream_conversation_id: Some(upstream.0),
            upstream_message_id: Some(upstream.1),
            at,
        })
        .await
        .unwrap();
    reply_id
}

/// Assert the (role, status, text) of every message in `conversation`.
async fn assert_messages(
    store: &dyn Store,
    owner: &Identity,
    conversation: &str,
    expected: &[(Role, MessageStatus, &str)],
) {
    let msgs = store
        .list_messages(Scope::Owner(owner), conversation, ALL)
        .await
        .unwrap()
        .unwrap();
    let summary: Vec<_> = msgs
        .iter()
        .map(|m| (m.role, m.status, m.content.as_str()))
        .collect();
    assert_eq!(summary, expected);
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
    listings::order_and_pages(store).await;
    listings::rename_and_delete(store).await;
    deleted_while_answering(store).await;
    retrying_a_failed_message(store).await;
    imports::visits_and_sync_targets(store).await;
    imports::import_is_idempotent(store).await;
    listings::operator_search(store).await;
    agents::a_conversation_is_bound_to_its_agent(store).await;
    turns::the_earliest_open_turn_starts_the_upstream_conversation(store).await;
    turns::a_sync_completes_turns_a_crash_cut(store).await;
    feedback::feedback_on_answers(store).await;
    live::partials_until_the_turn_finishes(store).await;
    limits::revocations_are_kept_until_their_time(store).await;
    limits::token_use_adds_up_per_day(store).await;
    systems::systems_and_agents_round_trip(store).await;
    operators::operators_and_sessions(store).await;
    operators::failed_logins_are_counted_per_account_and_address(store).await;
    operators::keys_and_audit(store).await;
    console_feedback::the_feedback_filter_and_the_transcript(store).await;
    console_feedback::sync_rounds_are_recorded(store).await;
    idempotency::a_key_has_one_winner_and_keeps_its_result(store).await;
    // Last: it ends with a retention purge.
    search::console(store).await;
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
            agent: None,
            at: t0(),
        })
        .await
        .unwrap()
}
