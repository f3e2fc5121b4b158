//! Adding, changing and removing operators (the `chat-gateway operator`
//! commands). Each change is written to the audit log as done by `cli`.

use time::OffsetDateTime;

use super::passwords::{self, PasswordError};
use super::sessions::normalize_email;
use super::{Role, audit};
use crate::identity::SystemId;
use crate::store::operators::OperatorRecord;
use crate::store::{Store, StoreError};

/// Why an operator command failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0:?} is not an email address")]
    BadEmail(String),
    #[error("an operator {0} already exists")]
    Exists(String),
    #[error("no operator {0}")]
    NotFound(String),
    #[error("--systems: {0}")]
    BadSystem(String),
    #[error("an admin covers every system; --systems is for analysts")]
    AdminWithSystems,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who made command-line changes, for the audit log.
const CLI: &str = "cli";

fn checked_email(email: &str) -> Result<String, AccountError> {
    let email = normalize_email(email);
    let plausible = email
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c == ',');
    if plausible && email.len() <= 254 {
        Ok(email)
    } else {
        Err(AccountError::BadEmail(email))
    }
}

/// Add an operator.
pub async fn add(
    store: &dyn Store,
    email: &str,
    role: Role,
    systems: Option<Vec<String>>,
    password: &str,
) -> Result<OperatorRecord, AccountError> {
    let email = checked_email(email)?;
    if role == Role::Admin && systems.is_some() {
        return Err(AccountError::AdminWithSystems);
    }
    let systems = systems
        .map(|list| {
            list.iter()
                .map(|s| {
                    SystemId::parse(s.trim())
                        .map(|id| id.as_str().to_owned())
                        .map_err(|e| AccountError::BadSystem(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let password_hash = passwords::hash(password)?;
    let record = OperatorRecord {
        id: uuid::Uuid::now_v7().to_string(),
        email: email.clone(),
        password_hash,
        role: role.as_str().to_owned(),
        systems,
        created_at: OffsetDateTime::now_utc(),
    };
    if !store.add_operator(&record).await? {
        return Err(AccountError::Exists(email));
    }
    audit::record(store, CLI, "operator.add", &email, CLI).await;
    Ok(record)
}

/// Set a new password; the operator's sessions end.
pub async fn set_password(
    store: &dyn Store,
    email: &str,
    password: &str,
) -> Result<(), AccountError> {
    let email = normalize_email(email);
    let hash = passwords::hash(password)?;
    if !store.set_operator_password(&email, &hash).await? {
        return Err(AccountError::NotFound(email));
    }
    audit::record(store, CLI, "operator.passwd", &email, CLI).await;
    Ok(())
}

/// Remove an operator; their sessions end.
pub async fn remove(store: &dyn Store, email: &str) -> Result<(), AccountError> {
    let email = normalize_email(email);
    if !store.remove_operator(&email).await? {
        return Err(AccountError::NotFound(email));
    }
    audit::record(store, CLI, "operator.remove", &email, CLI).await;
    Ok(())
}
