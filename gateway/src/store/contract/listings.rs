//! Listings: a user's conversations in order and in pages, renaming and
//! deleting, and the operator's search across every user. Run by
//! [`super::run`].

use time::Duration;

use super::seed::{ALL, answer, id, start, t0, who};
use crate::store::{ConversationFilter, PageRequest, Scope, Store};

pub(super) async fn order_and_pages(store: &dyn Store) {
    let owner = who("pages", "u");
    let mut ids = Vec::new();
    for i in 0..5 {
        let turn = start(
            store,
            &owner,
            None,
            &format!("c{i}"),
            t0() + Duration::seconds(i),
        )
        .await
        .unwrap();
        ids.push(turn.conversation);
    }
    // Activity moves a conversation to the top.
    start(
        store,
        &owner,
        Some(&ids[1]),
        "bump",
        t0() + Duration::seconds(60),
    )
    .await
    .unwrap();
    let listed: Vec<_> = store
        .list_conversations(&owner, ALL)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(
        listed,
        vec![
            ids[1].clone(),
            ids[4].clone(),
            ids[3].clone(),
            ids[2].clone(),
            ids[0].clone()
        ]
    );

    let first = store
        .list_conversations(
            &owner,
            PageRequest {
                limit: 2,
                before: None,
            },
        )
        .await
        .unwrap();
    let next = store
        .list_conversations(
            &owner,
            PageRequest {
                limit: 2,
                before: Some(&first[1].id),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        listed[2..4]
    );
    assert!(
        store
            .list_conversations(
                &owner,
                PageRequest {
                    limit: 2,
                    before: Some(&id())
                }
            )
            .await
            .unwrap()
            .is_empty()
    );

    // Messages: newest page first, each page in chronological order.
    let conv = &ids[0];
    for i in 0..6 {
        start(store, &owner, Some(conv), &format!("m{i}"), t0())
            .await
            .unwrap();
    }
    let last3 = store
        .list_messages(
            Scope::Owner(&owner),
            conv,
            PageRequest {
                limit: 3,
                before: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        last3.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["m3", "m4", "m5"]
    );
    let older = store
        .list_messages(
            Scope::Owner(&owner),
            conv,
            PageRequest {
                limit: 3,
                before: Some(&last3[0].id),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        older.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["m0", "m1", "m2"]
    );
}

pub(super) async fn rename_and_delete(store: &dyn Store) {
    let owner = who("edit", "u");
    let turn = start(store, &owner, None, "old title", t0()).await.unwrap();
    answer(store, &turn, "reply", ("up-edit", "m-edit"), t0()).await;
    let later = t0() + Duration::minutes(5);
    let renamed = store
        .rename_conversation(&owner, &turn.conversation, "New title", later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (renamed.title.as_str(), renamed.updated_at),
        ("New title", later)
    );
    assert!(
        store
            .delete_conversation(&owner, &turn.conversation)
            .await
            .unwrap()
    );
    assert!(
        store
            .get_conversation(Scope::Any, &turn.conversation)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .list_messages(Scope::Any, &turn.conversation, ALL)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .delete_conversation(&owner, &turn.conversation)
            .await
            .unwrap()
    );
}

pub(super) async fn operator_search(store: &dyn Store) {
    let early = who("search", "a");
    let late = who("search", "b");
    start(store, &early, None, "early", t0() - Duration::days(10))
        .await
        .unwrap();
    start(store, &late, None, "late", t0() + Duration::days(10))
        .await
        .unwrap();
    let by_system = store
        .search_conversations(ConversationFilter {
            system_id: Some("search"),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_system
            .iter()
            .map(|c| c.title.as_str())
            .collect::<Vec<_>>(),
        ["late", "early"]
    );
    let in_range = store
        .search_conversations(ConversationFilter {
            system_id: Some("search"),
            from: Some(t0() - Duration::days(1)),
            to: Some(t0() + Duration::days(11)),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        in_range
            .iter()
            .map(|c| c.title.as_str())
            .collect::<Vec<_>>(),
        ["late"]
    );
    let by_user = store
        .search_conversations(ConversationFilter {
            user_id: Some("a"),
            system_id: Some("search"),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_user.len(), 1);
    let paged = store
        .search_conversations(ConversationFilter {
            system_id: Some("search"),
            limit: 100,
            before: Some(&by_system[0].id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        paged.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
        ["early"]
    );
}
