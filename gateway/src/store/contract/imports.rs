//! Visitors and the import of upstream history: who a sync should visit,
//! and importing the same conversation twice adds nothing. Run by
//! [`super::run`]; the concurrent cases are in `races`.

use sdk::Role;
use time::Duration;

use super::seed::{ALL, answer, start, t0, who};
use crate::store::{ImportCounts, ImportedConversation, ImportedTurn, Scope, Store};

pub(super) async fn visits_and_sync_targets(store: &dyn Store) {
    let visitor = who("visit", "only-visited");
    store.record_visit(&visitor, t0()).await.unwrap();
    store
        .record_visit(&visitor, t0() + Duration::hours(1))
        .await
        .unwrap();
    let targets = store.sync_targets().await.unwrap();
    assert_eq!(targets.iter().filter(|t| **t == visitor).count(), 1);
    assert!(
        targets.contains(&who("drillquiz", "12345")),
        "conversation owners too"
    );
}

pub(super) async fn import_is_idempotent(store: &dyn Store) {
    let owner = who("sync", "u");
    let conversation = ImportedConversation {
        id: "up-sync-1".into(),
        name: "Imported".into(),
        created_at: Some(t0()),
    };
    let turns = vec![
        ImportedTurn {
            id: "t1".into(),
            query: Some("q1".into()),
            answer: Some("a1".into()),
            created_at: Some(t0()),
        },
        ImportedTurn {
            id: "t2".into(),
            query: Some("q2".into()),
            answer: None,
            created_at: Some(t0() + Duration::seconds(1)),
        },
    ];
    let first = store
        .import_conversation(&owner, &conversation, &turns, t0())
        .await
        .unwrap();
    assert_eq!(
        first,
        ImportCounts {
            conversations: 1,
            messages: 3
        }
    );
    let again = store
        .import_conversation(&owner, &conversation, &turns, t0())
        .await
        .unwrap();
    assert_eq!(again, ImportCounts::default());
    let renamed = ImportedConversation {
        name: "Renamed upstream".into(),
        ..conversation.clone()
    };
    let third = store
        .import_conversation(&owner, &renamed, &turns, t0())
        .await
        .unwrap();
    assert_eq!(
        third,
        ImportCounts {
            conversations: 1,
            messages: 0
        }
    );

    let listed = store.list_conversations(&owner, ALL).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].title, "Renamed upstream");
    let msgs = store
        .list_messages(Scope::Owner(&owner), &listed[0].id, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        msgs.iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (Role::User, "q1"),
            (Role::Assistant, "a1"),
            (Role::User, "q2")
        ]
    );

    // A turn recorded live (with upstream ids) is not imported a second time.
    let live = start(store, &owner, Some(&listed[0].id), "q3", t0())
        .await
        .unwrap();
    answer(store, &live, "a3", ("up-sync-1", "t3"), t0()).await;
    let with_live = [
        turns.clone(),
        vec![ImportedTurn {
            id: "t3".into(),
            query: Some("q3".into()),
            answer: Some("a3".into()),
            created_at: None,
        }],
    ]
    .concat();
    let fourth = store
        .import_conversation(&owner, &renamed, &with_live, t0())
        .await
        .unwrap();
    assert_eq!(fourth, ImportCounts::default());
}
