//! Answers still being streamed, on PostgreSQL: the statements behind
//! [`LiveStore::save_partial`] and
//! [`LiveStore::answer_progress`].
//!
//! `save_partial` is one statement on the row of the answer alone: it takes
//! no owner lock, so the turn's own writes never wait for it.

use async_trait::async_trait;
use sqlx::{FromRow, PgPool};
use time::OffsetDateTime;

use super::PgStore;
use crate::store::live::{AnswerProgress, AnswerState, LiveStore, PartialAnswer};
use crate::store::{Scope, StoreError, role_from_str, status_from_str};

pub(super) async fn save(pool: &PgPool, p: &PartialAnswer<'_>) -> Result<(), StoreError> {
    // A conversation deleted meanwhile stays deleted: nothing is inserted.
    sqlx::query(
        "INSERT INTO live_answers (message_id, conversation_id, user_message_id, content, updated_at)
         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM conversations WHERE id = $2)
         ON CONFLICT (message_id) DO UPDATE SET
             content = excluded.content, updated_at = excluded.updated_at",
    )
    .bind(p.message_id)
    .bind(p.conversation_id)
    .bind(p.user_message_id)
    .bind(p.content)
    .bind(p.at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn drop_partial(pool: &PgPool, message_id: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM live_answers WHERE message_id = $1")
        .bind(message_id)
        .execute(pool)
        .await?;
    Ok(())
}

#[derive(FromRow)]
struct ProgressRow {
    role: String,
    status: Option<String>,
    updated_at: OffsetDateTime,
    content: String,
    live: bool,
    user_message_id: Option<String>,
}

pub(super) async fn progress(
    pool: &PgPool,
    scope: Scope<'_>,
    conversation_id: &str,
    message_id: &str,
) -> Result<Option<AnswerProgress>, StoreError> {
    let (system, user) = match scope {
        Scope::Owner(owner) => (Some(owner.system.as_str()), Some(owner.user.as_str())),
        Scope::Any => (None, None),
    };
    // One statement, one snapshot: a turn that finishes meanwhile is seen
    // either as its partial or as its stored message. The stored message
    // wins when both exist.
    let row: Option<ProgressRow> = sqlx::query_as(
        "SELECT m.role, m.status, m.updated_at, m.content, FALSE AS live,
             (SELECT u.id FROM messages u WHERE u.conversation_id = m.conversation_id
                 AND u.role = 'user' AND u.seq < m.seq ORDER BY u.seq DESC LIMIT 1) AS user_message_id
         FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.id = $1 AND m.conversation_id = $2
           AND ($3::TEXT IS NULL OR (c.system_id = $3 AND c.user_id = $4))
         UNION ALL
         SELECT 'assistant', NULL, l.updated_at, l.content, TRUE, l.user_message_id
         FROM live_answers l JOIN conversations c ON c.id = l.conversation_id
         WHERE l.message_id = $1 AND l.conversation_id = $2
           AND ($3::TEXT IS NULL OR (c.system_id = $3 AND c.user_id = $4))
         ORDER BY live LIMIT 1",
    )
    .bind(message_id)
    .bind(conversation_id)
    .bind(system)
    .bind(user)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| AnswerProgress {
        role: role_from_str(&r.role),
        user_message_id: r.user_message_id,
        content: r.content,
        state: if r.live {
            AnswerState::Streaming {
                updated_at: r.updated_at,
            }
        } else {
            AnswerState::Finished(status_from_str(r.status.as_deref().unwrap_or("failed")))
        },
    }))
}

#[async_trait]
impl LiveStore for PgStore {
    async fn save_partial(&self, partial: &PartialAnswer<'_>) -> Result<(), StoreError> {
        save(&self.pool, partial).await
    }

    async fn drop_partial(&self, message_id: &str) -> Result<(), StoreError> {
        drop_partial(&self.pool, message_id).await
    }

    async fn answer_progress(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        message_id: &str,
    ) -> Result<Option<AnswerProgress>, StoreError> {
        progress(&self.pool, scope, conversation_id, message_id).await
    }
}
