//! Messages sent through two replicas while a conversation's first answer
//! still streams continue the one upstream conversation that answer starts:
//! the replicas wait on the id stored in the shared database.

use std::time::Duration;

use sdk::StreamEvent;
use testkit::fake_dify::{FakeOptions, Gate};

use crate::cluster::Cluster;
use crate::upstream_user;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_through_both_replicas_during_the_first_answer_share_its_upstream_conversation() {
    // Held before the upstream's first event: nobody knows the upstream
    // conversation's id while the later messages arrive.
    let gate = Gate::after(0);
    let cluster = Cluster::start(FakeOptions {
        gate: Some(gate.clone()),
        ..Default::default()
    })
    .await;
    let (a, b) = (cluster.replica().await, cluster.replica().await);
    let mut first = a.chat_stream("carol", "first", None).await;
    let Some(StreamEvent::Start {
        conversation_id, ..
    }) = first.next().await
    else {
        panic!("the first event is start");
    };
    gate.held(1).await;

    let sends = [(&b, "later 0"), (&a, "later 1"), (&b, "later 2")];
    let later = futures::future::join_all(sends.map(|(replica, message)| {
        let conversation = conversation_id.clone();
        async move {
            replica
                .chat_stream("carol", message, Some(&conversation))
                .await
                .rest()
                .await
        }
    }));
    let open_when_stored = async {
        // Every later question is stored before the first answer may go on.
        for _ in 0..1500 {
            if a.messages("carol", &conversation_id).await.len() > sends.len() {
                gate.open();
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the later questions were not stored within 30 s");
    };
    let (later, ()) = tokio::join!(later, open_when_stored);
    assert!(matches!(
        first.rest().await.last(),
        Some(StreamEvent::End { .. })
    ));
    for events in later {
        assert!(
            matches!(events.last(), Some(StreamEvent::End { .. })),
            "{events:?}"
        );
    }
    assert_eq!(cluster.fake.conversation_count(&upstream_user("carol")), 1);
}
