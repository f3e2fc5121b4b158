//! `chat-gateway-bench console`: how fast the operator console stays on a
//! large store (the issue's target: 100,000 conversations and a million
//! messages).
//!
//! ```text
//! chat-gateway-bench console [--conversations 100000] [--messages 10]
//!     [--postgres | --postgres-url postgres://…]
//! ```
//!
//! It fills a fresh SQLite file (and, with `--postgres`, a throwaway
//! PostgreSQL, or the database named by `--postgres-url`, which must be
//! empty) through the store's own import
//! path, many conversations at once, then times what the console does: the
//! first page of the list with its count, a page deep in the keyset order,
//! each filter, a search for a Latin and a Korean word, a transcript, and a
//! whole export streamed as JSON Lines. Each read runs several times; the
//! table shows the median and the slowest.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Args;
use futures::TryStreamExt;
use gateway::console::export::{self, Format};
use gateway::identity::Identity;
use gateway::store::console::{ConsoleFilter, FeedbackFilter, SearchWords, StatusFilter};
use gateway::store::feedback::FeedbackChange;
use gateway::store::{
    Begin, ImportedConversation, ImportedTurn, NewTurn, PageRequest, Store, StoredReply, TurnEnd,
};
use sdk::{MessageStatus, Rating};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::report::{Table, ms, round};
use crate::{emit, note};

/// The console scenario's options.
#[derive(Debug, Clone, Args)]
pub(crate) struct ConsoleArgs {
    /// Conversations to store.
    #[arg(long, default_value_t = 100_000)]
    conversations: u64,
    /// Messages per conversation (a question and its answer per turn).
    #[arg(long, default_value_t = 10)]
    messages: u64,
    /// Also run on a throwaway PostgreSQL (started from the system's
    /// initdb/pg_ctl).
    #[arg(long)]
    postgres: bool,
    /// Also run on this (empty) PostgreSQL database.
    #[arg(long, conflicts_with = "postgres")]
    postgres_url: Option<String>,
    /// Times each read runs.
    #[arg(long, default_value_t = 5)]
    repeat: u32,
}

/// Systems and users the conversations are spread over.
const SYSTEMS: [&str; 4] = ["bench-a", "bench-b", "bench-c", "bench-d"];
const USERS: u64 = 2_000;
/// The words searched for: each is in about one message in a hundred.
const LATIN: &str = "amortization";
const KOREAN: &str = "수익률";
/// Concurrent importers while filling.
const FILLERS: u64 = 16;
/// Every this many conversations, one gets feedback and one ends failed.
const EVERY: u64 = 50;

/// Run the scenario and print its table.
pub(crate) async fn run(args: &ConsoleArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = format!("sqlite://{}", dir.path().join("console.db").display());
    let mut stores = vec![("SQLite", sqlite)];
    // The throwaway server lives until the end of the run.
    let throwaway = if args.postgres {
        note("starting a throwaway PostgreSQL");
        Some(testkit::postgres::ThrowawayPostgres::start().await?)
    } else {
        None
    };
    if let Some(url) = throwaway
        .as_ref()
        .map(|pg| pg.url())
        .or(args.postgres_url.clone())
    {
        stores.push(("PostgreSQL", url));
    }
    let mut results = Vec::new();
    let mut out = String::new();
    for (name, url) in stores {
        let store = gateway::store::open(&url).await?;
        let filled = fill(store.clone(), args).await?;
        let mut table = Table::new(
            &format!(
                "Console on {name}: {} conversations, {} messages (filled in {:.1} s)",
                args.conversations,
                args.conversations * args.messages,
                filled.as_secs_f64()
            ),
            &["read", "rows", "median ms", "max ms"],
        );
        let mut rows = Vec::new();
        for (read, found, times) in measure(store, args).await? {
            let (median, max) = summary(times);
            table.row(vec![read.clone(), found.to_string(), ms(median), ms(max)]);
            rows.push(json!({"read": read, "rows": found, "median_ms": round(median), "max_ms": round(max)}));
        }
        out.push_str(&table.render());
        results.push(json!({"store": name, "conversations": args.conversations,
            "messages": args.conversations * args.messages, "fill_s": filled.as_secs_f64(), "reads": rows}));
    }
    emit(&out);
    emit(&serde_json::to_string_pretty(&Value::Array(results))?);
    Ok(())
}

