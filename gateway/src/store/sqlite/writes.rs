//! The write statements, run by the writer thread inside a transaction.
//!
//! Statements are prepared once per connection (`prepare_cached`). Every
//! function here is one job: it either completes or returns an error, and the
//! writer rolls back exactly its savepoint.

use rusqlite::{Connection, OptionalExtension, params};
use sdk::MessageStatus;

use super::reads::conversation_from_row;
use crate::identity::Identity;
use crate::store::console::TurnMetrics;
use crate::store::{Begin, ConversationRecord, NewTurn, StoreError, TurnEnd, TurnStart, to_millis};

/// A [`NewTurn`] that owns its data, so it can travel to the writer thread.
pub(super) struct OwnedTurn {
    owner: Identity,
    conversation_id: Option<String>,
    new_conversation_id: String,
    title: String,
    message_id: String,
    content: String,
    retry_of: Option<String>,
    agent: Option<String>,
    at: i64,
    /// The process answering the turn (see `0003_open_turns.sql`).
    open_by: String,
}

impl OwnedTurn {
    /// `t`, to be answered by the process `open_by`.
    pub(super) fn new(t: &NewTurn<'_>, open_by: &str) -> Self {
        Self {
            owner: t.owner.clone(),
            conversation_id: t.conversation_id.map(str::to_owned),
            new_conversation_id: t.new_conversation_id.to_owned(),
            title: t.title.to_owned(),
            message_id: t.message_id.to_owned(),
            content: t.content.to_owned(),
            retry_of: t.retry_of.map(str::to_owned),
            agent: t.agent.map(str::to_owned),
            at: to_millis(t.at),
            open_by: open_by.to_owned(),
        }
    }
}

/// A [`TurnEnd`] that owns its data.
pub(super) struct OwnedEnd {
    conversation_id: String,
    user_message_id: String,
    user_status: MessageStatus,
    reply: Option<(String, String, MessageStatus, TurnMetrics)>,
    upstream_conversation_id: Option<String>,
    upstream_message_id: Option<String>,
    at: i64,
}

impl From<&TurnEnd<'_>> for OwnedEnd {
    fn from(e: &TurnEnd<'_>) -> Self {
        Self {
            conversation_id: e.conversation_id.to_owned(),
            user_message_id: e.user_message_id.to_owned(),
            user_status: e.user_status,
            reply: e.reply.map(|r| {
                (
                    r.message_id.to_owned(),
                    r.content.to_owned(),
                    r.status,
                    r.metrics,
                )
            }),
            upstream_conversation_id: e.upstream_conversation_id.map(str::to_owned),
            upstream_message_id: e.upstream_message_id.map(str::to_owned),
            at: to_millis(e.at),
        }
    }
}

