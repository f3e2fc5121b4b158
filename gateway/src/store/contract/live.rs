//! Answers still being streamed: a partial is found by its owner only,
//! moves with each write, gives way to the stored message when the turn
//! finishes (even before it is dropped), and goes with its conversation.

use super::*;
use crate::store::live::{AnswerProgress, AnswerState, PartialAnswer};

async fn save(store: &dyn Store, turn: &Turn, message_id: &str, content: &str, at: OffsetDateTime) {
    store
        .save_partial(&PartialAnswer {
            conversation_id: &turn.conversation,
            message_id,
            user_message_id: &turn.user_message,
            content,
            at,
        })
        .await
        .unwrap();
}

async fn progress(
    store: &dyn Store,
    owner: &Identity,
    conversation: &str,
    message_id: &str,
) -> Option<AnswerProgress> {
    store
        .answer_progress(Scope::Owner(owner), conversation, message_id)
        .await
        .unwrap()
}

pub(super) async fn partials_until_the_turn_finishes(store: &dyn Store) {
    let owner = who("live", "l1");
    let turn = start(store, &owner, None, "question", t0()).await.unwrap();
    let reply = id();
    assert_eq!(
        progress(store, &owner, &turn.conversation, &reply).await,
        None
    );

    save(store, &turn, &reply, "", t0()).await;
    let later = t0() + Duration::seconds(1);
    save(store, &turn, &reply, "Hello, wor", later).await;
    assert_eq!(
        progress(store, &owner, &turn.conversation, &reply).await,
        Some(AnswerProgress {
            role: Role::Assistant,
            user_message_id: Some(turn.user_message.clone()),
            content: "Hello, wor".into(),
            state: AnswerState::Streaming { updated_at: later },
        })
    );
    // Someone else, or the wrong conversation, sees nothing; an operator does.
    assert_eq!(
        progress(store, &who("live", "l2"), &turn.conversation, &reply).await,
        None
    );
    assert_eq!(progress(store, &owner, &id(), &reply).await, None);
    let any = store
        .answer_progress(Scope::Any, &turn.conversation, &reply)
        .await
        .unwrap();
    assert_eq!(any.map(|p| p.content), Some("Hello, wor".to_owned()));

    // The question is a message, but not an answer.
    let question = progress(store, &owner, &turn.conversation, &turn.user_message)
        .await
        .unwrap();
    assert_eq!(question.role, Role::User);

    // The finished turn wins over its partial, which is then dropped.
    store
        .finish_turn(&TurnEnd {
            conversation_id: &turn.conversation,
            user_message_id: &turn.user_message,
            user_status: MessageStatus::Complete,
            reply: Some(StoredReply {
                message_id: &reply,
                content: "Hello, world",
                status: MessageStatus::Complete,
                metrics: Default::default(),
            }),
            upstream_conversation_id: None,
            upstream_message_id: None,
            at: later,
        })
        .await
        .unwrap();
    let done = AnswerProgress {
        role: Role::Assistant,
        user_message_id: Some(turn.user_message.clone()),
        content: "Hello, world".into(),
        state: AnswerState::Finished(MessageStatus::Complete),
    };
    assert_eq!(
        progress(store, &owner, &turn.conversation, &reply).await,
        Some(done.clone())
    );
    store.drop_partial(&reply).await.unwrap();
    assert_eq!(
        progress(store, &owner, &turn.conversation, &reply).await,
        Some(done)
    );

    // A partial goes with its conversation, and none is written after.
    let second = start(store, &owner, None, "another", t0()).await.unwrap();
    let cut = id();
    save(store, &second, &cut, "half", t0()).await;
    assert!(
        store
            .delete_conversation(&owner, &second.conversation)
            .await
            .unwrap()
    );
    save(store, &second, &cut, "half more", later).await;
    assert_eq!(
        store
            .answer_progress(Scope::Any, &second.conversation, &cut)
            .await
            .unwrap(),
        None
    );
}
