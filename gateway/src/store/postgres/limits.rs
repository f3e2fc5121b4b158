//! Revoked tokens and token use in PostgreSQL (the records are in
//! `crate::store::revocation` and `crate::store::usage`).

use sqlx::PgPool;

use crate::identity::Identity;
use crate::store::{RevocationList, StoreError, TokenUsage, UserRevocation};

pub(super) async fn revoke_token_id(
    pool: &PgPool,
    jti: &str,
    now: i64,
    keep_until: i64,
) -> Result<(), StoreError> {
    forget_expired(pool, now).await?;
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, revoked_at, keep_until) VALUES ($1, $2, $3)
         ON CONFLICT (jti) DO UPDATE SET
             keep_until = greatest(revoked_tokens.keep_until, excluded.keep_until)",
    )
    .bind(jti)
    .bind(now)
    .bind(keep_until)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn revoke_user_tokens(
    pool: &PgPool,
    who: &Identity,
    issued_before: i64,
    now: i64,
    keep_until: i64,
) -> Result<(), StoreError> {
    forget_expired(pool, now).await?;
    sqlx::query(
        "INSERT INTO revoked_users (system_id, user_id, issued_before, keep_until)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (system_id, user_id) DO UPDATE SET
             issued_before = greatest(revoked_users.issued_before, excluded.issued_before),
             keep_until = greatest(revoked_users.keep_until, excluded.keep_until)",
    )
    .bind(who.system.as_str())
    .bind(who.user.as_str())
    .bind(issued_before)
    .bind(keep_until)
    .execute(pool)
    .await?;
    Ok(())
}

async fn forget_expired(pool: &PgPool, now: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM revoked_tokens WHERE keep_until < $1")
        .bind(now)
        .execute(pool)
        .await?;
    sqlx::query("DELETE FROM revoked_users WHERE keep_until < $1")
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn revocations(pool: &PgPool, now: i64) -> Result<RevocationList, StoreError> {
    let token_ids: Vec<(String,)> =
        sqlx::query_as("SELECT jti FROM revoked_tokens WHERE keep_until >= $1")
            .bind(now)
            .fetch_all(pool)
            .await?;
    let users: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT system_id, user_id, issued_before FROM revoked_users WHERE keep_until >= $1",
    )
    .bind(now)
    .fetch_all(pool)
    .await?;
    Ok(RevocationList {
        token_ids: token_ids.into_iter().map(|(jti,)| jti).collect(),
        users: users
            .into_iter()
            .map(|(system_id, user_id, issued_before)| UserRevocation {
                system_id,
                user_id,
                issued_before,
            })
            .collect(),
    })
}

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