/// Median and maximum, in milliseconds.
fn summary(mut times: Vec<f64>) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    (median, times.last().copied().unwrap_or(0.0))
}

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
async fn fill(store: Arc<dyn Store>, args: &ConsoleArgs) -> anyhow::Result<Duration> {
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

type Measured = (String, u64, Vec<f64>);

/// Time `read` `repeat` times; it answers how many rows it found.
async fn timed<F, Fut>(repeat: u32, name: &str, mut read: F) -> anyhow::Result<Measured>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<u64>>,
{
    note(&format!("console: {name}"));
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        found = read().await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok((name.to_owned(), found, times))
}

/// A page of 50 and the filter's count, as the list page reads them.
async fn list(
    store: &dyn Store,
    filter: &ConsoleFilter,
    before: Option<&str>,
) -> anyhow::Result<u64> {
    let page = store
        .console_conversations(filter, PageRequest { limit: 50, before })
        .await?;
    let _total = store.console_count(filter).await?;
    Ok(page.len() as u64)
}

async fn measure(store: Arc<dyn Store>, args: &ConsoleArgs) -> anyhow::Result<Vec<Measured>> {
    let r = args.repeat;
    let s = &*store;
    let all = ConsoleFilter::default();
    let mut out = Vec::new();
    out.push(timed(r, "list: first page + count", || list(s, &all, None)).await?);

    // Deep in the keyset order: the newest conversation of the oldest tenth.
    let year_ago = OffsetDateTime::now_utc() - time::Duration::days(365);
    let old = ConsoleFilter {
        to: Some(year_ago + time::Duration::days(36)),
        ..ConsoleFilter::default()
    };
    let deep = store
        .console_conversations(
            &old,
            PageRequest {
                limit: 1,
                before: None,
            },
        )
        .await?
        .pop()
        .map(|c| c.record.id);
    out.push(
        timed(r, "list: a page 90% deep + count", || {
            list(s, &all, deep.as_deref())
        })
        .await?,
    );

    let filters: Vec<(&str, ConsoleFilter)> = vec![
        (
            "filter: system",
            ConsoleFilter {
                system_id: Some(SYSTEMS[1].into()),
                ..all.clone()
            },
        ),
        (
            "filter: user",
            ConsoleFilter {
                system_id: Some(SYSTEMS[1].into()),
                user_id: Some("user-1".into()),
                ..all.clone()
            },
        ),
        (
            "filter: last 30 days",
            ConsoleFilter {
                from: Some(OffsetDateTime::now_utc() - time::Duration::days(30)),
                ..all.clone()
            },
        ),
        (
            "filter: failed",
            ConsoleFilter {
                status: Some(StatusFilter::Failed),
                ..all.clone()
            },
        ),
        (
            "filter: incomplete",
            ConsoleFilter {
                status: Some(StatusFilter::Incomplete),
                ..all.clone()
            },
        ),
        (
            "filter: any feedback",
            ConsoleFilter {
                feedback: Some(FeedbackFilter::Any),
                ..all.clone()
            },
        ),
        (
            "filter: liked",
            ConsoleFilter {
                feedback: Some(FeedbackFilter::Liked),
                ..all.clone()
            },
        ),
        (
            "filter: disliked",
            ConsoleFilter {
                feedback: Some(FeedbackFilter::Disliked),
                ..all.clone()
            },
        ),
        (
            "filter: with a comment",
            ConsoleFilter {
                feedback: Some(FeedbackFilter::Commented),
                ..all.clone()
            },
        ),
        (
            "search: Latin word",
            ConsoleFilter {
                words: SearchWords::parse(LATIN),
                ..all.clone()
            },
        ),
        (
            "search: Korean word",
            ConsoleFilter {
                words: SearchWords::parse(KOREAN),
                ..all.clone()
            },
        ),
        (
            "search: two words",
            ConsoleFilter {
                words: SearchWords::parse(&format!("{LATIN} balance")),
                ..all.clone()
            },
        ),
    ];
    for (name, filter) in &filters {
        out.push(timed(r, &format!("{name} + count"), || list(s, filter, None)).await?);
    }

    let first = store
        .console_conversations(
            &all,
            PageRequest {
                limit: 1,
                before: None,
            },
        )
        .await?
        .pop()
        .map(|c| c.record.id)
        .unwrap_or_default();
    out.push(
        timed(r, "transcript", || async {
            let _ = s.console_conversation(&all, &first).await?;
            Ok(s.console_messages(std::slice::from_ref(&first))
                .await?
                .len() as u64)
        })
        .await?,
    );
    out.push(
        timed(
            1,
            "export: everything as JSON Lines (rows = bytes)",
            || async {
                let bytes = export::export(store.clone(), all.clone(), Format::JsonLines)
                    .try_fold(
                        0u64,
                        |n, chunk| async move { Ok(n + chunk.bytes.len() as u64) },
                    )
                    .await?;
                Ok(bytes)
            },
        )
        .await?,
    );
    Ok(out)
}
