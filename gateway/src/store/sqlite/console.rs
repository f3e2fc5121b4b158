//! The console's reads on SQLite. Search words of
//! three characters or more are answered by the FTS5 trigram index
//! (`messages_fts`, migration 0011) and, for the messages still queued for
//! it (`search_index`), by `LIKE`; shorter ones by `LIKE`.

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params_from_iter};

use crate::store::console::usage::{self, DayOf, UsageRow};
use crate::store::console::{
    Arg, ConsoleConversation, ConsoleFilter, ConsoleMessage, ConsoleStore, DailyUsage, Dialect,
    SearchWords, TurnMetrics, Where, in_listing_order, like_pattern,
};
use crate::store::feedback::{FeedbackRecord, rating_from_str};
use crate::store::{
    MessageRecord, PageRequest, StoreError, from_millis, role_from_str, status_from_str, to_millis,
};

use super::SqliteStore;
use super::reads::conversation_from_row;

/// The SQLite spelling of the console's SQL.
pub(super) struct Lite;

/// The shortest word the trigram index can answer.
const TRIGRAM: usize = 3;

impl Dialect for Lite {
    fn placeholder(n: usize) -> String {
        format!("?{n}")
    }

    fn holds_words(m: &str, words: &SearchWords, sql: &mut Where) {
        let (indexed, short): (Vec<&String>, Vec<&String>) = words
            .words()
            .iter()
            .partition(|w| w.chars().count() >= TRIGRAM);
        if !indexed.is_empty() {
            // One FTS5 query for every indexed word: each string is a
            // phrase, on a trigram index a substring, and `AND` wants them
            // all in the same message.
            let query = indexed
                .iter()
                .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" AND ");
            let p = sql.arg::<Lite>(Arg::Text(query));
            sql.text.push_str(&format!(
                " AND {m}.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH {p}
                     UNION ALL SELECT q.seq FROM messages_to_index q
                     CROSS JOIN messages t ON t.seq = q.seq WHERE 1 = 1"
            ));
            // Messages not indexed yet (see `search_index`): the few in
            // the queue are read directly. `CROSS JOIN` keeps the queue
            // the outer loop: the planner would otherwise scan `messages`.
            for word in &indexed {
                let p = sql.arg::<Lite>(Arg::Text(like_pattern(word)));
                sql.text
                    .push_str(&format!(" AND t.content LIKE {p} ESCAPE '\\'"));
            }
            sql.text.push(')');
        }
        for word in short {
            let p = sql.arg::<Lite>(Arg::Text(like_pattern(word)));
            sql.text
                .push_str(&format!(" AND {m}.content LIKE {p} ESCAPE '\\'"));
        }
    }

    fn has_message_with(words: &SearchWords, sql: &mut Where) {
        if words.words().iter().all(|w| w.chars().count() < TRIGRAM) {
            // Nothing for the index to answer: scan conversation by
            // conversation, newest first, and stop at the page's end.
            sql.text
                .push_str(" AND EXISTS (SELECT 1 FROM messages h WHERE h.conversation_id = c.id");
            Self::holds_words("h", words, sql);
            sql.text.push(')');
            return;
        }
        // Not correlated, so SQLite asks the index once per query rather
        // than once per conversation (a correlated `EXISTS` around the
        // `MATCH` took minutes on a few thousand conversations).
        sql.text
            .push_str(" AND c.id IN (SELECT h.conversation_id FROM messages h WHERE 1 = 1");
        Self::holds_words("h", words, sql);
        sql.text.push(')');
    }
}

impl DayOf for Lite {
    fn day(column: &str) -> String {
        format!("({column} / 86400000)")
    }
}

fn values(args: Vec<Arg>) -> Vec<Value> {
    args.into_iter()
        .map(|a| match a {
            Arg::Text(s) => Value::Text(s),
            Arg::Time(t) => Value::Integer(to_millis(t)),
        })
        .collect()
}

/// The message columns [`message_from_row`] reads, on the row `m`.
const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.role, m.content, m.status, \
     m.upstream_message_id, m.created_at, m.latency_ms, m.ttft_ms, m.prompt_tokens, m.completion_tokens, \
     fb.rating, fb.comment, fb.updated_at";

/// The rows [`MESSAGE_COLUMNS`] come from.
const MESSAGE_ROWS: &str = "messages m LEFT JOIN message_feedback fb ON fb.message_id = m.id";

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<ConsoleMessage> {
    let role: String = row.get(2)?;
    let status: String = row.get(4)?;
    let tokens = |i: usize| -> rusqlite::Result<Option<u64>> {
        Ok(row
            .get::<_, Option<i64>>(i)?
            .and_then(|n| u64::try_from(n).ok()))
    };
    let ms = |i: usize| -> rusqlite::Result<Option<u32>> {
        Ok(row
            .get::<_, Option<i64>>(i)?
            .and_then(|n| u32::try_from(n).ok()))
    };
    let rating: Option<String> = row.get(11)?;
    let feedback = match rating {
        Some(rating) => Some(FeedbackRecord {
            rating: rating_from_str(&rating),
            comment: row.get(12)?,
            updated_at: from_millis(row.get(13)?),
        }),
        None => None,
    };
    Ok(ConsoleMessage {
        record: MessageRecord {
            id: row.get(0)?,
            conversation_id: row.get(1)?,
            role: role_from_str(&role),
            content: row.get(3)?,
            status: status_from_str(&status),
            upstream_message_id: row.get(5)?,
            created_at: from_millis(row.get(6)?),
        },
        metrics: TurnMetrics {
            latency_ms: ms(7)?,
            ttft_ms: ms(8)?,
            prompt_tokens: tokens(9)?,
            completion_tokens: tokens(10)?,
        },
        feedback,
    })
}

