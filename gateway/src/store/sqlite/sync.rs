//! [`SyncStore`] on SQLite: whom to sync, merging imported upstream
//! conversations, and the scheduled rounds (one process uses the database,
//! so every round not run yet is granted).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::writer::Writer;
use super::{SqliteStore, reads, writes};
use crate::identity::Identity;
use crate::store::{
    ImportCounts, ImportedConversation, ImportedTurn, StoreError, SyncLease, SyncStore, to_millis,
};

pub(super) fn import_conversation(
    conn: &Connection,
    owner: &Identity,
    conversation: &ImportedConversation,
    turns: &[ImportedTurn],
    at: i64,
) -> Result<ImportCounts, StoreError> {
    let system = owner.system.as_str();
    let user = owner.user.as_str();
    let created_at = conversation.created_at.map(to_millis).unwrap_or(at);
    let mut counts = ImportCounts::default();
    if let Some(first) = turns.first() {
        adopt_conversation(conn, (system, user), &conversation.id, first)?;
    }
    let inserted = conn
        .prepare_cached(
            "INSERT INTO conversations
                 (id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (system_id, user_id, upstream_conversation_id)
                 WHERE upstream_conversation_id IS NOT NULL DO NOTHING",
        )?
        .execute(params![
            new_id(),
            system,
            user,
            conversation.id,
            conversation.name,
            created_at
        ])?;
    let (conversation_id, title): (String, String) = conn
        .prepare_cached(
            "SELECT id, title FROM conversations
             WHERE system_id = ?1 AND user_id = ?2 AND upstream_conversation_id = ?3",
        )?
        .query_row(params![system, user, conversation.id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    if inserted > 0 {
        counts.conversations = 1;
    } else if !conversation.name.is_empty() && conversation.name != title {
        conn.prepare_cached("UPDATE conversations SET title = ?1 WHERE id = ?2")?
            .execute(params![conversation.name, conversation_id])?;
        counts.conversations = 1;
    }
    let mut last = created_at;
    for turn in turns {
        let when = turn.created_at.map(to_millis).unwrap_or(last);
        last = last.max(when);
        counts.messages += import_turn(conn, &conversation_id, turn, when)?;
    }
    if counts.messages > 0 {
        conn.prepare_cached(
            "UPDATE conversations SET updated_at = MAX(updated_at, ?1) WHERE id = ?2",
        )?
        .execute(params![last, conversation_id])?;
    }
    Ok(counts)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
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
/// On the writer: `true` when `round` had not run yet and is now claimed.
pub(super) fn claim(
    conn: &Connection,
    round: i64,
    replica: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM sync_rounds WHERE round = ?1")?
        .query_row(params![round], |_| Ok(()))
        .optional()?
        .is_some();
    if exists {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO sync_rounds (round, replica, started_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![round, replica, now])?;
    Ok(true)
}

/// The right to run a claimed round; finishing records what it did.
pub(super) struct LiteLease {
    pub(super) writer: Writer,
    pub(super) round: i64,
}

#[async_trait]
impl SyncLease for LiteLease {
    async fn finish(self: Box<Self>, counts: ImportCounts, errors: u64) -> Result<(), StoreError> {
        let round = self.round;
        let now = crate::store::to_millis(time::OffsetDateTime::now_utc());
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "UPDATE sync_rounds SET finished_at = ?2, conversations = ?3, messages = ?4,
                         errors = ?5 WHERE round = ?1",
                )?
                .execute(params![
                    round,
                    now,
                    i64::try_from(counts.conversations).unwrap_or(i64::MAX),
                    i64::try_from(counts.messages).unwrap_or(i64::MAX),
                    i64::try_from(errors).unwrap_or(i64::MAX),
                ])?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn record_visit(&self, who: &Identity, at: OffsetDateTime) -> Result<(), StoreError> {
        let (who, at) = (who.clone(), to_millis(at));
        self.writer
            .write(move |conn| writes::record_visit(conn, &who, at))
            .await
    }

    async fn sync_targets(&self) -> Result<Vec<Identity>, StoreError> {
        self.readers.read(reads::sync_targets).await
    }

    async fn import_conversation(
        &self,
        owner: &Identity,
        conversation: &ImportedConversation,
        messages: &[ImportedTurn],
        at: OffsetDateTime,
    ) -> Result<ImportCounts, StoreError> {
        let (owner, conversation, messages) =
            (owner.clone(), conversation.clone(), messages.to_vec());
        let at = to_millis(at);
        self.writer
            .write(move |conn| import_conversation(conn, &owner, &conversation, &messages, at))
            .await
    }

    async fn claim_sync_round(&self, round: i64) -> Result<Option<Box<dyn SyncLease>>, StoreError> {
        let replica = self.process.clone();
        let now = to_millis(OffsetDateTime::now_utc());
        let claimed = self
            .writer
            .write(move |conn| claim(conn, round, &replica, now))
            .await?;
        Ok(claimed.then(|| {
            Box::new(LiteLease {
                writer: self.writer.clone(),
                round,
            }) as Box<dyn SyncLease>
        }))
    }
}
