//! Records of the operator side: operators, their sessions, failed logins,
//! scoped API keys and the audit log. The rules (roles, permissions,
//! expiry) live in [`crate::operators`]; the store only keeps rows.
//!
//! Lists are kept as written: `systems` `None` means every system.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;

/// A stored operator.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorRecord {
    pub id: String,
    /// Unique, compared as stored (callers lower-case it).
    pub email: String,
    /// An Argon2id PHC string.
    pub password_hash: String,
    /// `admin` or `analyst`.
    pub role: String,
    /// The systems an analyst may read; `None`: all.
    pub systems: Option<Vec<String>>,
    pub created_at: OffsetDateTime,
}

/// A stored session, found by the SHA-256 of its cookie value.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub operator_id: String,
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

/// Failed logins counted since a moment, with the oldest of each kind (to
/// tell when the window frees up).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoginFailures {
    /// Failures for the account.
    pub account: u32,
    /// The oldest counted failure for the account.
    pub account_oldest: Option<OffsetDateTime>,
    /// Failures from the address.
    pub address: u32,
    /// The oldest counted failure from the address.
    pub address_oldest: Option<OffsetDateTime>,
}

/// A stored API key (never the key itself: its SHA-256, hex).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub digest: String,
    pub name: String,
    /// `None`: every system.
    pub systems: Option<Vec<String>>,
    pub permissions: Vec<String>,
    pub expires_at: Option<OffsetDateTime>,
    /// Who created it (an operator's email, or `root key`).
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Increasing; `None` when writing.
    pub id: Option<i64>,
    pub at: OffsetDateTime,
    /// Who: `operator:<email>`, `key:<id>` or `root key`.
    pub actor: String,
    /// What, as a dotted verb (`operator.login`, `key.create`).
    pub action: String,
    /// On what (an email, a key id), or empty.
    pub target: String,
    /// From where: the client address, or `cli`.
    pub address: String,
}

/// Persistence of the operator side; every [`super::Store`] has it.
#[async_trait]
pub trait OperatorStore: Send + Sync {
    /// Add an operator; `false` when the email is taken.
    async fn add_operator(&self, operator: &OperatorRecord) -> Result<bool, StoreError>;

    /// Replace an operator's password hash and end all their sessions;
    /// `false` when there is no such operator.
    async fn set_operator_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError>;

    /// Remove an operator and their sessions; `false` when not found.
    async fn remove_operator(&self, email: &str) -> Result<bool, StoreError>;

    /// Every operator, by email.
    async fn list_operators(&self) -> Result<Vec<OperatorRecord>, StoreError>;

    /// The operator with this email.
    async fn find_operator(&self, email: &str) -> Result<Option<OperatorRecord>, StoreError>;

    /// Store a new session.
    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;

    /// A session and its operator.
    async fn find_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, OperatorRecord)>, StoreError>;

    /// Move a session's `last_seen_at` forward (idle expiry).
    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// End a session; `false` when there was none.
    async fn end_session(&self, id_hash: &str) -> Result<bool, StoreError>;

    /// Count a failed login for `account` from `address`.
    async fn record_login_failure(
        &self,
        account: &str,
        address: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Failed logins for `account` and from `address` at or after `since`.
    async fn login_failures(
        &self,
        account: &str,
        address: &str,
        since: OffsetDateTime,
    ) -> Result<LoginFailures, StoreError>;

    /// Forget the failed logins of `account` (after a successful one).
    async fn clear_login_failures(&self, account: &str) -> Result<(), StoreError>;

    /// Store a new API key.
    async fn add_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;

    /// Every API key, revoked ones included, oldest first.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Revoke a key; `false` when there is no such key or it was revoked.
    async fn revoke_api_key(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError>;

    /// Record when keys were last used (one write for many uses).
    async fn mark_api_keys_used(&self, used: &[(String, OffsetDateTime)])
    -> Result<(), StoreError>;

    /// Append a line to the audit log.
    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError>;

    /// The newest audit lines (before the line `before`), newest first.
    async fn list_audit(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}

/// A comma-separated list as stored; `None` stays `None`.
pub(crate) fn join_list(list: Option<&[String]>) -> Option<String> {
    list.map(|l| l.join(","))
}

/// Inverse of [`join_list`].
pub(crate) fn split_list(stored: Option<String>) -> Option<Vec<String>> {
    stored.map(|s| {
        s.split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    })
}
