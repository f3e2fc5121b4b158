//! Timing what the console reads: list pages, filters, searches, a
//! transcript, the analytics and a whole export.

use std::sync::Arc;

use futures::TryStreamExt;
use gateway::console::export::{self, Format};
use gateway::store::console::{ConsoleFilter, FeedbackFilter, SearchWords, StatusFilter};
use gateway::store::{PageRequest, Store};
use time::OffsetDateTime;
use tokio::time::Instant;

use super::{ConsoleArgs, KOREAN, LATIN, SHORT, SYSTEMS};
use crate::note;

pub(super) type Measured = (String, u64, Vec<f64>);

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

pub(super) async fn measure(
    store: Arc<dyn Store>,
    args: &ConsoleArgs,
) -> anyhow::Result<Vec<Measured>> {
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
            "search: a two-letter word (no index)",
            ConsoleFilter {
                words: SearchWords::parse(SHORT),
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
            r,
            "analytics: a year per system, agent and day (rows = days)",
            || async { Ok(s.daily_usage(&all).await?.len() as u64) },
        )
        .await?,
    );
    let one_system = ConsoleFilter {
        system_id: Some(SYSTEMS[0].into()),
        from: Some(OffsetDateTime::now_utc() - time::Duration::days(30)),
        ..all.clone()
    };
    out.push(
        timed(r, "analytics: one system, last 30 days", || async {
            Ok(s.daily_usage(&one_system).await?.len() as u64)
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