pub(super) fn begin_turn(conn: &Connection, t: &OwnedTurn) -> Result<Begin, StoreError> {
    let system = t.owner.system.as_str();
    let user = t.owner.user.as_str();
    let mut start = match &t.conversation_id {
        Some(id) => {
            let found: Option<(Option<String>, Option<String>)> = conn
                .prepare_cached(
                    "UPDATE conversations SET updated_at = ?1
                     WHERE id = ?2 AND system_id = ?3 AND user_id = ?4
                     RETURNING upstream_conversation_id, agent",
                )?
                .query_row(params![t.at, id, system, user], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            let Some((upstream, agent)) = found else {
                return Ok(Begin::ConversationNotFound);
            };
            if t.agent.is_some() && t.agent != agent {
                return Ok(Begin::AgentMismatch(agent));
            }
            TurnStart {
                conversation_id: id.clone(),
                upstream_conversation_id: upstream,
                created: false,
                user_message_id: t.message_id.clone(),
                agent,
            }
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO conversations (id, system_id, user_id, title, created_at, updated_at, agent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            )?
            .execute(params![
                t.new_conversation_id,
                system,
                user,
                t.title,
                t.at,
                t.agent
            ])?;
            TurnStart {
                conversation_id: t.new_conversation_id.clone(),
                upstream_conversation_id: None,
                created: true,
                user_message_id: t.message_id.clone(),
                agent: t.agent.clone(),
            }
        }
    };
    if let Some(retry) = &t.retry_of {
        let status: Option<String> = conn
            .prepare_cached(
                "SELECT status FROM messages
                 WHERE id = ?1 AND conversation_id = ?2 AND role = 'user'",
            )?
            .query_row(params![retry, start.conversation_id], |row| row.get(0))
            .optional()?;
        match status.as_deref() {
            None => return Ok(Begin::RetryTargetNotFound),
            Some(s) if s == MessageStatus::Failed.as_str() => {
                conn.prepare_cached(
                    "UPDATE messages SET status = 'complete', content = ?1, updated_at = ?2,
                         open_by = ?4
                     WHERE id = ?3",
                )?
                .execute(params![t.content, t.at, retry, t.open_by])?;
                start.user_message_id = retry.clone();
                return Ok(Begin::Started(start));
            }
            // It was answered: ask again, as a new message.
            Some(_) => {}
        }
    }
    conn.prepare_cached(
        "INSERT INTO messages
             (id, conversation_id, role, content, status, created_at, updated_at, open_by)
         VALUES (?1, ?2, 'user', ?3, 'complete', ?4, ?4, ?5)",
    )?
    .execute(params![
        t.message_id,
        start.conversation_id,
        t.content,
        t.at,
        t.open_by
    ])?;
    Ok(Begin::Started(start))
}

pub(super) fn finish_turn(conn: &Connection, e: &OwnedEnd) -> Result<(), StoreError> {
    // A conversation deleted while its turn ran stays deleted: nothing is
    // written. Upstream ids are recorded unless a concurrent sync already
    // holds them for another row: then this turn keeps its rows without
    // them, rather than failing.
    let exists = conn
        .prepare_cached("UPDATE conversations SET updated_at = ?1 WHERE id = ?2")?
        .execute(params![e.at, e.conversation_id])?;
    if exists == 0 {
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE messages SET status = ?1, updated_at = ?2, open_by = NULL,
             upstream_message_id = CASE WHEN ?3 IS NULL OR EXISTS (
                 SELECT 1 FROM messages m WHERE m.conversation_id = ?4
                     AND m.upstream_message_id = ?3 AND m.role = 'user')
                 THEN upstream_message_id ELSE ?3 END
         WHERE id = ?5",
    )?
    .execute(params![
        e.user_status.as_str(),
        e.at,
        e.upstream_message_id,
        e.conversation_id,
        e.user_message_id
    ])?;
    if let Some((id, content, status, metrics)) = &e.reply {
        conn.prepare_cached(
            "INSERT INTO messages
                 (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at,
                  latency_ms, ttft_ms, prompt_tokens, completion_tokens)
             VALUES (?1, ?2, 'assistant', ?3, ?4,
                 CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = ?2
                     AND m.upstream_message_id = ?5 AND m.role = 'assistant') THEN NULL ELSE ?5 END,
                 ?6, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            id,
            e.conversation_id,
            content,
            status.as_str(),
            e.upstream_message_id,
            e.at,
            metrics.latency_ms,
            metrics.ttft_ms,
            metrics.prompt_tokens.and_then(|n| i64::try_from(n).ok()),
            metrics.completion_tokens.and_then(|n| i64::try_from(n).ok())
        ])?;
    }
    if let Some(upstream) = &e.upstream_conversation_id {
        conn.prepare_cached(
            "UPDATE conversations SET upstream_conversation_id = ?1
             WHERE id = ?2 AND upstream_conversation_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM conversations c
                   WHERE c.upstream_conversation_id = ?1
                     AND c.system_id = conversations.system_id
                     AND c.user_id = conversations.user_id)",
        )?
        .execute(params![upstream, e.conversation_id])?;
    }
    Ok(())
}

/// Mark every turn still open as failed: on SQLite they were all left by a
/// process that is gone (one process serves a database), and so are the
/// partials of answers being streamed. Returns how many turns.
pub(super) fn fail_abandoned_turns(conn: &Connection) -> Result<usize, StoreError> {
    conn.execute("DELETE FROM live_answers", [])?;
    Ok(conn.execute(
        "UPDATE messages SET status = 'failed', open_by = NULL WHERE open_by IS NOT NULL",
        [],
    )?)
}

/// Rewrite the probe row: fails when the database cannot take writes.
pub(super) fn probe(conn: &Connection, at: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO write_probe (id, at) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET at = excluded.at",
    )?
    .execute(params![at])?;
    Ok(())
}

pub(super) fn rename(
    conn: &Connection,
    owner: &Identity,
    id: &str,
    title: &str,
    at: i64,
) -> Result<Option<ConversationRecord>, StoreError> {
    Ok(conn
        .prepare_cached(concat!(
            "UPDATE conversations SET title = ?1, updated_at = ?2
             WHERE id = ?3 AND system_id = ?4 AND user_id = ?5 RETURNING ",
            conversation_columns!()
        ))?
        .query_row(
            params![title, at, id, owner.system.as_str(), owner.user.as_str()],
            conversation_from_row,
        )
        .optional()?)
}

pub(super) fn delete(conn: &Connection, owner: &Identity, id: &str) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached(
            "DELETE FROM conversations WHERE id = ?1 AND system_id = ?2 AND user_id = ?3",
        )?
        .execute(params![id, owner.system.as_str(), owner.user.as_str()])?;
    Ok(deleted > 0)
}

pub(super) fn record_visit(conn: &Connection, who: &Identity, at: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO visitors (system_id, user_id, first_seen_at, last_seen_at)
         VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (system_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    )?
    .execute(params![who.system.as_str(), who.user.as_str(), at])?;
    Ok(())
}
