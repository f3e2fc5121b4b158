//! A conversation stays with the agent it started with.

use super::*;

async fn begin(
    store: &dyn Store,
    owner: &Identity,
    conversation: Option<&str>,
    agent: Option<&str>,
) -> Begin {
    let new_id = id();
    let message = id();
    store
        .begin_turn(&NewTurn {
            owner,
            conversation_id: conversation,
            new_conversation_id: &new_id,
            title: "agents",
            message_id: &message,
            content: "for an agent",
            retry_of: None,
            agent,
            at: t0(),
        })
        .await
        .unwrap()
}

pub(super) async fn a_conversation_is_bound_to_its_agent(store: &dyn Store) {
    let owner = who("agents", "a1");
    let Begin::Started(first) = begin(store, &owner, None, Some("sales")).await else {
        panic!("not started");
    };
    assert_eq!(first.agent.as_deref(), Some("sales"));
    let id = first.conversation_id.as_str();
    // Without an agent, or with the same one: the bound agent comes back.
    for agent in [None, Some("sales")] {
        let Begin::Started(next) = begin(store, &owner, Some(id), agent).await else {
            panic!("not started with {agent:?}");
        };
        assert_eq!(next.agent.as_deref(), Some("sales"));
    }
    // Another agent is refused, and nothing is stored.
    assert_eq!(
        begin(store, &owner, Some(id), Some("support")).await,
        Begin::AgentMismatch(Some("sales".to_owned()))
    );
    let stored = store
        .list_messages(Scope::Owner(&owner), id, ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.len(), 3);

    // A conversation started without an agent takes none later.
    let Begin::Started(plain) = begin(store, &owner, None, None).await else {
        panic!("not started");
    };
    assert_eq!(plain.agent, None);
    assert_eq!(
        begin(store, &owner, Some(&plain.conversation_id), Some("sales")).await,
        Begin::AgentMismatch(None)
    );
}
