//! Filling the store: conversations spread over a year, systems and users,
//! with searched words sprinkled in, some failed turns and some feedback.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gateway::identity::Identity;
use gateway::store::console::ConsoleFilter;
use gateway::store::feedback::FeedbackChange;
use gateway::store::{
    Begin, ImportedConversation, ImportedTurn, NewTurn, PageRequest, Store, StoredReply, TurnEnd,
};
use sdk::{MessageStatus, Rating};
use time::OffsetDateTime;
use tokio::time::Instant;

use super::{ConsoleArgs, EVERY, FILLERS, KOREAN, LATIN, SYSTEMS, USERS};
use crate::note;

/// The text of message `n`: ordinary words, and now and then a searched one.
fn text(n: u64) -> String {
    const WORDS: [&str; 12] = [
        "balance",
        "interest",
        "payment",
        "schedule",
        "account",
        "transfer",
        "채권",
        "금리",
        "예금",
        "대출",
        "statement",
        "rate",
    ];
    let mut out = String::with_capacity(120);
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..12 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
        out.push(' ');
    }
    match n % 97 {
        7 => out.push_str(LATIN),
        43 => out.push_str(KOREAN),
        _ => out.push_str("thanks"),
    }
    out
}

fn owner(i: u64) -> anyhow::Result<Identity> {
    let system = SYSTEMS[(i % SYSTEMS.len() as u64) as usize];
    Ok(Identity::parse(system, &format!("user-{}", i % USERS))?)
}

/// Store the conversations, oldest first over the last year: imported ones
/// (the bulk), and every [`EVERY`]th one as a live turn whose answer
/// failed, with feedback on another's answer.
pub(super) async fn fill(store: Arc<dyn Store>, args: &ConsoleArgs) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let year_ago = OffsetDateTime::now_utc() - time::Duration::days(365);
    let step = time::Duration::seconds(365 * 86_400) / (args.conversations.max(1) as f64);
    let turns = (args.messages / 2).max(1);
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..FILLERS {
        let (store, done) = (store.clone(), done.clone());
        let total = args.conversations;
        tasks.spawn(async move {
            let mut i = worker;
            while i < total {
                let at = year_ago + step * (i as f64);
                let who = owner(i)?;
                if i % EVERY == 1 {
                    failed_turn(&*store, &who, i, at).await?;
                } else {
                    let conversation = ImportedConversation {
                        id: format!("bench-{i}"),
                        name: format!("Conversation {i}"),
                        created_at: Some(at),
                    };
                    let messages: Vec<ImportedTurn> = (0..turns)
                        .map(|t| ImportedTurn {
                            id: format!("bench-{i}-{t}"),
                            query: Some(text(i * 100 + 2 * t)),
                            answer: Some(text(i * 100 + 2 * t + 1)),
                            created_at: Some(at + time::Duration::seconds(t as i64)),
                        })
                        .collect();
                    store
                        .import_conversation(&who, &conversation, &messages, at)
                        .await?;
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(10_000) {
                    note(&format!("console: {n} conversations stored"));
                }
                i += FILLERS;
            }
            anyhow::Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    rate_some(&*store, args).await?;
    Ok(started.elapsed())
}

async fn failed_turn(
    store: &dyn Store,
    who: &Identity,
    i: u64,
    at: OffsetDateTime,
) -> anyhow::Result<()> {
    let (conversation, message) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let question = text(i * 100);
    let Begin::Started(started) = store
        .begin_turn(&NewTurn {
            owner: who,
            conversation_id: None,
            new_conversation_id: &conversation,
            title: &question,
            message_id: &message,
            content: &question,
            retry_of: None,
            agent: None,
            at,
        })
        .await?
    else {
        anyhow::bail!("the turn did not start");
    };
    let reply = uuid::Uuid::now_v7().to_string();
    store
        .finish_turn(&TurnEnd {
            conversation_id: &started.conversation_id,
            user_message_id: &message,
            user_status: MessageStatus::Complete,
            reply: Some(StoredReply {
                message_id: &reply,
                content: "The upstream failed.",
                status: MessageStatus::Failed,
                metrics: Default::default(),
            }),
            upstream_conversation_id: None,
            upstream_message_id: None,
            at,
        })
        .await?;
    Ok(())
}

/// Feedback on the first answer of every [`EVERY`]th conversation of the
/// first system's listing: likes, dislikes, and some with a comment.
async fn rate_some(store: &dyn Store, args: &ConsoleArgs) -> anyhow::Result<()> {
    let wanted = (args.conversations / EVERY).max(1);
    let mut before: Option<String> = None;
    let mut rated = 0u64;
    let mut seen = 0u64;
    while rated < wanted {
        let page = store
            .console_conversations(
                &ConsoleFilter::default(),
                PageRequest {
                    limit: 200,
                    before: before.as_deref(),
                },
            )
            .await?;
        let Some(last) = page.last() else { break };
        before = Some(last.record.id.clone());
        let picked: Vec<_> = page
            .iter()
            .filter(|_| {
                seen += 1;
                seen.is_multiple_of(EVERY)
            })
            .collect();
        let ids: Vec<String> = picked.iter().map(|c| c.record.id.clone()).collect();
        let messages = store.console_messages(&ids).await?;
        for c in picked {
            let Some(answer) = messages.iter().find(|m| {
                m.record.conversation_id == c.record.id && m.record.role == sdk::Role::Assistant
            }) else {
                continue;
            };
            let who = Identity::parse(&c.record.system_id, &c.record.user_id)?;
            let rating = if rated.is_multiple_of(3) {
                Rating::Dislike
            } else {
                Rating::Like
            };
            store
                .set_feedback(&FeedbackChange {
                    owner: &who,
                    message_id: &answer.record.id,
                    rating: Some(rating),
                    comment: rated.is_multiple_of(4).then_some("the numbers were off"),
                    at: OffsetDateTime::now_utc(),
                })
                .await?;
            rated += 1;
        }
    }
    Ok(())
}
