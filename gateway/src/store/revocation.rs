//! What the store keeps of revoked chat tokens (see `crate::revocation`).

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
