//! How many messages per second the store persists, without HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gateway::identity::Identity;
use gateway::store::{Begin, NewTurn, Store, StoredReply, TurnEnd};
use sdk::MessageStatus;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::report::Table;
use crate::{StoreUnderTest, note};

/// Messages stored per second by `workers` concurrent writers, each writing
/// turns (a question and its answer) into its own conversation.
pub(crate) async fn messages_per_second(
    store: Arc<dyn Store>,
    workers: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let turns = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (store, turns) = (store.clone(), turns.clone());
        tasks.spawn(async move {
            let owner = Identity::parse("bench", &format!("writer-{w}"))?;
            let mut conversation: Option<String> = None;
            while Instant::now() < stop {
                let user_message = uuid::Uuid::now_v7().to_string();
                let new_conversation = uuid::Uuid::now_v7().to_string();
                let started = store
                    .begin_turn(&NewTurn {
                        owner: &owner,
                        conversation_id: conversation.as_deref(),
                        new_conversation_id: &new_conversation,
                        title: "bench",
                        message_id: &user_message,
                        content: "How fast can you store this question?",
                        retry_of: None,
                        agent: None,
                        at: OffsetDateTime::now_utc(),
                    })
                    .await?;
                let Begin::Started(started) = started else {
                    anyhow::bail!("conversation vanished");
                };
                let reply = uuid::Uuid::now_v7().to_string();
                store
                    .finish_turn(&TurnEnd {
                        conversation_id: &started.conversation_id,
                        user_message_id: &user_message,
                        user_status: MessageStatus::Complete,
                        reply: Some(StoredReply {
                            message_id: &reply,
                            content: "Quite fast: this answer is stored together with its question.",
                            status: MessageStatus::Complete,
                            metrics: Default::default(),
                        }),
                        upstream_conversation_id: Some("upstream-conversation"),
                        upstream_message_id: None,
                        at: OffsetDateTime::now_utc(),
                    })
                    .await?;
                conversation = Some(started.conversation_id);
                turns.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        });
    }
    let begun = Instant::now();
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    let secs = begun.elapsed().as_secs_f64();
    Ok(turns.load(Ordering::Relaxed) as f64 * 2.0 / secs)
}

/// The storage part: messages per second with 1, 16 and 64 writers on
/// every store (a fresh SQLite file for SQLite).
pub(crate) async fn part(
    seconds: u64,
    stores: &[StoreUnderTest],
) -> anyhow::Result<(String, Value)> {
    let window = Duration::from_secs(seconds.min(10));
    let mut table = Table::new(
        "Storage: messages persisted per second (a turn = question + answer, each acknowledged after commit)",
        &["store", "writers", "messages/s"],
    );
    let mut rows = Vec::new();
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("storage.db").display());
    for store in stores {
        let url = store.url.as_deref().unwrap_or(&sqlite);
        for writers in [1, 16, 64] {
            note(&format!("storage: {}, {writers} writers", store.name));
            let opened = gateway::store::open(url).await?;
            let rate = messages_per_second(opened, writers, window).await?;
            table.row(vec![
                store.name.to_owned(),
                writers.to_string(),
                format!("{rate:.0}"),
            ]);
            rows.push(
                json!({"store": store.name, "writers": writers, "messages_per_s": rate.round()}),
            );
        }
    }
    Ok((table.render(), Value::Array(rows)))
}
