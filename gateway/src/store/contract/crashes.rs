//! Turns cut by a crash: the process answering died between
//! [`TurnStore::begin_turn`](crate::store::TurnStore::begin_turn) and
//! [`TurnStore::finish_turn`](crate::store::TurnStore::finish_turn). Each backend's tests
//! start such a turn with [`leave_open`], make its process go away (reopen
//! the SQLite file; let a PostgreSQL replica's heartbeat expire), and check
//! the store that opens next with [`assert_failed_and_retried`].

use sdk::{MessageStatus, Role};

use super::seed::{Turn, answer, assert_messages, retry, start, t0, who};
use crate::identity::Identity;
use crate::store::{Begin, Store};

/// The owner of the turns in this file.
fn owner() -> Identity {
    who("crash", "u")
}

/// Begin a turn and never finish it, as a process killed mid-answer.
pub(crate) async fn leave_open(store: &dyn Store) -> (String, String) {
    let turn = start(store, &owner(), None, "question", t0())
        .await
        .expect("a new conversation starts");
    (turn.conversation, turn.user_message)
}

/// The question of the cut turn is `failed`, so the client offers Retry,
/// and the retry reuses it rather than storing it a second time.
pub(crate) async fn assert_failed_and_retried(store: &dyn Store, open: &(String, String)) {
    let (conversation, question) = open;
    assert_messages(
        store,
        &owner(),
        conversation,
        &[(Role::User, MessageStatus::Failed, "question")],
    )
    .await;
    let Begin::Started(started) = retry(store, &owner(), conversation, question).await else {
        panic!("retry refused");
    };
    assert_eq!(&started.user_message_id, question);
    let turn = Turn {
        conversation: conversation.clone(),
        user_message: started.user_message_id,
    };
    answer(store, &turn, "an answer", ("up-crash", "m-crash"), t0()).await;
    assert_messages(
        store,
        &owner(),
        conversation,
        &[
            (Role::User, MessageStatus::Complete, "question, edited"),
            (Role::Assistant, MessageStatus::Complete, "an answer"),
        ],
    )
    .await;
}

/// An open turn of a process that is still running is left alone.
pub(crate) async fn assert_still_open(store: &dyn Store, open: &(String, String)) {
    assert_messages(
        store,
        &owner(),
        &open.0,
        &[(Role::User, MessageStatus::Complete, "question")],
    )
    .await;
}
