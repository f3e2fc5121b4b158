//! The SQL of [`DailyUsage`], the same text on both stores but for the day
//! expression and placeholders, and the merge of its four answers.
//!
//! Percentiles use window functions (SQLite has no percentile aggregate):
//! within a group ordered by the value, the nearest-rank p-th percentile is
//! the smallest value whose row number `rn` satisfies `rn * 100 >= p * n`.

use std::collections::BTreeMap;

use super::{ConsoleFilter, DailyUsage, Dialect, Where, day_from_number};

/// One row of a usage query: the group, then its numbers.
pub(crate) type UsageRow = (i64, String, Option<String>, Vec<Option<i64>>);

/// How a store spells the UTC day number of a timestamp column.
pub(crate) trait DayOf: Dialect {
    fn day(column: &str) -> String;
}

/// The four queries: messages, latency percentiles, TTFT percentiles,
/// conversations started. Each yields day, system, agent and the numbers.
pub(crate) fn queries<D: DayOf>(filter: &ConsoleFilter) -> Vec<(String, Where)> {
    let on_messages = |w: &mut Where| {
        let mut f = filter.clone();
        let (from, to) = (f.from.take(), f.to.take());
        w.filter::<D>(&f);
        if let Some(from) = from {
            let p = w.arg::<D>(super::Arg::Time(from));
            w.text.push_str(&format!(" AND m.created_at >= {p}"));
        }
        if let Some(to) = to {
            let p = w.arg::<D>(super::Arg::Time(to));
            w.text.push_str(&format!(" AND m.created_at < {p}"));
        }
    };
    let day = D::day("m.created_at");
    let mut messages = Where::default();
    on_messages(&mut messages);
    let messages_sql = format!(
        "SELECT {day} AS day, c.system_id, c.agent,
                COUNT(*),
                COUNT(DISTINCT c.user_id),
                CAST(SUM(CASE WHEN m.status = 'failed' THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(COALESCE(m.prompt_tokens, 0)) AS BIGINT),
                CAST(SUM(COALESCE(m.completion_tokens, 0)) AS BIGINT)
         FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE 1 = 1{}
         GROUP BY 1, 2, 3",
        messages.text
    );
    let percentiles = |column: &str| {
        let mut w = Where::default();
        on_messages(&mut w);
        let sql = format!(
            "SELECT day, system_id, agent,
                    CAST(MIN(CASE WHEN rn * 100 >= 50 * n THEN v END) AS BIGINT),
                    CAST(MIN(CASE WHEN rn * 100 >= 95 * n THEN v END) AS BIGINT)
             FROM (
                 SELECT {day} AS day, c.system_id AS system_id, c.agent AS agent, m.{column} AS v,
                        ROW_NUMBER() OVER (PARTITION BY {day}, c.system_id, c.agent ORDER BY m.{column}) AS rn,
                        COUNT(*) OVER (PARTITION BY {day}, c.system_id, c.agent) AS n
                 FROM messages m JOIN conversations c ON c.id = m.conversation_id
                 WHERE m.{column} IS NOT NULL{}
             ) AS ranked
             GROUP BY 1, 2, 3",
            w.text
        );
        (sql, w)
    };
    let mut started = Where::default();
    started.filter::<D>(filter);
    let started_sql = format!(
        "SELECT {} AS day, c.system_id, c.agent, COUNT(*)
         FROM conversations c WHERE 1 = 1{}
         GROUP BY 1, 2, 3",
        D::day("c.created_at"),
        started.text
    );
    vec![
        (messages_sql, messages),
        percentiles("latency_ms"),
        percentiles("ttft_ms"),
        (started_sql, started),
    ]
}

/// Merge the answers of [`queries`], in their order, into one row per day,
/// system and agent: by day, then system, then agent.
pub(crate) fn merge(answers: [Vec<UsageRow>; 4]) -> Vec<DailyUsage> {
    let mut by_key: BTreeMap<(i64, String, Option<String>), DailyUsage> = BTreeMap::new();
    for (kind, answer) in answers.into_iter().enumerate() {
        for (day, system, agent, v) in answer {
            let row = by_key
                .entry((day, system.clone(), agent.clone()))
                .or_insert_with(|| empty(day, system, agent));
            match kind {
                0 => {
                    row.messages = count(&v, 0);
                    row.active_users = count(&v, 1);
                    row.failures = count(&v, 2);
                    row.prompt_tokens = count(&v, 3);
                    row.completion_tokens = count(&v, 4);
                }
                1 => (row.latency_p50_ms, row.latency_p95_ms) = (ms(&v, 0), ms(&v, 1)),
                2 => (row.ttft_p50_ms, row.ttft_p95_ms) = (ms(&v, 0), ms(&v, 1)),
                _ => row.conversations = count(&v, 0),
            }
        }
    }
    by_key.into_values().collect()
}

fn empty(day: i64, system_id: String, agent: Option<String>) -> DailyUsage {
    DailyUsage {
        day: day_from_number(day),
        system_id,
        agent,
        conversations: 0,
        messages: 0,
        active_users: 0,
        failures: 0,
        latency_p50_ms: None,
        latency_p95_ms: None,
        ttft_p50_ms: None,
        ttft_p95_ms: None,
        prompt_tokens: 0,
        completion_tokens: 0,
    }
}

fn count(v: &[Option<i64>], i: usize) -> u64 {
    v.get(i)
        .copied()
        .flatten()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0)
}

fn ms(v: &[Option<i64>], i: usize) -> Option<u32> {
    v.get(i)
        .copied()
        .flatten()
        .and_then(|n| u32::try_from(n).ok())
}
