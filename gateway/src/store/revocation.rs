//! What the store keeps of revoked chat tokens (see `crate::revocation`).

use async_trait::async_trait;

use super::StoreError;
use crate::identity::Identity;

/// Every revocation still in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    /// Revoked token ids (`jti`).
    pub token_ids: Vec<String>,
    /// Users whose tokens issued up to a moment are revoked.
    pub users: Vec<UserRevocation>,
}

/// Every token of one user issued at or before `issued_before` is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRevocation {
    pub system_id: String,
    pub user_id: String,
    /// Unix seconds: tokens whose `iat` is this or earlier (or that have no
    /// `iat`) are refused.
    pub issued_before: i64,
}

/// Revoked tokens (see `crate::revocation`).
#[async_trait]
pub trait RevocationStore: Send + Sync {
    /// Revoke the token with id `jti`; the row may be forgotten after
    /// `keep_until` (Unix seconds), when no such token can be valid any
    /// more. Rows past their time are deleted on the way.
    async fn revoke_token_id(&self, jti: &str, now: i64, keep_until: i64)
    -> Result<(), StoreError>;

    /// Revoke every token of `who` issued at or before `issued_before`
    /// (Unix seconds; a later revocation of the same user wins), kept until
    /// `keep_until`.
    async fn revoke_user_tokens(
        &self,
        who: &Identity,
        issued_before: i64,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError>;

    /// The revocations in force at `now` (Unix seconds).
    async fn revocations(&self, now: i64) -> Result<RevocationList, StoreError>;
}
