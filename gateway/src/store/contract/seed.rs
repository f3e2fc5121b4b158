//! The steps the contract's cases share: ids, owners and times, a turn
//! begun, an answer stored, the messages a conversation should hold.

use sdk::{MessageStatus, Role};
use time::{Duration, OffsetDateTime};

use crate::identity::Identity;
use crate::store::{Begin, NewTurn, PageRequest, Scope, Store, StoredReply, TurnEnd};

pub(super) fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(super) fn who(system: &str, user: &str) -> Identity {
    Identity::parse(system, user).unwrap()
}

/// A fixed base time with millisecond precision (what stores keep).
pub(super) fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + Duration::milliseconds(123)
}

pub(super) struct Turn {
    pub(super) conversation: String,
    pub(super) user_message: String,
}

pub(super) async fn start(
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

pub(super) async fn answer(
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
pub(super) async fn assert_messages(
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

pub(super) const ALL: PageRequest<'static> = PageRequest {
    limit: 1000,
    before: None,
};

/// Begin a turn that retries `retry_of` in `conversation`.
pub(super) async fn retry(
    store: &dyn Store,
    owner: &Identity,
    conversation: &str,
    retry_of: &str,
) -> Begin {
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
