//! A filter's messages as CSV or JSON Lines, read from the store a page of
//! conversations at a time, so memory holds one page whatever the total.
//! One line (row) per message, conversations newest first, each in order.

use bytes::Bytes;
use futures::Stream;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::store::console::{ConsoleConversation, ConsoleFilter, ConsoleMessage};
use crate::store::{PageRequest, Store, StoreError};

/// Conversations read per page.
pub const PAGE: u32 = 200;

/// How an export is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// `csv` or `jsonl`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Format::Csv),
            "jsonl" => Some(Format::JsonLines),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/x-ndjson",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

/// One exported message.
#[derive(Debug, Serialize)]
struct Line<'a> {
    conversation_id: &'a str,
    system_id: &'a str,
    user_id: &'a str,
    agent: Option<&'a str>,
    title: &'a str,
    message_id: &'a str,
    role: &'a str,
    status: &'a str,
    content: &'a str,
    created_at: String,
    upstream_message_id: Option<&'a str>,
    latency_ms: Option<u32>,
    ttft_ms: Option<u32>,
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    /// The user's rating of an answer: `like` or `dislike`.
    feedback: Option<&'a str>,
    feedback_comment: Option<&'a str>,
}

/// The CSV header, in [`Line`]'s field order.
const HEADER: &str = "conversation_id,system_id,user_id,agent,title,message_id,role,status,content,created_at,upstream_message_id,latency_ms,ttft_ms,prompt_tokens,completion_tokens,feedback,feedback_comment\n";

/// A part of an export: the bytes of some conversations.
#[derive(Debug)]
pub struct Chunk {
    /// Conversations written in this chunk.
    pub conversations: u64,
    pub bytes: Bytes,
}

struct Cursor {
    before: Option<String>,
    started: bool,
    done: bool,
}

/// The export of `filter` (already bounded to the viewer's systems).
pub fn export(
    store: std::sync::Arc<dyn Store>,
    filter: ConsoleFilter,
    format: Format,
) -> impl Stream<Item = Result<Chunk, StoreError>> + Send + 'static {
    let cursor = Cursor {
        before: None,
        started: false,
        done: false,
    };
    futures::stream::try_unfold(cursor, move |mut cursor| {
        let store = store.clone();
        let filter = filter.clone();
        async move {
            if cursor.done {
                return Ok(None);
            }
            let mut out = String::new();
            if !cursor.started && format == Format::Csv {
                out.push_str(HEADER);
            }
            cursor.started = true;
            let page = store
                .console_conversations(
                    &filter,
                    PageRequest {
                        limit: PAGE,
                        before: cursor.before.as_deref(),
                    },
                )
                .await?;
            cursor.done = page.len() < PAGE as usize;
            cursor.before = page.last().map(|c| c.record.id.clone());
            let ids: Vec<String> = page.iter().map(|c| c.record.id.clone()).collect();
            let messages = store.console_messages(&ids).await?;
            write_page(&mut out, &page, &messages, format);
            Ok(Some((
                Chunk {
                    conversations: page.len() as u64,
                    bytes: Bytes::from(out),
                },
                cursor,
            )))
        }
    })
}

fn write_page(
    out: &mut String,
    conversations: &[ConsoleConversation],
    messages: &[ConsoleMessage],
    format: Format,
) {
    for m in messages {
        let Some(c) = conversations
            .iter()
            .find(|c| c.record.id == m.record.conversation_id)
        else {
            continue;
        };
        let line = Line {
            conversation_id: &c.record.id,
            system_id: &c.record.system_id,
            user_id: &c.record.user_id,
            agent: c.agent.as_deref(),
            title: &c.record.title,
            message_id: &m.record.id,
            role: m.record.role.as_str(),
            status: m.record.status.as_str(),
            content: &m.record.content,
            created_at: rfc3339(m.record.created_at),
            upstream_message_id: m.record.upstream_message_id.as_deref(),
            latency_ms: m.metrics.latency_ms,
            ttft_ms: m.metrics.ttft_ms,
            prompt_tokens: m.metrics.prompt_tokens,
            completion_tokens: m.metrics.completion_tokens,
            feedback: m.feedback.as_ref().map(|f| f.rating.as_str()),
            feedback_comment: m.feedback.as_ref().and_then(|f| f.comment.as_deref()),
        };
        match format {
            Format::JsonLines => {
                // Serialising plain strings and numbers cannot fail.
                if let Ok(json) = serde_json::to_string(&line) {
                    out.push_str(&json);
                    out.push('\n');
                }
            }
            Format::Csv => csv_row(out, &line),
        }
    }
}

