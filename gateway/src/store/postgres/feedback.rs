//! Message feedback on PostgreSQL: the statements behind
//! [`FeedbackStore::set_feedback`] and its reads.
//!
//! The check and the write share one transaction, and the check locks the
//! message row (`FOR SHARE`), so a conversation deleted meanwhile on another
//! replica waits for this write instead of failing it.

use async_trait::async_trait;
use sqlx::{FromRow, PgPool};

use super::{PgStore, stored};
use crate::store::feedback::{
    FeedbackChange, FeedbackOutcome, FeedbackRecord, FeedbackSaved, FeedbackStore, rating_from_str,
};
use crate::store::{StoreError, role_from_str};

#[derive(FromRow)]
struct FeedbackRow {
    rating: String,
    comment: Option<String>,
    updated_at: time::OffsetDateTime,
}

impl From<FeedbackRow> for FeedbackRecord {
    fn from(r: FeedbackRow) -> Self {
        FeedbackRecord {
            rating: rating_from_str(&r.rating),
            comment: r.comment,
            updated_at: r.updated_at,
        }
    }
}

#[derive(FromRow)]
struct Target {
    role: String,
    upstream_message_id: Option<String>,
    agent: Option<String>,
}

pub(super) async fn set(
    pool: &PgPool,
    c: &FeedbackChange<'_>,
) -> Result<FeedbackOutcome, StoreError> {
    let mut tx = pool.begin().await?;
    let target: Option<Target> = sqlx::query_as(
        "SELECT m.role, m.upstream_message_id, c.agent
         FROM messages m JOIN conversations c ON c.id = m.conversation_id
         WHERE m.id = $1 AND c.system_id = $2 AND c.user_id = $3
         FOR SHARE OF m",
    )
    .bind(c.message_id)
    .bind(c.owner.system.as_str())
    .bind(c.owner.user.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(target) = target else {
        return Ok(FeedbackOutcome::MessageNotFound);
    };
    if role_from_str(&target.role) != sdk::Role::Assistant {
        return Ok(FeedbackOutcome::NotAnAnswer);
    }
    let feedback = match c.rating {
        None => {
            sqlx::query("DELETE FROM message_feedback WHERE message_id = $1")
                .bind(c.message_id)
                .execute(&mut *tx)
                .await?;
            None
        }
        Some(rating) => {
            let row: FeedbackRow = sqlx::query_as(
                "INSERT INTO message_feedback (message_id, rating, comment, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (message_id) DO UPDATE SET
                     rating = excluded.rating,
                     comment = excluded.comment,
                     updated_at = excluded.updated_at
                 RETURNING rating, comment, updated_at",
            )
            .bind(c.message_id)
            .bind(rating.as_str())
            .bind(c.comment)
            .bind(stored(c.at))
            .fetch_one(&mut *tx)
            .await?;
            Some(row.into())
        }
    };
    tx.commit().await?;
    Ok(FeedbackOutcome::Saved(FeedbackSaved {
        feedback,
        upstream_message_id: target.upstream_message_id,
        agent: target.agent,
    }))
}

pub(super) async fn of_conversation(
    pool: &PgPool,
    conversation_id: &str,
) -> Result<Vec<(String, FeedbackRecord)>, StoreError> {
    let rows: Vec<(String, String, Option<String>, time::OffsetDateTime)> = sqlx::query_as(
        "SELECT f.message_id, f.rating, f.comment, f.updated_at
         FROM message_feedback f JOIN messages m ON m.id = f.message_id
         WHERE m.conversation_id = $1",
    )
    .bind(conversation_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, rating, comment, updated_at)| {
            (
                id,
                FeedbackRow {
                    rating,
                    comment,
                    updated_at,
                }
                .into(),
            )
        })
        .collect())
}

pub(super) async fn of_message(
    pool: &PgPool,
    message_id: &str,
) -> Result<Option<FeedbackRecord>, StoreError> {
    let row: Option<FeedbackRow> = sqlx::query_as(
        "SELECT rating, comment, updated_at FROM message_feedback WHERE message_id = $1",
    )
    .bind(message_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Into::into))
}

#[async_trait]
impl FeedbackStore for PgStore {
    async fn set_feedback(
        &self,
        change: &FeedbackChange<'_>,
    ) -> Result<FeedbackOutcome, StoreError> {
        let change = FeedbackChange {
            comment: change.comment.filter(|_| change.rating.is_some()),
            ..*change
        };
        set(&self.pool, &change).await
    }

    async fn conversation_feedback(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, FeedbackRecord)>, StoreError> {
        of_conversation(&self.pool, conversation_id).await
    }

    async fn message_feedback(
        &self,
        message_id: &str,
    ) -> Result<Option<FeedbackRecord>, StoreError> {
        of_message(&self.pool, message_id).await
    }
}
