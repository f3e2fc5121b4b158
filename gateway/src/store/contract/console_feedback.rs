//! The console's feedback filter and each answer's feedback in the
//! transcript; the record of sync rounds for the status page.
//!
//! Everything here lives in system `cf`; the filter names it, so the other
//! cases' data does not count.

use sdk::Rating;

use super::*;
use crate::store::ImportCounts;
use crate::store::console::{ConsoleFilter, FeedbackFilter};
use crate::store::feedback::{FeedbackChange, FeedbackOutcome};

async fn rate(
    store: &dyn Store,
    owner: &Identity,
    message_id: &str,
    rating: Rating,
    comment: Option<&str>,
) {
    let outcome = store
        .set_feedback(&FeedbackChange {
            owner,
            message_id,
            rating: Some(rating),
            comment,
            at: t0(),
        })
        .await
        .unwrap();
    assert!(matches!(outcome, FeedbackOutcome::Saved(_)), "{outcome:?}");
}

fn rated(feedback: Option<FeedbackFilter>) -> ConsoleFilter {
    ConsoleFilter {
        system_id: Some("cf".into()),
        feedback,
        ..ConsoleFilter::default()
    }
}

async fn listed(store: &dyn Store, feedback: Option<FeedbackFilter>) -> Vec<String> {
    let filter = rated(feedback);
    let found = store
        .console_conversations(&filter, ALL)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record.id)
        .collect::<Vec<_>>();
    assert_eq!(
        store.console_count(&filter).await.unwrap(),
        found.len() as u64,
        "count agrees with the listing ({feedback:?})"
    );
    found
}

pub(super) async fn the_feedback_filter_and_the_transcript(store: &dyn Store) {
    let owner = who("cf", "u1");
    let mut conversations = Vec::new();
    let mut answers = Vec::new();
    for (i, text) in ["liked", "disliked", "commented like", "unrated"]
        .into_iter()
        .enumerate()
    {
        let at = t0() + Duration::seconds(i as i64);
        let turn = start(store, &owner, None, text, at).await.unwrap();
        let reply = answer(store, &turn, "answer", ("up-cf", &format!("cf-{i}")), at).await;
        conversations.push(turn.conversation);
        answers.push(reply);
    }
    let [liked, disliked, commented, unrated] = [0, 1, 2, 3].map(|i| conversations[i].as_str());
    rate(store, &owner, &answers[0], Rating::Like, None).await;
    rate(
        store,
        &owner,
        &answers[1],
        Rating::Dislike,
        Some("too vague"),
    )
    .await;
    rate(
        store,
        &owner,
        &answers[2],
        Rating::Like,
        Some("clear, thanks"),
    )
    .await;

    // Newest first, as every listing.
    assert_eq!(
        listed(store, None).await,
        [unrated, commented, disliked, liked]
    );
    assert_eq!(
        listed(store, Some(FeedbackFilter::Any)).await,
        [commented, disliked, liked]
    );
    assert_eq!(
        listed(store, Some(FeedbackFilter::Liked)).await,
        [commented, liked]
    );
    assert_eq!(
        listed(store, Some(FeedbackFilter::Disliked)).await,
        [disliked]
    );
    assert_eq!(
        listed(store, Some(FeedbackFilter::Commented)).await,
        [commented, disliked]
    );

    // A cleared rating no longer matches.
    store
        .set_feedback(&FeedbackChange {
            owner: &owner,
            message_id: &answers[1],
            rating: None,
            comment: None,
            at: t0(),
        })
        .await
        .unwrap();
    assert!(
        listed(store, Some(FeedbackFilter::Disliked))
            .await
            .is_empty()
    );
    rate(
        store,
        &owner,
        &answers[1],
        Rating::Dislike,
        Some("too vague"),
    )
    .await;

    // The transcript carries each answer's feedback, the questions none.
    let messages = store
        .console_messages(&[disliked.to_owned(), unrated.to_owned()])
        .await
        .unwrap();
    let shown: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                m.record.role,
                m.feedback
                    .as_ref()
                    .map(|f| (f.rating, f.comment.as_deref())),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (Role::User, None),
            (Role::Assistant, Some((Rating::Dislike, Some("too vague")))),
            (Role::User, None),
            (Role::Assistant, None),
        ]
    );
    assert_eq!(
        messages[1].feedback.as_ref().map(|f| f.updated_at),
        Some(t0())
    );
}

pub(super) async fn sync_rounds_are_recorded(store: &dyn Store) {
    assert!(store.sync_rounds(10).await.unwrap().is_empty());
    let lease = store.claim_sync_round(41).await.unwrap().expect("round 41");
    assert!(
        store.claim_sync_round(41).await.unwrap().is_none(),
        "a round runs once"
    );
    let running = store.sync_rounds(10).await.unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].round, 41);
    assert_eq!(running[0].finished_at, None);
    lease
        .finish(
            ImportCounts {
                conversations: 2,
                messages: 7,
            },
            1,
        )
        .await
        .unwrap();

    // A round whose run stopped without finishing stays unfinished.
    drop(store.claim_sync_round(42).await.unwrap().expect("round 42"));
    let rounds = store.sync_rounds(10).await.unwrap();
    let summary: Vec<_> = rounds
        .iter()
        .map(|r| {
            (
                r.round,
                r.finished_at.is_some(),
                r.conversations,
                r.messages,
                r.errors,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (42, false, None, None, None),
            (41, true, Some(2), Some(7), Some(1))
        ]
    );
    assert!(rounds[1].finished_at >= Some(rounds[1].started_at));
    assert_eq!(rounds[0].replica, rounds[1].replica, "one process ran both");
    assert_eq!(store.sync_rounds(1).await.unwrap().len(), 1);
}
