//! Revoked tokens in PostgreSQL (the records are in `crate::store::revocation`).

use async_trait::async_trait;
use sqlx::PgPool;

use super::PgStore;
use crate::identity::Identity;
use crate::store::{RevocationList, RevocationStore, StoreError, UserRevocation};

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

#[async_trait]
impl RevocationStore for PgStore {
    async fn revoke_token_id(
        &self,
        jti: &str,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError> {
        revoke_token_id(&self.pool, jti, now, keep_until).await
    }

    async fn revoke_user_tokens(
        &self,
        who: &Identity,
        issued_before: i64,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError> {
        revoke_user_tokens(&self.pool, who, issued_before, now, keep_until).await
    }

    async fn revocations(&self, now: i64) -> Result<RevocationList, StoreError> {
        revocations(&self.pool, now).await
    }
}
