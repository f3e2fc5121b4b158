//! Statements of turns sharing one upstream conversation (see
//! `store/turns.rs`), and the matching of imported upstream turns to the
//! turns the gateway stored itself.

use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{ImportedTurn, StoreError, UpstreamClaim};

/// [`crate::store::UpstreamIds`], owned, to travel to the writer thread.
pub(super) struct OwnedIds {
    pub(super) conversation_id: String,
    pub(super) user_message_id: String,
    pub(super) upstream_conversation_id: Option<String>,
    pub(super) upstream_message_id: Option<String>,
}

pub(super) fn record_upstream_ids(conn: &Connection, ids: &OwnedIds) -> Result<(), StoreError> {
    if let Some(upstream) = &ids.upstream_message_id {
        conn.prepare_cached(
            "UPDATE messages SET upstream_message_id = ?1
             WHERE id = ?2 AND upstream_message_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = ?3
                   AND m.upstream_message_id = ?1 AND m.role = 'user')",
        )?
        .execute(params![upstream, ids.user_message_id, ids.conversation_id])?;
    }
    if let Some(upstream) = &ids.upstream_conversation_id {
        conn.prepare_cached(
            "UPDATE conversations SET upstream_conversation_id = ?1
             WHERE id = ?2 AND upstream_conversation_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM conversations c
                   WHERE c.upstream_conversation_id = ?1
                     AND c.system_id = conversations.system_id
                     AND c.user_id = conversations.user_id)",
        )?
        .execute(params![upstream, ids.conversation_id])?;
    }
    Ok(())
}

pub(super) fn upstream_claim(
    conn: &Connection,
    conversation_id: &str,
    user_message_id: &str,
) -> Result<UpstreamClaim, StoreError> {
    let found: Option<(Option<String>, bool)> = conn
        .prepare_cached(
            "SELECT c.upstream_conversation_id, EXISTS (
                 SELECT 1 FROM messages m, messages mine
                 WHERE mine.id = ?2 AND m.conversation_id = c.id AND m.role = 'user'
                   AND m.open_by IS NOT NULL AND m.seq < mine.seq)
             FROM conversations c WHERE c.id = ?1",
        )?
        .query_row(params![conversation_id, user_message_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    Ok(match found {
        Some((Some(upstream), _)) => UpstreamClaim::Known(upstream),
        Some((None, true)) => UpstreamClaim::Pending,
        Some((None, false)) | None => UpstreamClaim::Free,
    })
}

/// Give the upstream conversation `upstream_id` to the owner's conversation
/// that started it, if the turn that started it was cut before its id was
/// recorded: the newest conversation without an upstream id whose first
/// question is `first.query`, carries no other upstream turn's id and is
/// not being answered (a live turn records its ids itself).
pub(super) fn adopt_conversation(
    conn: &Connection,
    (system, user): (&str, &str),
    upstream_id: &str,
    first: &ImportedTurn,
) -> Result<(), StoreError> {
    let Some(query) = &first.query else {
        return Ok(());
    };
    conn.prepare_cached(
        "UPDATE conversations SET upstream_conversation_id = ?3
         WHERE id = (
             SELECT c.id FROM conversations c
             WHERE c.system_id = ?1 AND c.user_id = ?2 AND c.upstream_conversation_id IS NULL
               AND EXISTS (SELECT 1 FROM messages m
                   WHERE m.seq = (SELECT MIN(f.seq) FROM messages f
                                  WHERE f.conversation_id = c.id AND f.role = 'user')
                     AND m.content = ?4 AND m.open_by IS NULL
                     AND (m.upstream_message_id IS NULL OR m.upstream_message_id = ?5))
             ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM conversations o
               WHERE o.system_id = ?1 AND o.user_id = ?2 AND o.upstream_conversation_id = ?3)",
    )?
    .execute(params![system, user, upstream_id, query, first.id])?;
    Ok(())
}

/// Merge one imported turn into `conversation_id`; returns the messages
/// created. A stored question is matched by the upstream's id, else (a turn
/// cut before the id was recorded) by its text among questions without an
/// upstream id that no process is answering; a matched question the
/// upstream did receive is `complete`.
/// A stored answer is matched by the upstream's id, else it is the message
/// right after the matched question when that is an answer without an
/// upstream id (cut short): it gets the upstream's whole answer. A turn
/// still answering is left to finish on its own.
pub(super) fn import_turn(
    conn: &Connection,
    conversation_id: &str,
    turn: &ImportedTurn,
    when: i64,
) -> Result<u64, StoreError> {
    let mut added = 0;
    let mut question: Option<i64> = None;
    if let Some(query) = &turn.query {
        let known: Option<(i64, bool)> = conn
            .prepare_cached(
                "UPDATE messages
                 SET status = CASE WHEN open_by IS NULL THEN 'complete' ELSE status END
                 WHERE conversation_id = ?1 AND role = 'user' AND upstream_message_id = ?2
                 RETURNING seq, open_by IS NOT NULL",
            )?
            .query_row(params![conversation_id, turn.id], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        if let Some((_, true)) = known {
            // Still answering: the live turn stores its answer itself.
            return Ok(added);
        }
        question = known.map(|(seq, _)| seq);
        if question.is_none() {
            question = conn
                .prepare_cached(
                    "UPDATE messages SET upstream_message_id = ?2, status = 'complete'
                     WHERE seq = (SELECT seq FROM messages
                         WHERE conversation_id = ?1 AND role = 'user'
                           AND upstream_message_id IS NULL AND content = ?3
                           AND open_by IS NULL
                         ORDER BY seq LIMIT 1)
                     RETURNING seq",
                )?
                .query_row(params![conversation_id, turn.id, query], |row| row.get(0))
                .optional()?;
        }
        if question.is_none() {
            added += insert(conn, conversation_id, "user", query, &turn.id, when)?;
        }
    }
    let Some(answer) = &turn.answer else {
        return Ok(added);
    };
    let known: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages
                 WHERE conversation_id = ?1 AND role = 'assistant' AND upstream_message_id = ?2)",
        )?
        .query_row(params![conversation_id, turn.id], |row| row.get(0))?;
    if known {
        return Ok(added);
    }
    if let Some(seq) = question {
        let completed = conn
            .prepare_cached(
                "UPDATE messages SET upstream_message_id = ?2, content = ?3, status = 'complete'
                 WHERE seq = (SELECT seq FROM messages
                     WHERE conversation_id = ?1 AND seq > ?4 ORDER BY seq LIMIT 1)
                   AND role = 'assistant' AND upstream_message_id IS NULL",
            )?
            .execute(params![conversation_id, turn.id, answer, seq])?;
        if completed > 0 {
            return Ok(added);
        }
    }
    added += insert(conn, conversation_id, "assistant", answer, &turn.id, when)?;
    Ok(added)
}

fn insert(
    conn: &Connection,
    conversation_id: &str,
    role: &str,
    text: &str,
    upstream_id: &str,
    when: i64,
) -> Result<u64, StoreError> {
    let added = conn
        .prepare_cached(
            "INSERT INTO messages
                 (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'complete', ?5, ?6, ?6)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            uuid::Uuid::now_v7().to_string(),
            conversation_id,
            role,
            text,
            upstream_id,
            when
        ])?;
    Ok(u64::try_from(added).unwrap_or(0))
}
