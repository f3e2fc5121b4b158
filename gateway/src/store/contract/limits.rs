//! Revoked tokens and daily token use, as every store keeps them.

use time::macros::date;

use super::*;

pub(super) async fn revocations_are_kept_until_their_time(store: &dyn Store) {
    assert_eq!(
        store.revocations(100).await.unwrap(),
        RevocationList::default()
    );
    store.revoke_token_id("j-old", 100, 200).await.unwrap();
    store.revoke_token_id("j-new", 100, 10_000).await.unwrap();
    // Twice is once.
    store.revoke_token_id("j-new", 150, 10_000).await.unwrap();
    let alice = who("rev", "alice");
    store
        .revoke_user_tokens(&alice, 500, 100, 9_000)
        .await
        .unwrap();
    // An earlier moment does not shorten a later revocation.
    store
        .revoke_user_tokens(&alice, 400, 120, 8_000)
        .await
        .unwrap();

    let mut listed = store.revocations(150).await.unwrap();
    listed.token_ids.sort();
    assert_eq!(listed.token_ids, ["j-new", "j-old"]);
    assert_eq!(
        listed.users,
        [UserRevocation {
            system_id: "rev".into(),
            user_id: "alice".into(),
            issued_before: 500,
        }]
    );
    // Past its time a revocation no longer counts, and a later write
    // forgets it.
    assert_eq!(store.revocations(300).await.unwrap().token_ids, ["j-new"]);
    store
        .revoke_user_tokens(&who("rev", "bob"), 9_500, 9_500, 20_000)
        .await
        .unwrap();
    let later = store.revocations(9_500).await.unwrap();
    assert_eq!(later.token_ids, ["j-new"]);
    assert_eq!(
        later.users.len(),
        1,
        "alice's revocation is over: {later:?}"
    );
    assert_eq!(later.users[0].user_id, "bob");
}

pub(super) async fn token_use_adds_up_per_day(store: &dyn Store) {
    let (day, next) = (date!(2026 - 03 - 01), date!(2026 - 03 - 02));
    let (a, b, other) = (who("use", "a"), who("use", "b"), who("use-2", "a"));
    assert_eq!(
        store.token_usage(&a, day).await.unwrap(),
        TokenUsage::default()
    );
    store.add_token_usage(&a, day, 10).await.unwrap();
    store.add_token_usage(&a, day, 5).await.unwrap();
    store.add_token_usage(&b, day, 7).await.unwrap();
    store.add_token_usage(&other, day, 100).await.unwrap();
    store.add_token_usage(&a, next, 1).await.unwrap();
    assert_eq!(
        store.token_usage(&a, day).await.unwrap(),
        TokenUsage {
            system: 22,
            user: 15
        }
    );
    assert_eq!(
        store.token_usage(&b, day).await.unwrap(),
        TokenUsage {
            system: 22,
            user: 7
        }
    );
    assert_eq!(
        store.token_usage(&who("use", "c"), day).await.unwrap(),
        TokenUsage {
            system: 22,
            user: 0
        }
    );
    assert_eq!(
        store.token_usage(&a, next).await.unwrap(),
        TokenUsage { system: 1, user: 1 }
    );
}