fn csv_row(out: &mut String, l: &Line<'_>) {
    let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let fields: [String; 17] = [
        l.conversation_id.into(),
        l.system_id.into(),
        l.user_id.into(),
        l.agent.unwrap_or_default().into(),
        l.title.into(),
        l.message_id.into(),
        l.role.into(),
        l.status.into(),
        l.content.into(),
        l.created_at.clone(),
        l.upstream_message_id.unwrap_or_default().into(),
        number(l.latency_ms.map(u64::from)),
        number(l.ttft_ms.map(u64::from)),
        number(l.prompt_tokens),
        number(l.completion_tokens),
        l.feedback.unwrap_or_default().into(),
        l.feedback_comment.unwrap_or_default().into(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push('\n');
}

/// One CSV field (RFC 4180 quoting). Text a spreadsheet would run as a
/// formula (`=`, `+`, `-`, `@` first) is prefixed with `'`.
pub(crate) fn csv_field(out: &mut String, f: &str) {
    let formula = f.starts_with(['=', '+', '-', '@']) && f.parse::<f64>().is_err();
    let quote = formula || f.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&f.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(f);
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use futures::TryStreamExt;

    use super::*;
    use crate::identity::Identity;
    use crate::store::NewTurn;
    use crate::store::sqlite::SqliteStore;

    #[tokio::test]
    async fn a_large_export_arrives_a_page_at_a_time() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open("sqlite::memory:").await.unwrap());
        let owner = Identity::parse("bulk", "u").unwrap();
        let n = 2 * PAGE + 50;
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        for i in 0..n {
            let id = uuid::Uuid::now_v7().to_string();
            let text = format!("question {i}");
            store
                .begin_turn(&NewTurn {
                    owner: &owner,
                    conversation_id: None,
                    new_conversation_id: &id,
                    title: &text,
                    message_id: &uuid::Uuid::now_v7().to_string(),
                    content: &text,
                    retry_of: None,
                    agent: None,
                    at: t0 + time::Duration::seconds(i64::from(i)),
                })
                .await
                .unwrap();
        }
        let chunks: Vec<Chunk> = export(store.clone(), ConsoleFilter::default(), Format::JsonLines)
            .try_collect()
            .await
            .unwrap();
        let sizes: Vec<u64> = chunks.iter().map(|c| c.conversations).collect();
        assert_eq!(sizes, [u64::from(PAGE), u64::from(PAGE), 50]);
        let lines: Vec<serde_json::Value> = chunks
            .iter()
            .flat_map(|c| {
                std::str::from_utf8(&c.bytes)
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .map(|l| serde_json::from_str(&l).unwrap())
            .collect();
        assert_eq!(lines.len(), n as usize);
        // Newest first, each conversation once.
        assert_eq!(lines[0]["content"], format!("question {}", n - 1));
        assert_eq!(lines[lines.len() - 1]["content"], "question 0");
        let distinct: HashSet<&str> = lines
            .iter()
            .map(|l| l["conversation_id"].as_str().unwrap())
            .collect();
        assert_eq!(distinct.len(), n as usize);

        let csv: Vec<Chunk> = export(store, ConsoleFilter::default(), Format::Csv)
            .try_collect()
            .await
            .unwrap();
        let text: String = csv
            .iter()
            .map(|c| std::str::from_utf8(&c.bytes).unwrap())
            .collect();
        assert_eq!(
            text.lines().count(),
            n as usize + 1,
            "a header, then a row each"
        );
        assert_eq!(text.lines().next().unwrap(), HEADER.trim_end());
    }

    fn field(f: &str) -> String {
        let mut out = String::new();
        csv_field(&mut out, f);
        out
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain 한국어"), "plain 한국어");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\"\nthen"), "\"say \"\"hi\"\"\nthen\"");
        assert_eq!(field("=SUM(A1)"), "\"'=SUM(A1)\"");
        assert_eq!(field("-12"), "-12");
    }
}
