//! [`TurnStore`] on PostgreSQL: the turn's writes (in `writes.rs`) and the
//! statements of turns sharing one upstream conversation (see
//! `store/turns.rs`). Writers of upstream ids take the owner's
//! advisory lock first, as every writer of them does (see `writes.rs`).

use async_trait::async_trait;
use sqlx::postgres::PgPool;

use super::{PgStore, writes};
use crate::identity::Identity;
use crate::store::{
    Begin, ConversationRoute, NewTurn, StoreError, TurnEnd, TurnStore, UpstreamClaim, UpstreamIds,
};

pub(super) async fn record_upstream_ids(
    pool: &PgPool,
    ids: &UpstreamIds<'_>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(system_id || '/' || user_id, 0))
         FROM conversations WHERE id = $1",
    )
    .bind(ids.conversation_id)
    .execute(&mut *tx)
    .await?;
    if let Some(upstream) = ids.upstream_conversation_id {
        sqlx::query(
            "UPDATE conversations SET upstream_conversation_id = $1
             WHERE id = $2 AND upstream_conversation_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM conversations c
                   WHERE c.upstream_conversation_id = $1
                     AND c.system_id = conversations.system_id
                     AND c.user_id = conversations.user_id)",
        )
        .bind(upstream)
        .bind(ids.conversation_id)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(upstream) = ids.upstream_message_id {
        sqlx::query(
            "UPDATE messages SET upstream_message_id = $1
             WHERE id = $2 AND upstream_message_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = $3
                   AND m.upstream_message_id = $1 AND m.role = 'user')",
        )
        .bind(upstream)
        .bind(ids.user_message_id)
        .bind(ids.conversation_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn upstream_claim(
    pool: &PgPool,
    conversation_id: &str,
    user_message_id: &str,
) -> Result<UpstreamClaim, StoreError> {
    let found: Option<(Option<String>, bool)> = sqlx::query_as(
        "SELECT c.upstream_conversation_id, EXISTS (
             SELECT 1 FROM messages m, messages mine
             WHERE mine.id = $2 AND m.conversation_id = c.id AND m.role = 'user'
               AND m.open_by IS NOT NULL AND m.seq < mine.seq)
         FROM conversations c WHERE c.id = $1",
    )
    .bind(conversation_id)
    .bind(user_message_id)
    .fetch_optional(pool)
    .await?;
    Ok(match found {
        Some((Some(upstream), _)) => UpstreamClaim::Known(upstream),
        Some((None, true)) => UpstreamClaim::Pending,
        Some((None, false)) | None => UpstreamClaim::Free,
    })
}

#[async_trait]
impl TurnStore for PgStore {
    async fn conversation_route(
        &self,
        owner: &Identity,
        conversation_id: &str,
    ) -> Result<Option<ConversationRoute>, StoreError> {
        let found: Option<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT agent, upstream_conversation_id FROM conversations
             WHERE id = $1 AND system_id = $2 AND user_id = $3",
        )
        .bind(conversation_id)
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            found.map(|(agent, upstream_conversation_id)| ConversationRoute {
                agent,
                upstream_conversation_id,
            }),
        )
    }

    async fn begin_turn(&self, turn: &NewTurn<'_>) -> Result<Begin, StoreError> {
        writes::begin_turn(&self.pool, turn, &self.replica).await
    }

    async fn finish_turn(&self, end: &TurnEnd<'_>) -> Result<(), StoreError> {
        writes::finish_turn(&self.pool, end).await
    }

    async fn record_upstream_ids(&self, ids: &UpstreamIds<'_>) -> Result<(), StoreError> {
        record_upstream_ids(&self.pool, ids).await
    }

    async fn upstream_claim(
        &self,
        conversation_id: &str,
        user_message_id: &str,
    ) -> Result<UpstreamClaim, StoreError> {
        upstream_claim(&self.pool, conversation_id, user_message_id).await
    }
}
