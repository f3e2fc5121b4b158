//! Idempotency keys on PostgreSQL (the records are in
//! `crate::store::idempotency`).
//!
//! A claim is one transaction: the insert either wins the primary key or
//! waits for the winner's transaction and finds its row, which it then
//! reads locked (`FOR UPDATE`), so two replicas racing on one key get one
//! winner, and two racing to take over an abandoned key get one too. A
//! running key is alive while the replica holding it keeps its heartbeat
//! (the rule that fails its open turns, see `replicas.rs`).

use async_trait::async_trait;
use sqlx::{FromRow, PgPool, Postgres, Transaction};
use time::OffsetDateTime;

use super::{PgStore, replicas, stored};
use crate::store::StoreError;
use crate::store::idempotency::{
    Claim, IdempotencyStore, KeptAnswer, KeptResult, KeyClaim, KeyOutcome, KeyRef,
};

#[derive(FromRow)]
struct Row {
    body_hash: String,
    alive: bool,
    finished_at: Option<OffsetDateTime>,
    conversation_id: Option<String>,
    user_message_id: Option<String>,
    message_id: Option<String>,
    error_status: Option<i32>,
    error_body: Option<String>,
    content: Option<String>,
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
}

pub(super) async fn claim(pool: &PgPool, c: &KeyClaim<'_>, me: &str) -> Result<Claim, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM idempotency_keys WHERE finished_at < $1")
        .bind(c.forget_before)
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, body_hash, held_by, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING",
    )
    .bind(c.scope)
    .bind(c.key)
    .bind(c.body_hash)
    .bind(me)
    .bind(stored(c.at))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        tx.commit().await?;
        return Ok(Claim::Claimed);
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT k.body_hash, k.finished_at, k.conversation_id, k.user_message_id,
                k.message_id, k.error_status, k.error_body,
                m.content, m.prompt_tokens, m.completion_tokens,
                coalesce(k.held_by = $3 OR k.held_by IN (SELECT id FROM gateway_replicas
                     WHERE seen_at > now() - make_interval(secs => $4)), false) AS alive
         FROM idempotency_keys k LEFT JOIN messages m ON m.id = k.message_id
         WHERE k.scope = $1 AND k.key = $2
         FOR UPDATE OF k",
    )
    .bind(c.scope)
    .bind(c.key)
    .bind(me)
    .bind(replicas::EXPIRY.as_secs_f64())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        // Purged by another claim between the insert and the read.
        return Err(StoreError::Unavailable(
            "an idempotency key was purged while being claimed".into(),
        ));
    };
    let found = if row.body_hash != c.body_hash {
        Claim::Reused
    } else if let Some(finished_at) = row.finished_at {
        match (row.error_status, row.error_body) {
            (Some(status), Some(body)) => Claim::Done(KeptResult::Refused {
                status: u16::try_from(status).unwrap_or(500),
                body,
                finished_at,
            }),
            _ => match (
                row.conversation_id,
                row.user_message_id,
                row.message_id,
                row.content,
            ) {
                (Some(conversation_id), Some(user_message_id), Some(message_id), Some(content)) => {
                    Claim::Done(KeptResult::Answered(KeptAnswer {
                        conversation_id,
                        user_message_id,
                        message_id,
                        content,
                        prompt_tokens: row.prompt_tokens.and_then(|n| u64::try_from(n).ok()),
                        completion_tokens: row
                            .completion_tokens
                            .and_then(|n| u64::try_from(n).ok()),
                        finished_at,
                    }))
                }
                // The answer was deleted with its conversation.
                _ => take_over(&mut tx, c, me).await?,
            },
        }
    } else if row.alive {
        Claim::Running
    } else {
        // Left running by a replica that stopped.
        take_over(&mut tx, c, me).await?
    };
    tx.commit().await?;
    Ok(found)
}

/// Make the key `me`'s, as if it had just been claimed.
async fn take_over(
    tx: &mut Transaction<'_, Postgres>,
    c: &KeyClaim<'_>,
    me: &str,
) -> Result<Claim, StoreError> {
    sqlx::query(
        "UPDATE idempotency_keys SET held_by = $3, created_at = $4, finished_at = NULL,
             conversation_id = NULL, user_message_id = NULL, message_id = NULL,
             error_status = NULL, error_body = NULL
         WHERE scope = $1 AND key = $2",
    )
    .bind(c.scope)
    .bind(c.key)
    .bind(me)
    .bind(stored(c.at))
    .execute(&mut **tx)
    .await?;
    Ok(Claim::Claimed)
}

pub(super) async fn finish(
    pool: &PgPool,
    key: &KeyRef<'_>,
    outcome: &KeyOutcome<'_>,
    at: OffsetDateTime,
    me: &str,
) -> Result<(), StoreError> {
    let (conversation, question, answer, status, body) = match *outcome {
        KeyOutcome::Answered {
            conversation_id,
            user_message_id,
            message_id,
        } => (
            Some(conversation_id),
            Some(user_message_id),
            Some(message_id),
            None,
            None,
        ),
        KeyOutcome::Refused { status, body } => {
            (None, None, None, Some(i32::from(status)), Some(body))
        }
    };
    sqlx::query(
        "UPDATE idempotency_keys SET held_by = NULL, finished_at = $4,
             conversation_id = $5, user_message_id = $6, message_id = $7,
             error_status = $8, error_body = $9
         WHERE scope = $1 AND key = $2 AND held_by = $3",
    )
    .bind(key.scope)
    .bind(key.key)
    .bind(me)
    .bind(stored(at))
    .bind(conversation)
    .bind(question)
    .bind(answer)
    .bind(status)
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn release(pool: &PgPool, key: &KeyRef<'_>, me: &str) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM idempotency_keys
         WHERE scope = $1 AND key = $2 AND held_by = $3 AND finished_at IS NULL",
    )
    .bind(key.scope)
    .bind(key.key)
    .bind(me)
    .execute(pool)
    .await?;
    Ok(())
}

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn claim_idempotency_key(&self, claim: &KeyClaim<'_>) -> Result<Claim, StoreError> {
        self::claim(&self.pool, claim, &self.replica).await
    }

    async fn finish_idempotency_key(
        &self,
        key: &KeyRef<'_>,
        outcome: &KeyOutcome<'_>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        finish(&self.pool, key, outcome, at, &self.replica).await
    }

    async fn release_idempotency_key(&self, key: &KeyRef<'_>) -> Result<(), StoreError> {
        release(&self.pool, key, &self.replica).await
    }
}
