//! What the store keeps of upstream token use, for the daily budgets (see
//! `crate::limits::budget`).

use async_trait::async_trait;

use super::StoreError;
use crate::identity::Identity;

/// Tokens used on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// By the user's whole system.
    pub system: u64,
    /// By the user.
    pub user: u64,
}

/// Tokens used per user and day, for the daily budgets (see
/// `crate::limits::budget`).
#[async_trait]
pub trait UsageStore: Send + Sync {
    /// Count `tokens` more upstream tokens used by `who` on `day` (UTC).
    async fn add_token_usage(
        &self,
        who: &Identity,
        day: time::Date,
        tokens: u64,
    ) -> Result<(), StoreError>;

    /// Tokens used on `day` (UTC) by `who` and by `who`'s whole system.
    async fn token_usage(&self, who: &Identity, day: time::Date) -> Result<TokenUsage, StoreError>;
}
