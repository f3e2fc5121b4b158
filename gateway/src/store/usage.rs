//! What the store keeps of upstream token use, for the daily budgets (see
//! `crate::limits::budget`).

/// Tokens used on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// By the user's whole system.
    pub system: u64,
    /// By the user.
    pub user: u64,
}
