//! Answers still being streamed, on SQLite: the statements behind
//! [`LiveStore::save_partial`] and
//! [`LiveStore::answer_progress`].

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::reads::OwnedScope;
use crate::store::live::{AnswerProgress, AnswerState, LiveStore, PartialAnswer};
use crate::store::{Scope, StoreError, from_millis, role_from_str, status_from_str, to_millis};

/// A partial answer, owned (writes run on another thread).
#[derive(Debug, Clone)]
pub(super) struct OwnedPartial {
    pub(super) conversation_id: String,
    pub(super) message_id: String,
    pub(super) user_message_id: String,
    pub(super) content: String,
    pub(super) at: i64,
}

pub(super) fn save(conn: &Connection, p: &OwnedPartial) -> Result<(), StoreError> {
    // A conversation deleted meanwhile stays deleted: nothing is inserted.
    conn.prepare_cached(
        "INSERT INTO live_answers (message_id, conversation_id, user_message_id, content, updated_at)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?2)
         ON CONFLICT (message_id) DO UPDATE SET
             content = excluded.content, updated_at = excluded.updated_at",
    )?
    .execute(params![
        p.message_id,
        p.conversation_id,
        p.user_message_id,
        p.content,
        p.at
    ])?;
    Ok(())
}

pub(super) fn drop_partial(conn: &Connection, message_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM live_answers WHERE message_id = ?1")?
        .execute(params![message_id])?;
    Ok(())
}

pub(super) fn progress(
    conn: &Connection,
    scope: &OwnedScope,
    conversation_id: &str,
    message_id: &str,
) -> Result<Option<AnswerProgress>, StoreError> {
    let (system, user) = match scope {
        OwnedScope::Owner(owner) => (Some(owner.system.as_str()), Some(owner.user.as_str())),
        OwnedScope::Any => (None, None),
    };
    // The stored message first: a finished turn may still have its partial
    // for a moment.
    let found = conn
        .prepare_cached(
            "SELECT m.role, m.status, m.content, 0 AS live,
                 (SELECT u.id FROM messages u WHERE u.conversation_id = m.conversation_id
                     AND u.role = 'user' AND u.seq < m.seq ORDER BY u.seq DESC LIMIT 1)
             FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.id = ?1 AND m.conversation_id = ?2
               AND (?3 IS NULL OR (c.system_id = ?3 AND c.user_id = ?4))
             UNION ALL
             SELECT 'assistant', l.updated_at, l.content, 1, l.user_message_id
             FROM live_answers l JOIN conversations c ON c.id = l.conversation_id
             WHERE l.message_id = ?1 AND l.conversation_id = ?2
               AND (?3 IS NULL OR (c.system_id = ?3 AND c.user_id = ?4))
             ORDER BY 4 LIMIT 1",
        )?
        .query_row(params![message_id, conversation_id, system, user], |row| {
            let role: String = row.get(0)?;
            let live: i64 = row.get(3)?;
            let state = if live == 1 {
                AnswerState::Streaming {
                    updated_at: from_millis(row.get(1)?),
                }
            } else {
                AnswerState::Finished(status_from_str(&row.get::<_, String>(1)?))
            };
            Ok(AnswerProgress {
                role: role_from_str(&role),
                user_message_id: row.get(4)?,
                content: row.get(2)?,
                state,
            })
        })
        .optional()?;
    Ok(found)
}

#[async_trait]
impl LiveStore for SqliteStore {
    async fn save_partial(&self, partial: &PartialAnswer<'_>) -> Result<(), StoreError> {
        let partial = OwnedPartial {
            conversation_id: partial.conversation_id.to_owned(),
            message_id: partial.message_id.to_owned(),
            user_message_id: partial.user_message_id.to_owned(),
            content: partial.content.to_owned(),
            at: to_millis(partial.at),
        };
        self.writer.write(move |conn| save(conn, &partial)).await
    }

    async fn drop_partial(&self, message_id: &str) -> Result<(), StoreError> {
        let id = message_id.to_owned();
        self.writer.write(move |conn| drop_partial(conn, &id)).await
    }

    async fn answer_progress(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        message_id: &str,
    ) -> Result<Option<AnswerProgress>, StoreError> {
        let scope = super::owned(scope);
        let (conversation, message) = (conversation_id.to_owned(), message_id.to_owned());
        self.readers
            .read(move |conn| progress(conn, &scope, &conversation, &message))
            .await
    }
}
