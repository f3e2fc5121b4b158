//! Several `chat-gateway` processes behind no load balancer but the test,
//! sharing one PostgreSQL and one (fake) Dify: what a Kubernetes Deployment
//! with several replicas does. Each test starts its own database, upstream
//! and replicas, and every process stops when the test ends.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod cluster;
mod operators;
mod revocation;
mod runtime;
mod shared_upstream;
mod sync_rounds;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use gateway::identity::Identity;
use sdk::{ErrorCode, Message, MessageStatus, Role, StreamEvent};
use testkit::fake_dify::{FakeAnswer, FakeOptions};

use crate::cluster::{Cluster, SYSTEM};

fn upstream_user(user: &str) -> String {
    Identity::parse(SYSTEM, user).unwrap().upstream_user()
}

fn summary(messages: &[Message]) -> Vec<(Role, &str)> {
    messages
        .iter()
        .map(|m| (m.role, m.content.as_str()))
        .collect()
}

/// What a slow upstream streams: `w0 w1 … w{count-1} `.
fn words(count: usize) -> String {
    (0..count).map(|i| format!("w{i} ")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_started_on_one_replica_continues_on_another() {
    let cluster = Cluster::start(FakeOptions::default()).await;
    let (a, b) = (cluster.replica().await, cluster.replica().await);
    assert_eq!((a.ready().await, b.ready().await), (200, 200));

    let first = a.chat("alice", "Hello from A", None).await;
    assert_eq!(first.answer, "Echo: Hello from A");
    let second = b
        .chat("alice", "And from B", Some(&first.conversation_id))
        .await;
    assert_eq!(second.conversation_id, first.conversation_id);
    assert_eq!(second.answer, "Echo: And from B");

    for replica in [&a, &b] {
        let listed = replica.conversations("alice").await;
        assert_eq!(
            listed.len(),
            1,
            "one conversation, seen by {}",
            replica.base
        );
        assert_eq!(listed[0].id, first.conversation_id);
        let messages = replica.messages("alice", &first.conversation_id).await;
        assert_eq!(
            summary(&messages),
            [
                (Role::User, "Hello from A"),
                (Role::Assistant, "Echo: Hello from A"),
                (Role::User, "And from B"),
                (Role::Assistant, "Echo: And from B"),
            ]
        );
    }
    // B continued the upstream conversation that A started.
    let chats = cluster.fake.chats();
    assert_eq!(chats.len(), 2);
    assert_eq!(chats[0].conversation_id, None);
    assert!(chats[1].conversation_id.is_some());
    assert_eq!(cluster.fake.conversation_count(&upstream_user("alice")), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_through_both_replicas_lose_and_duplicate_nothing() {
    let cluster = Cluster::start(FakeOptions::default()).await;
    let a = Arc::new(cluster.replica().await);
    let b = Arc::new(cluster.replica().await);
    let conversation = a.chat("bob", "start", None).await.conversation_id;

    let mut tasks = Vec::new();
    for i in 0..10 {
        for (name, replica) in [("A", &a), ("B", &b)] {
            let replica = replica.clone();
            let conversation = conversation.clone();
            tasks.push(tokio::spawn(async move {
                let question = format!("q-{name}-{i}");
                if i % 2 == 0 {
                    let reply = replica.chat("bob", &question, Some(&conversation)).await;
                    assert_eq!(reply.answer, format!("Echo: {question}"));
                } else {
                    let events = replica
                        .chat_stream("bob", &question, Some(&conversation))
                        .await
                        .rest()
                        .await;
                    assert!(
                        matches!(events.last(), Some(StreamEvent::End { .. })),
                        "{question}: {events:?}"
                    );
                }
                question
            }));
        }
    }
    let mut questions = Vec::new();
    for t in tasks {
        questions.push(t.await.unwrap());
    }

    let messages = a.messages("bob", &conversation).await;
    assert_eq!(messages.len(), 2 + 2 * questions.len());
    let position = |role: Role, text: &str| {
        let found: Vec<usize> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == role && m.content == text)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(found.len(), 1, "{role:?} {text:?} stored exactly once");
        found[0]
    };
    for q in &questions {
        assert!(position(Role::User, q) < position(Role::Assistant, &format!("Echo: {q}")));
    }
    assert!(messages.iter().all(|m| m.status == MessageStatus::Complete));
    let ids: HashSet<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), messages.len());
    // Both replicas read the same history, in the same order.
    let through_b = b.messages("bob", &conversation).await;
    assert_eq!(
        through_b.iter().map(|m| &m.id).collect::<Vec<_>>(),
        messages.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_replica_mid_stream_keeps_the_user_message() {
    let cluster = Cluster::start(FakeOptions {
        answer: FakeAnswer::Words {
            count: 20,
            delay: Duration::from_millis(100),
        },
        ..FakeOptions::default()
    })
    .await;
    let (mut a, b) = (cluster.replica().await, cluster.replica().await);
    let conversation = a.chat("carol", "first", None).await.conversation_id;

    let mut stream = a
        .chat_stream("carol", "second question", Some(&conversation))
        .await;
    while !matches!(stream.next().await, Some(StreamEvent::Delta { .. })) {}
    a.kill().await;
    let rest = stream.rest().await;
    assert!(
        !rest.iter().any(|e| matches!(e, StreamEvent::End { .. })),
        "the stream died with its replica: {rest:?}"
    );

    assert_eq!(b.ready().await, 200);
    let messages = b.messages("carol", &conversation).await;
    assert_eq!(
        summary(&messages),
        [
            (Role::User, "first"),
            (Role::Assistant, words(20).as_str()),
            (Role::User, "second question"),
        ],
        "the question was committed before the upstream was called; the partial answer died with the process"
    );
    // The conversation goes on through the surviving replica.
    let third = b.chat("carol", "third", Some(&conversation)).await;
    assert_eq!(third.answer, words(20));
    assert_eq!(b.messages("carol", &conversation).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_stores_the_partial_answer() {
    let cluster = Cluster::start(FakeOptions {
        answer: FakeAnswer::Words {
            count: 100,
            delay: Duration::from_millis(100),
        },
        ..FakeOptions::default()
    })
    .await;
    let (mut a, b) = (cluster.replica().await, cluster.replica().await);
    let mut stream = a.chat_stream("dave", "tell me a story", None).await;
    let mut received = String::new();
    loop {
        match stream.next().await {
            Some(StreamEvent::Delta { text }) => {
                received.push_str(&text);
                break;
            }
            Some(_) => {}
            None => panic!("the stream ended before any text"),
        }
    }
    let exit = a.terminate().await;
    assert!(exit.success(), "a terminated replica exits cleanly: {exit}");
    let mut last = None;
    for event in stream.rest().await {
        if let StreamEvent::Delta { text } = &event {
            received.push_str(text);
        }
        last = Some(event);
    }
    assert!(
        matches!(
            last,
            Some(StreamEvent::Error {
                code: ErrorCode::ShuttingDown,
                ..
            })
        ),
        "the client is told the answer was cut: {last:?}"
    );

    let listed = b.conversations("dave").await;
    assert_eq!(listed.len(), 1);
    let messages = b.messages("dave", &listed[0].id).await;
    assert_eq!(messages.len(), 2);
    assert_eq!(
        (messages[0].role, messages[0].content.as_str()),
        (Role::User, "tell me a story")
    );
    assert_eq!(
        (
            messages[1].role,
            messages[1].status,
            messages[1].content.as_str()
        ),
        (
            Role::Assistant,
            MessageStatus::Incomplete,
            received.as_str()
        ),
        "exactly what the client saw is stored, marked incomplete"
    );
    assert!(received.len() < words(100).len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_on_both_replicas_at_once_duplicates_nothing() {
    let cluster = Cluster::start(FakeOptions::default()).await;
    let (a, b) = (cluster.replica().await, cluster.replica().await);
    let users: Vec<String> = (0..6).map(|i| format!("user-{i}")).collect();
    for user in &users {
        // A live conversation makes the user known to the gateway...
        a.chat(user, &format!("hi {user}"), None).await;
        // ...and older conversations exist only upstream.
        for c in 0..3 {
            let turns: Vec<(String, String)> = (0..3)
                .map(|t| (format!("{user} c{c} q{t}"), format!("{user} c{c} a{t}")))
                .collect();
            let turns: Vec<(&str, &str)> = turns
                .iter()
                .map(|(q, a)| (q.as_str(), a.as_str()))
                .collect();
            cluster
                .fake
                .add_conversation(&upstream_user(user), &format!("old {c}"), &turns);
        }
    }

    let (from_a, from_b) = tokio::join!(a.sync_all(), b.sync_all());
    assert!(from_a.errors.is_empty() && from_b.errors.is_empty());
    let imported_conversations = users.len() * 3;
    assert_eq!(
        from_a.conversations_synced + from_b.conversations_synced,
        u64::try_from(imported_conversations).unwrap(),
        "each imported conversation is created, and counted, once"
    );
    assert_eq!(
        from_a.messages_synced + from_b.messages_synced,
        u64::try_from(imported_conversations * 6).unwrap()
    );

    for user in &users {
        let listed = b.conversations(user).await;
        assert_eq!(listed.len(), 4, "{user}: one live and three imported");
        for c in 0..3 {
            let imported: Vec<_> = listed
                .iter()
                .filter(|conv| conv.name == format!("old {c}"))
                .collect();
            assert_eq!(imported.len(), 1);
            let messages = a.messages(user, &imported[0].id).await;
            let expected: Vec<String> = (0..3)
                .flat_map(|t| [format!("{user} c{c} q{t}"), format!("{user} c{c} a{t}")])
                .collect();
            assert_eq!(
                messages.iter().map(|m| &m.content).collect::<Vec<_>>(),
                expected.iter().collect::<Vec<_>>()
            );
        }
    }
    let again = b.sync_all().await;
    assert_eq!(
        (again.conversations_synced, again.messages_synced),
        (0, 0),
        "a later sync finds nothing new"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_makes_replicas_unready_but_alive() {
    let mut cluster = Cluster::start(FakeOptions::default()).await;
    let a = cluster.replica().await;
    let conversation = a
        .chat("erin", "before the outage", None)
        .await
        .conversation_id;
    cluster.stop_database();

    // Kubernetes takes the replica out of the Service but does not restart it.
    let (status, body) = a.probe("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database_unavailable"), "{body}");
    assert_eq!(a.probe("/health").await.0, 200);
    // Requests that need the database say so, with the same code.
    let (status, body) = a
        .get_raw(&format!(
            "/v1/conversations/{conversation}/messages?system_id={SYSTEM}&user_id=erin"
        ))
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("database_unavailable"), "{body}");
}
