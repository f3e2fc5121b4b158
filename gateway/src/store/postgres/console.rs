//! The console's reads on PostgreSQL. Search words
//! are matched with `ILIKE`, which the `pg_trgm` index (migration 0010)
//! serves for words of three characters or more.

use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Postgres, Row};

use super::conversations::ConversationRow;
use super::{PgStore, stored};
use crate::store::console::usage::{self, DayOf, UsageRow};
use crate::store::console::{
    Arg, ConsoleConversation, ConsoleFilter, ConsoleMessage, ConsoleStore, DailyUsage, Dialect,
    SearchWords, TurnMetrics, Where, in_listing_order, like_pattern,
};
use crate::store::feedback::{FeedbackRecord, rating_from_str};
use crate::store::{MessageRecord, PageRequest, StoreError, role_from_str, status_from_str};

/// The PostgreSQL spelling of the console's SQL.
pub(super) struct Pg;

impl Dialect for Pg {
    fn placeholder(n: usize) -> String {
        format!("${n}")
    }

    fn holds_words(m: &str, words: &SearchWords, sql: &mut Where) {
        for word in words.words() {
            let p = sql.arg::<Pg>(Arg::Text(like_pattern(word)));
            sql.text
                .push_str(&format!(" AND {m}.content ILIKE {p} ESCAPE '\\'"));
        }
    }
}

impl DayOf for Pg {
    fn day(column: &str) -> String {
        format!("CAST(floor(extract(epoch FROM {column}) / 86400) AS BIGINT)")
    }
}

fn bind_all<'q>(
    mut query: Query<'q, Postgres, PgArguments>,
    args: Vec<Arg>,
) -> Query<'q, Postgres, PgArguments> {
    for a in args {
        query = match a {
            Arg::Text(s) => query.bind(s),
            Arg::Time(t) => query.bind(stored(t)),
        };
    }
    query
}

/// The message columns [`message_from_row`] reads, on the row `m`.
const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.role, m.content, m.status, \
     m.upstream_message_id, m.created_at, m.latency_ms, m.ttft_ms, m.prompt_tokens, m.completion_tokens, \
     fb.rating, fb.comment, fb.updated_at";

/// The rows [`MESSAGE_COLUMNS`] come from.
const MESSAGE_ROWS: &str = "messages m LEFT JOIN message_feedback fb ON fb.message_id = m.id";