pub(super) fn conversations(
    conn: &Connection,
    filter: &ConsoleFilter,
    limit: u32,
    before: Option<&str>,
    only: Option<&str>,
) -> Result<Vec<ConsoleConversation>, StoreError> {
    let mut w = Where::default();
    w.filter::<Lite>(filter);
    if let Some(id) = only {
        let p = w.arg::<Lite>(Arg::Text(id.to_owned()));
        w.text.push_str(&format!(" AND c.id = {p}"));
    }
    if let Some(before) = before {
        let p = w.arg::<Lite>(Arg::Text(before.to_owned()));
        w.text.push_str(&format!(
            " AND (c.created_at, c.id) < (SELECT created_at, id FROM conversations WHERE id = {p})"
        ));
    }
    let sql = format!(
        "SELECT c.id, c.system_id, c.user_id, c.upstream_conversation_id, c.title, c.created_at,
                c.updated_at, c.agent,
                (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id)
         FROM conversations c WHERE 1 = 1{}
         ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}",
        w.text
    );
    let mut found = conn
        .prepare(&sql)?
        .query_map(params_from_iter(values(w.args)), |row| {
            Ok(ConsoleConversation {
                record: conversation_from_row(row)?,
                agent: row.get(7)?,
                messages: u64::try_from(row.get::<_, i64>(8)?).unwrap_or(0),
                hit: None,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    if filter.words.is_empty() || found.is_empty() {
        return Ok(found);
    }
    let mut w = Where::default();
    let ids: Vec<String> = found
        .iter()
        .map(|c| w.arg::<Lite>(Arg::Text(c.record.id.clone())))
        .collect();
    Lite::holds_words("m", &filter.words, &mut w);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_ROWS}
         WHERE m.conversation_id IN ({}){} ORDER BY m.seq",
        ids.join(", "),
        w.text
    );
    let hits = conn
        .prepare(&sql)?
        .query_map(params_from_iter(values(w.args)), message_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    for hit in hits {
        if let Some(c) = found
            .iter_mut()
            .find(|c| c.record.id == hit.record.conversation_id && c.hit.is_none())
        {
            c.hit = Some(hit.record);
        }
    }
    Ok(found)
}

pub(super) fn count(conn: &Connection, filter: &ConsoleFilter) -> Result<u64, StoreError> {
    let mut w = Where::default();
    w.filter::<Lite>(filter);
    let sql = format!("SELECT COUNT(*) FROM conversations c WHERE 1 = 1{}", w.text);
    let n: i64 = conn
        .prepare(&sql)?
        .query_row(params_from_iter(values(w.args)), |row| row.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) fn messages(
    conn: &Connection,
    conversation_ids: &[String],
) -> Result<Vec<ConsoleMessage>, StoreError> {
    if conversation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (1..=conversation_ids.len())
        .map(Lite::placeholder)
        .collect();
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_ROWS}
         WHERE m.conversation_id IN ({}) ORDER BY m.conversation_id, m.seq",
        list.join(", ")
    );
    let found = conn
        .prepare(&sql)?
        .query_map(params_from_iter(conversation_ids), message_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(in_listing_order(conversation_ids, found))
}

pub(super) fn daily_usage(
    conn: &Connection,
    filter: &ConsoleFilter,
) -> Result<Vec<DailyUsage>, StoreError> {
    let mut answers: [Vec<UsageRow>; 4] = Default::default();
    for (answer, (sql, w)) in answers.iter_mut().zip(usage::queries::<Lite>(filter)) {
        let mut stmt = conn.prepare(&sql)?;
        let width = stmt.column_count();
        *answer = stmt
            .query_map(params_from_iter(values(w.args)), |row| {
                let numbers = (3..width)
                    .map(|i| row.get::<_, Option<i64>>(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, numbers))
            })?
            .collect::<Result<Vec<_>, _>>()?;
    }
    Ok(usage::merge(answers))
}

#[async_trait]
impl ConsoleStore for SqliteStore {
    async fn search_backlog(&self) -> Result<u64, StoreError> {
        self.readers
            .read(|conn| {
                let n: i64 =
                    conn.query_row("SELECT COUNT(*) FROM messages_to_index", [], |r| r.get(0))?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }

    async fn console_conversations(
        &self,
        filter: &ConsoleFilter,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConsoleConversation>, StoreError> {
        let (filter, limit, before) = (filter.clone(), page.limit, page.before.map(str::to_owned));
        self.readers
            .read(move |conn| conversations(conn, &filter, limit, before.as_deref(), None))
            .await
    }

    async fn console_conversation(
        &self,
        filter: &ConsoleFilter,
        id: &str,
    ) -> Result<Option<ConsoleConversation>, StoreError> {
        let (filter, id) = (filter.clone(), id.to_owned());
        self.readers
            .read(move |conn| conversations(conn, &filter, 1, None, Some(&id)))
            .await
            .map(|found| found.into_iter().next())
    }

    async fn console_count(&self, filter: &ConsoleFilter) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.readers.read(move |conn| count(conn, &filter)).await
    }

    async fn console_messages(
        &self,
        conversation_ids: &[String],
    ) -> Result<Vec<ConsoleMessage>, StoreError> {
        let ids = conversation_ids.to_vec();
        self.readers.read(move |conn| messages(conn, &ids)).await
    }

    async fn daily_usage(&self, filter: &ConsoleFilter) -> Result<Vec<DailyUsage>, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |conn| daily_usage(conn, &filter))
            .await
    }
}
