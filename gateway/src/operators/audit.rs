//! The audit log: who did what, when, from where. Written for every
//! operator and key action (sign-in, sign-out, failed sign-in, operators
//! added or changed, keys created or revoked); read by admins.

use time::OffsetDateTime;

use crate::store::Store;
use crate::store::operators::AuditRecord;

/// Append a line. A failure is logged, not returned: the action it
/// describes has already happened.
pub async fn record(store: &dyn Store, actor: &str, action: &str, target: &str, address: &str) {
    let entry = AuditRecord {
        id: None,
        at: OffsetDateTime::now_utc(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        address: address.to_owned(),
    };
    if let Err(e) = store.append_audit(&entry).await {
        tracing::error!(error = %e, action, "writing the audit log failed");
    }
}
