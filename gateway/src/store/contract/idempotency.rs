//! Idempotency keys, as every store keeps them.

use super::*;
use crate::store::idempotency::{Claim, KeptResult, KeyClaim, KeyOutcome, KeyRef};

fn claim<'a>(scope: &'a str, key: &'a str, body_hash: &'a str, at: OffsetDateTime) -> KeyClaim<'a> {
    KeyClaim {
        scope,
        key,
        body_hash,
        at,
        forget_before: at - Duration::hours(24),
    }
}

pub(super) async fn a_key_has_one_winner_and_keeps_its_result(store: &dyn Store) {
    let (scope, other_scope) = ("scope-a", "scope-b");
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, "k1", "h1", t0()))
            .await
            .unwrap(),
        Claim::Claimed
    );
    // The same request again while the first runs; another request body.
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, "k1", "h1", t0()))
            .await
            .unwrap(),
        Claim::Running
    );
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, "k1", "h2", t0()))
            .await
            .unwrap(),
        Claim::Reused
    );
    // Another caller's key of the same name is its own.
    assert_eq!(
        store
            .claim_idempotency_key(&claim(other_scope, "k1", "h2", t0()))
            .await
            .unwrap(),
        Claim::Claimed
    );

    // The turn answers; the key points to the stored answer.
    let owner = who("idem", "u");
    let turn = start(store, &owner, None, "question", t0()).await.unwrap();
    let reply = answer(store, &turn, "the answer", ("up-c", "up-m"), t0()).await;
    let finished = t0() + Duration::seconds(3);
    let key = KeyRef { scope, key: "k1" };
    store
        .finish_idempotency_key(
            &key,
            &KeyOutcome::Answered {
                conversation_id: &turn.conversation,
                user_message_id: &turn.user_message,
                message_id: &reply,
            },
            finished,
        )
        .await
        .unwrap();
    let later = t0() + Duration::hours(23);
    let Claim::Done(KeptResult::Answered(kept)) = store
        .claim_idempotency_key(&claim(scope, "k1", "h1", later))
        .await
        .unwrap()
    else {
        panic!("a finished key replays its answer");
    };
    assert_eq!(
        (
            kept.conversation_id.as_str(),
            kept.user_message_id.as_str(),
            kept.message_id.as_str(),
            kept.content.as_str(),
            kept.prompt_tokens,
            kept.finished_at
        ),
        (
            turn.conversation.as_str(),
            turn.user_message.as_str(),
            reply.as_str(),
            "the answer",
            None,
            finished
        )
    );
    // Still another body's key, finished or not.
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, "k1", "h2", later))
            .await
            .unwrap(),
        Claim::Reused
    );

    // A refusal is kept as it was sent.
    let refused = KeyRef {
        scope: other_scope,
        key: "k1",
    };
    store
        .finish_idempotency_key(
            &refused,
            &KeyOutcome::Refused {
                status: 502,
                body: r#"{"error":{"code":"upstream_error"}}"#,
            },
            finished,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(other_scope, "k1", "h2", later))
            .await
            .unwrap(),
        Claim::Done(KeptResult::Refused {
            status: 502,
            body: r#"{"error":{"code":"upstream_error"}}"#.into(),
            finished_at: finished,
        })
    );

    // A released key is free again; finishing a key not held changes nothing.
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, "k2", "h1", t0()))
            .await
            .unwrap(),
        Claim::Claimed
    );
    store
        .release_idempotency_key(&KeyRef { scope, key: "k2" })
        .await
        .unwrap();
    store
        .finish_idempotency_key(
            &KeyRef { scope, key: "k2" },
            &KeyOutcome::Refused {
                status: 500,
                body: "{}",
            },
            finished,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, "k2", "h9", t0()))
            .await
            .unwrap(),
        Claim::Claimed
    );

    // A key whose answer was deleted with its conversation has nothing to
    // replay: the next request runs.
    assert!(
        store
            .delete_conversation(&owner, &turn.conversation)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, "k1", "h1", later))
            .await
            .unwrap(),
        Claim::Claimed
    );

    // 24 hours after a key finished it is forgotten: any body may use it.
    let day_after = finished + Duration::hours(24) + Duration::seconds(1);
    assert_eq!(
        store
            .claim_idempotency_key(&claim(other_scope, "k1", "h3", day_after))
            .await
            .unwrap(),
        Claim::Claimed
    );
}

/// `store` claims a key and holds it running. Returns the key.
pub(crate) async fn hold_key(store: &dyn Store) -> (&'static str, &'static str) {
    let (scope, key) = ("crash-scope", "crash-key");
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, key, "h", t0()))
            .await
            .unwrap(),
        Claim::Claimed
    );
    assert_still_held(store, (scope, key)).await;
    (scope, key)
}

/// The key is running: the same request must wait.
pub(crate) async fn assert_still_held(store: &dyn Store, (scope, key): (&str, &str)) {
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, key, "h", t0()))
            .await
            .unwrap(),
        Claim::Running
    );
}

/// Once the process that claimed the key is gone, the next request with
/// it wins the key, once.
pub(crate) async fn assert_taken_over(store: &dyn Store, (scope, key): (&str, &str)) {
    assert_eq!(
        store
            .claim_idempotency_key(&claim(scope, key, "h", t0()))
            .await
            .unwrap(),
        Claim::Claimed
    );
    assert_still_held(store, (scope, key)).await;
}
