//! Writes that race, as several replicas (or several tasks of one) make
//! them: imports of the same upstream conversation, and imports racing the
//! live turn that created it. Run by [`super::concurrent_turns`].

use std::future::Future;
use std::sync::Arc;

use sdk::{MessageStatus, Role};
use time::Duration;

use super::seed::{ALL, answer, id, start, t0, who};
use crate::store::{
    ImportCounts, ImportedConversation, ImportedTurn, Scope, Store, StoredReply, TurnEnd,
};

/// Spawn one task per item and wait for all of them.
async fn all<T: Send + 'static>(
    tasks: impl IntoIterator<Item = impl Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = tasks.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

pub(super) async fn imports_of_one_conversation(store: Arc<dyn Store>) {
    let owner = who("race", "importer");
    let conversation = ImportedConversation {
        id: "up-race-import".into(),
        name: "Raced".into(),
        created_at: Some(t0()),
    };
    let turns: Vec<ImportedTurn> = (0..10)
        .map(|i| ImportedTurn {
            id: format!("turn-{i}"),
            query: Some(format!("q{i}")),
            answer: Some(format!("a{i}")),
            created_at: Some(t0() + Duration::seconds(i)),
        })
        .collect();
    let counts = all((0..8).map(|_| {
        let store = store.clone();
        let owner = owner.clone();
        let conversation = conversation.clone();
        let turns = turns.clone();
        async move {
            store
                .import_conversation(&owner, &conversation, &turns, t0())
                .await
                .unwrap()
        }
    }))
    .await;
    let total = counts
        .iter()
        .fold(ImportCounts::default(), |a, c| ImportCounts {
            conversations: a.conversations + c.conversations,
            messages: a.messages + c.messages,
        });
    assert_eq!(
        total,
        ImportCounts {
            conversations: 1,
            messages: 20
        },
        "each row is created, and counted, by exactly one import"
    );
    let listed = store.list_conversations(&owner, ALL).await.unwrap();
    assert_eq!(listed.len(), 1);
    let msgs = store
        .list_messages(Scope::Owner(&owner), &listed[0].id, ALL)
        .await
        .unwrap()
        .unwrap();
    let expected: Vec<String> = (0..10)
        .flat_map(|i| [format!("q{i}"), format!("a{i}")])
        .collect();
    assert_eq!(
        msgs.iter().map(|m| m.content.clone()).collect::<Vec<_>>(),
        expected
    );
}

pub(super) async fn imports_racing_live_turns(store: Arc<dyn Store>) {
    let owner = who("race", "live");
    for i in 0..12 {
        let upstream_conversation = format!("up-live-{i}");
        let upstream_turn = format!("live-turn-{i}");
        let question = format!("live q{i}");
        let turn = start(&*store, &owner, None, &question, t0()).await.unwrap();
        let live = {
            let store = store.clone();
            let (conversation, upstream_conversation, upstream_turn) = (
                turn.conversation.clone(),
                upstream_conversation.clone(),
                upstream_turn.clone(),
            );
            let user_message = turn.user_message.clone();
            async move {
                let reply_id = id();
                store
                    .finish_turn(&TurnEnd {
                        conversation_id: &conversation,
                        user_message_id: &user_message,
                        user_status: MessageStatus::Complete,
                        reply: Some(StoredReply {
                            message_id: &reply_id,
                            content: "live answer",
                            status: MessageStatus::Complete,
                            metrics: Default::default(),
                        }),
                        upstream_conversation_id: Some(&upstream_conversation),
                        upstream_message_id: Some(&upstream_turn),
                        at: t0(),
                    })
                    .await
            }
        };
        let sync = {
            let store = store.clone();
            let owner = owner.clone();
            let conversation = ImportedConversation {
                id: upstream_conversation.clone(),
                name: question.clone(),
                created_at: Some(t0()),
            };
            let turns = vec![ImportedTurn {
                id: upstream_turn.clone(),
                query: Some(question.clone()),
                answer: Some("live answer".into()),
                created_at: Some(t0()),
            }];
            async move {
                store
                    .import_conversation(&owner, &conversation, &turns, t0())
                    .await
            }
        };
        let (live, sync) = tokio::join!(tokio::spawn(live), tokio::spawn(sync));
        live.unwrap()
            .expect("a sync racing a live turn never fails it");
        sync.unwrap().expect("a live turn never fails a sync");

        // The live conversation has the question and its answer, once.
        let msgs = store
            .list_messages(Scope::Owner(&owner), &turn.conversation, ALL)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            msgs.iter()
                .map(|m| (m.role, m.content.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (Role::User, question.as_str()),
                (Role::Assistant, "live answer")
            ]
        );
        // One conversation holds the upstream id, whoever won the race.
        let holders: Vec<_> = store
            .list_conversations(&owner, ALL)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.upstream_conversation_id.as_deref() == Some(&upstream_conversation))
            .collect();
        assert_eq!(holders.len(), 1);
        // Importing again adds nothing, whoever won.
        let again = store
            .import_conversation(
                &owner,
                &ImportedConversation {
                    id: upstream_conversation.clone(),
                    name: question.clone(),
                    created_at: Some(t0()),
                },
                &[ImportedTurn {
                    id: upstream_turn,
                    query: Some(question.clone()),
                    answer: Some("live answer".into()),
                    created_at: Some(t0()),
                }],
                t0(),
            )
            .await
            .unwrap();
        assert_eq!(again, ImportCounts::default());
    }
}

/// Forty turns at once in one conversation: every message stored once.
pub(super) async fn turns_in_one_conversation(store: Arc<dyn Store>) {
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
