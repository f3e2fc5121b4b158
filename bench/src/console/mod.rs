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
//! each filter, searches (a Latin and a Korean word, a word too short for
//! the index, two words), a transcript, the analytics, and a whole export
//! streamed as JSON Lines. Each read runs several times; the
//! table shows the median and the slowest.

mod measure;
mod seed;

use std::time::Duration;

use clap::Args;
use serde_json::{Value, json};
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
/// A two-letter word the trigram index cannot answer, in most messages.
const SHORT: &str = "금리";
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
        let filled = seed::fill(store.clone(), args).await?;
        // Reads are measured on a settled store: SQLite indexes messages
        // for search in the background, and a search meanwhile reads the
        // messages still queued directly.
        let settling = Instant::now();
        while store.search_backlog().await? > 0 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let settled = settling.elapsed();
        note(&format!(
            "{name}: search index caught up {:.1} s after the fill",
            settled.as_secs_f64()
        ));
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
        for (read, found, times) in measure::measure(store, args).await? {
            let (median, max) = summary(times);
            table.row(vec![read.clone(), found.to_string(), ms(median), ms(max)]);
            rows.push(json!({"read": read, "rows": found, "median_ms": round(median), "max_ms": round(max)}));
        }
        out.push_str(&table.render());
        results.push(json!({"store": name, "conversations": args.conversations,
            "messages": args.conversations * args.messages, "fill_s": filled.as_secs_f64(),
            "index_catch_up_s": settled.as_secs_f64(), "reads": rows}));
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
