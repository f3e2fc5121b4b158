//! Feedback on answers: only the owner's assistant messages, one per
//! message (the latest wins), listed with the conversation, cleared by
//! `None`, gone with the conversation.

use sdk::Rating;

use super::*;
use crate::store::feedback::{FeedbackChange, FeedbackOutcome, FeedbackSaved};

async fn rate(
    store: &dyn Store,
    owner: &Identity,
    message_id: &str,
    rating: Option<Rating>,
    comment: Option<&str>,
    at: OffsetDateTime,
) -> FeedbackOutcome {
    store
        .set_feedback(&FeedbackChange {
            owner,
            message_id,
            rating,
            comment,
            at,
        })
        .await
        .unwrap()
}

pub(super) async fn feedback_on_answers(store: &dyn Store) {
    let owner = who("feedback", "f1");
    let turn = start(store, &owner, None, "question", t0()).await.unwrap();
    let answer_id = answer(store, &turn, "answer", ("up-fb", "dify-msg-1"), t0()).await;

    // Someone else's answer, a missing one and the user's own message.
    let stranger = who("feedback", "f2");
    let like = Some(Rating::Like);
    assert_eq!(
        rate(store, &stranger, &answer_id, like, None, t0()).await,
        FeedbackOutcome::MessageNotFound
    );
    let other_system = who("elsewhere", "f1");
    assert_eq!(
        rate(store, &other_system, &answer_id, like, None, t0()).await,
        FeedbackOutcome::MessageNotFound
    );
    assert_eq!(
        rate(store, &owner, &id(), like, None, t0()).await,
        FeedbackOutcome::MessageNotFound
    );
    assert_eq!(
        rate(store, &owner, &turn.user_message, like, None, t0()).await,
        FeedbackOutcome::NotAnAnswer
    );
    assert!(
        store
            .conversation_feedback(&turn.conversation)
            .await
            .unwrap()
            .is_empty(),
        "refused feedback stores nothing"
    );

    // Given, then replaced: one row, the latest.
    let t1 = t0() + Duration::seconds(5);
    let FeedbackOutcome::Saved(saved) =
        rate(store, &owner, &answer_id, like, Some("clear"), t0()).await
    else {
        panic!("not saved");
    };
    assert_eq!(saved.upstream_message_id.as_deref(), Some("dify-msg-1"));
    assert_eq!(saved.agent, None);
    let FeedbackOutcome::Saved(FeedbackSaved {
        feedback: Some(latest),
        ..
    }) = rate(
        store,
        &owner,
        &answer_id,
        Some(Rating::Dislike),
        Some("wrong year"),
        t1,
    )
    .await
    else {
        panic!("not saved");
    };
    assert_eq!(latest.rating, Rating::Dislike);
    assert_eq!(latest.comment.as_deref(), Some("wrong year"));
    assert_eq!(latest.updated_at, t1);
    let listed = store
        .conversation_feedback(&turn.conversation)
        .await
        .unwrap();
    assert_eq!(listed, vec![(answer_id.clone(), latest.clone())]);
    assert_eq!(
        store.message_feedback(&answer_id).await.unwrap(),
        Some(latest)
    );

    // A rating without a comment drops the old comment.
    let FeedbackOutcome::Saved(FeedbackSaved {
        feedback: Some(bare),
        ..
    }) = rate(store, &owner, &answer_id, like, None, t1).await
    else {
        panic!("not saved");
    };
    assert_eq!((bare.rating, bare.comment), (Rating::Like, None));

    // Cleared: nothing listed, and clearing again is no error.
    for _ in 0..2 {
        let cleared = rate(store, &owner, &answer_id, None, Some("ignored"), t1).await;
        let FeedbackOutcome::Saved(cleared) = cleared else {
            panic!("not cleared");
        };
        assert_eq!(cleared.feedback, None);
        assert_eq!(store.message_feedback(&answer_id).await.unwrap(), None);
    }

    // Deleting the conversation deletes its feedback.
    rate(store, &owner, &answer_id, like, None, t1).await;
    assert!(
        store
            .delete_conversation(&owner, &turn.conversation)
            .await
            .unwrap()
    );
    assert_eq!(store.message_feedback(&answer_id).await.unwrap(), None);
    assert_eq!(
        rate(store, &owner, &answer_id, like, None, t1).await,
        FeedbackOutcome::MessageNotFound
    );
}
