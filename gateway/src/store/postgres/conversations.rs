//! [`ConversationStore`] on PostgreSQL: listings, lookups, renames and
//! deletes, each one statement.

use async_trait::async_trait;
use sqlx::FromRow;
use time::OffsetDateTime;

use super::{PgStore, stored};
use crate::identity::Identity;
use crate::store::{
    ConversationFilter, ConversationRecord, ConversationStore, MessageRecord, PageRequest, Scope,
    StoreError, role_from_str, status_from_str,
};

#[derive(FromRow)]
pub(super) struct ConversationRow {
    id: String,
    system_id: String,
    user_id: String,
    upstream_conversation_id: Option<String>,
    title: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ConversationRow> for ConversationRecord {
    fn from(r: ConversationRow) -> Self {
        ConversationRecord {
            id: r.id,
            system_id: r.system_id,
            user_id: r.user_id,
            upstream_conversation_id: r.upstream_conversation_id,
            title: r.title,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(FromRow)]
struct MessageRow {
    id: String,
    conversation_id: String,
    role: String,
    content: String,
    status: String,
    upstream_message_id: Option<String>,
    created_at: OffsetDateTime,
}

impl From<MessageRow> for MessageRecord {
    fn from(r: MessageRow) -> Self {
        MessageRecord {
            id: r.id,
            conversation_id: r.conversation_id,
            role: role_from_str(&r.role),
            content: r.content,
            status: status_from_str(&r.status),
            upstream_message_id: r.upstream_message_id,
            created_at: r.created_at,
        }
    }
}

#[async_trait]
impl ConversationStore for PgStore {
    async fn list_conversations(
        &self,
        owner: &Identity,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let rows: Vec<ConversationRow> = match page.before {
            None => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE system_id = $1 AND user_id = $2
                     ORDER BY updated_at DESC, id DESC LIMIT $3",
                )
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
            Some(before) => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE system_id = $1 AND user_id = $2
                       AND (updated_at, id) < (SELECT updated_at, id FROM conversations
                                               WHERE id = $3 AND system_id = $1 AND user_id = $2)
                     ORDER BY updated_at DESC, id DESC LIMIT $4",
                )
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .bind(before)
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn search_conversations(
        &self,
        filter: ConversationFilter<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let rows: Vec<ConversationRow> = sqlx::query_as(
            "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
             FROM conversations
             WHERE ($1::text IS NULL OR system_id = $1)
               AND ($2::text IS NULL OR user_id = $2)
               AND ($3::timestamptz IS NULL OR created_at >= $3)
               AND ($4::timestamptz IS NULL OR created_at < $4)
               AND ($5::text IS NULL
                    OR (created_at, id) < (SELECT created_at, id FROM conversations WHERE id = $5))
             ORDER BY created_at DESC, id DESC LIMIT $6",
        )
        .bind(filter.system_id)
        .bind(filter.user_id)
        .bind(filter.from.map(stored))
        .bind(filter.to.map(stored))
        .bind(filter.before)
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_conversation(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let row: Option<ConversationRow> = match scope {
            Scope::Owner(owner) => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE id = $1 AND system_id = $2 AND user_id = $3",
                )
                .bind(id)
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .fetch_optional(&self.pool)
                .await?
            }
            Scope::Any => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
            }
        };
        Ok(row.map(Into::into))
    }

    async fn list_messages(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
        if self
            .get_conversation(scope, conversation_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let rows: Vec<MessageRow> = match page.before {
            None => {
                sqlx::query_as(
                    "SELECT * FROM (
                         SELECT seq, id, conversation_id, role, content, status, upstream_message_id, created_at
                         FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2
                     ) AS page ORDER BY seq ASC",
                )
                .bind(conversation_id)
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
            Some(before) => {
                sqlx::query_as(
                    "SELECT * FROM (
                         SELECT seq, id, conversation_id, role, content, status, upstream_message_id, created_at
                         FROM messages WHERE conversation_id = $1
                           AND seq < (SELECT seq FROM messages WHERE id = $2 AND conversation_id = $1)
                         ORDER BY seq DESC LIMIT $3
                     ) AS page ORDER BY seq ASC",
                )
                .bind(conversation_id)
                .bind(before)
                .bind(i64::from(page.limit))
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(Some(rows.into_iter().map(Into::into).collect()))
    }

    async fn rename_conversation(
        &self,
        owner: &Identity,
        id: &str,
        title: &str,
        at: OffsetDateTime,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let row: Option<ConversationRow> = sqlx::query_as(
            "UPDATE conversations SET title = $1, updated_at = $2
             WHERE id = $3 AND system_id = $4 AND user_id = $5
             RETURNING id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at",
        )
        .bind(title)
        .bind(stored(at))
        .bind(id)
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn delete_conversation(&self, owner: &Identity, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM conversations WHERE id = $1 AND system_id = $2 AND user_id = $3",
        )
        .bind(id)
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