fn message_from_row(row: &PgRow) -> Result<ConsoleMessage, sqlx::Error> {
    let role: String = row.try_get(2)?;
    let status: String = row.try_get(4)?;
    let ms = |i: usize| -> Result<Option<u32>, sqlx::Error> {
        Ok(row
            .try_get::<Option<i32>, _>(i)?
            .and_then(|n| u32::try_from(n).ok()))
    };
    let tokens = |i: usize| -> Result<Option<u64>, sqlx::Error> {
        Ok(row
            .try_get::<Option<i64>, _>(i)?
            .and_then(|n| u64::try_from(n).ok()))
    };
    let rating: Option<String> = row.try_get(11)?;
    let feedback = match rating {
        Some(rating) => Some(FeedbackRecord {
            rating: rating_from_str(&rating),
            comment: row.try_get(12)?,
            updated_at: row.try_get(13)?,
        }),
        None => None,
    };
    Ok(ConsoleMessage {
        record: MessageRecord {
            id: row.try_get(0)?,
            conversation_id: row.try_get(1)?,
            role: role_from_str(&role),
            content: row.try_get(3)?,
            status: status_from_str(&status),
            upstream_message_id: row.try_get(5)?,
            created_at: row.try_get(6)?,
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

pub(super) async fn conversations(
    pool: &PgPool,
    filter: &ConsoleFilter,
    limit: u32,
    before: Option<&str>,
    only: Option<&str>,
) -> Result<Vec<ConsoleConversation>, StoreError> {
    let mut w = Where::default();
    w.filter::<Pg>(filter);
    if let Some(id) = only {
        let p = w.arg::<Pg>(Arg::Text(id.to_owned()));
        w.text.push_str(&format!(" AND c.id = {p}"));
    }
    if let Some(before) = before {
        let p = w.arg::<Pg>(Arg::Text(before.to_owned()));
        w.text.push_str(&format!(
            " AND (c.created_at, c.id) < (SELECT created_at, id FROM conversations WHERE id = {p})"
        ));
    }
    let sql = format!(
        "SELECT c.id, c.system_id, c.user_id, c.upstream_conversation_id, c.title, c.created_at,
                c.updated_at, c.agent,
                (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS messages
         FROM conversations c WHERE 1 = 1{}
         ORDER BY c.created_at DESC, c.id DESC LIMIT {limit}",
        w.text
    );
    let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), w.args)
        .fetch_all(pool)
        .await?;
    let mut found = rows
        .iter()
        .map(|row| {
            Ok(ConsoleConversation {
                record: <ConversationRow as sqlx::FromRow<PgRow>>::from_row(row)?.into(),
                agent: row.try_get("agent")?,
                messages: u64::try_from(row.try_get::<i64, _>("messages")?).unwrap_or(0),
                hit: None,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    if filter.words.is_empty() || found.is_empty() {
        return Ok(found);
    }
    let ids: Vec<String> = found.iter().map(|c| c.record.id.clone()).collect();
    let mut w = Where::default();
    // `$1` is the id list, bound first.
    w.args.push(Arg::Text(String::new()));
    Pg::holds_words("m", &filter.words, &mut w);
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_ROWS}
         WHERE m.conversation_id = ANY($1){} ORDER BY m.seq",
        w.text
    );
    let query = sqlx::query(AssertSqlSafe(sql)).bind(ids);
    let hits = bind_all(query, w.args.split_off(1)).fetch_all(pool).await?;
    for row in &hits {
        let hit = message_from_row(row)?;
        if let Some(c) = found
            .iter_mut()
            .find(|c| c.record.id == hit.record.conversation_id && c.hit.is_none())
        {
            c.hit = Some(hit.record);
        }
    }
    Ok(found)
}

pub(super) async fn count(pool: &PgPool, filter: &ConsoleFilter) -> Result<u64, StoreError> {
    let mut w = Where::default();
    w.filter::<Pg>(filter);
    let sql = format!("SELECT COUNT(*) FROM conversations c WHERE 1 = 1{}", w.text);
    let n: i64 = bind_all(sqlx::query(AssertSqlSafe(sql)), w.args)
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn messages(
    pool: &PgPool,
    conversation_ids: &[String],
) -> Result<Vec<ConsoleMessage>, StoreError> {
    if conversation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_ROWS}
         WHERE m.conversation_id = ANY($1) ORDER BY m.conversation_id, m.seq"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(conversation_ids)
        .fetch_all(pool)
        .await?;
    let found = rows
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(in_listing_order(conversation_ids, found))
}

pub(super) async fn daily_usage(
    pool: &PgPool,
    filter: &ConsoleFilter,
) -> Result<Vec<DailyUsage>, StoreError> {
    let mut answers: [Vec<UsageRow>; 4] = Default::default();
    for (answer, (sql, w)) in answers.iter_mut().zip(usage::queries::<Pg>(filter)) {
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), w.args)
            .fetch_all(pool)
            .await?;
        *answer = rows
            .iter()
            .map(|row| {
                let numbers = (3..row.len())
                    .map(|i| row.try_get::<Option<i64>, _>(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, numbers))
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
    }
    Ok(usage::merge(answers))
}

#[async_trait]
impl ConsoleStore for PgStore {
    async fn console_conversations(
        &self,
        filter: &ConsoleFilter,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConsoleConversation>, StoreError> {
        conversations(&self.pool, filter, page.limit, page.before, None).await
    }

    async fn console_conversation(
        &self,
        filter: &ConsoleFilter,
        id: &str,
    ) -> Result<Option<ConsoleConversation>, StoreError> {
        conversations(&self.pool, filter, 1, None, Some(id))
            .await
            .map(|found| found.into_iter().next())
    }

    async fn console_count(&self, filter: &ConsoleFilter) -> Result<u64, StoreError> {
        count(&self.pool, filter).await
    }

    async fn console_messages(
        &self,
        conversation_ids: &[String],
    ) -> Result<Vec<ConsoleMessage>, StoreError> {
        messages(&self.pool, conversation_ids).await
    }

    async fn daily_usage(&self, filter: &ConsoleFilter) -> Result<Vec<DailyUsage>, StoreError> {
        daily_usage(&self.pool, filter).await
    }
}
