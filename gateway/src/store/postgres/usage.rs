//! Token use per user and day in PostgreSQL (the records are in
//! `crate::store::usage`).

use async_trait::async_trait;
use sqlx::PgPool;

use super::PgStore;
use crate::identity::Identity;
use crate::store::{StoreError, TokenUsage, UsageStore};

pub(super) async fn add_token_usage(
    pool: &PgPool,
    who: &Identity,
    day: time::Date,
    tokens: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO token_usage (day, system_id, user_id, tokens) VALUES ($1, $2, $3, $4)
         ON CONFLICT (day, system_id, user_id) DO UPDATE SET
             tokens = token_usage.tokens + excluded.tokens",
    )
    .bind(day)
    .bind(who.system.as_str())
    .bind(who.user.as_str())
    .bind(tokens)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn token_usage(
    pool: &PgPool,
    who: &Identity,
    day: time::Date,
) -> Result<TokenUsage, StoreError> {
    let (system, user): (i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(tokens), 0)::BIGINT,
                coalesce(sum(tokens) FILTER (WHERE user_id = $3), 0)::BIGINT
         FROM token_usage WHERE day = $1 AND system_id = $2",
    )
    .bind(day)
    .bind(who.system.as_str())
    .bind(who.user.as_str())
    .fetch_one(pool)
    .await?;
    Ok(TokenUsage {
        system: u64::try_from(system).unwrap_or(0),
        user: u64::try_from(user).unwrap_or(0),
    })
}

#[async_trait]
impl UsageStore for PgStore {
    async fn add_token_usage(
        &self,
        who: &Identity,
        day: time::Date,
        tokens: u64,
    ) -> Result<(), StoreError> {
        let tokens = i64::try_from(tokens).unwrap_or(i64::MAX);
        add_token_usage(&self.pool, who, day, tokens).await
    }

    async fn token_usage(&self, who: &Identity, day: time::Date) -> Result<TokenUsage, StoreError> {
        token_usage(&self.pool, who, day).await
    }
}
