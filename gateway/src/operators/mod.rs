//! The operator side: people who sign in to `/admin`, their roles, the
//! scoped API keys, and the audit log of what both did.
//!
//! ## Who is asking: [`Access`]
//! Every admin handler (pages under `/admin`, API under `/v1/admin`) takes
//! one extractor, [`Access`] (extracted in [`crate::extract`]). It resolves
//! the request to an [`Actor`]:
//! - an **operator session** (the `/admin` cookie, see [`sessions`]); on
//!   any method other than GET/HEAD/OPTIONS the request must also carry the
//!   session's CSRF token, in the `X-CSRF-Token` header (scripts) or the
//!   `csrf` query parameter (HTML forms), or it is refused with 403
//!   `csrf_rejected` before the handler runs;
//! - an **API key** in `X-API-Key`: a root key from `CHAT_GATEWAY_API_KEY`
//!   (everything, every system) or a scoped `tzk_` key (its permissions and
//!   systems, see [`keys`]).
//!
//! No credentials give 401; a session that ended gives 401 too (pages turn
//! that into a redirect to the login page). Then, in the handler:
//! - [`Access::require_admin`] before any action only admins may take
//!   (403 `forbidden` otherwise);
//! - [`Access::can_read`] / [`Access::require_read`] before showing a
//!   system's data: outside one's systems the data does not exist (404),
//!   so its existence is not revealed;
//! - [`Access::actor_name`] and [`Access::address`] for the audit log
//!   ([`audit`]).
//!
//! ## Roles
//! - [`Role::Admin`]: everything, every system.
//! - [`Role::Analyst`]: reads conversations, analytics and exports of its
//!   systems (all systems when it has no list); no actions.
//!
//! A scoped key maps onto the same checks: `admin` permission acts as an
//! admin (such keys always cover every system), `read` reads its systems.

pub mod accounts;
pub mod audit;
pub mod keys;
pub mod passwords;
pub mod sessions;

use std::net::IpAddr;

use crate::error::ApiError;
use crate::scope::{Grant, Permission, SystemScope};
use crate::store::operators::OperatorRecord;

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "analyst" => Some(Role::Analyst),
            _ => None,
        }
    }
}

/// Who is behind an admin request.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A signed-in operator.
    Operator {
        id: String,
        email: String,
        role: Role,
    },
    /// An API key (root or scoped).
    Key(Grant),
}

/// An authenticated admin request: who, what they may see, from where. See
/// the module docs.
#[derive(Debug, Clone)]
pub struct Access {
    pub actor: Actor,
    /// The systems whose data the actor may read.
    pub systems: SystemScope,
    /// The session's CSRF token, for pages to put in their forms (`None`
    /// for API keys).
    pub csrf_token: Option<String>,
    /// Where the request came from.
    pub address: Option<IpAddr>,
}

impl Access {
    /// A signed-in operator.
    pub fn from_operator(
        operator: &OperatorRecord,
        csrf_token: String,
        address: Option<IpAddr>,
    ) -> Self {
        let role = Role::parse(&operator.role).unwrap_or(Role::Analyst);
        let systems = match role {
            Role::Admin => SystemScope::All,
            Role::Analyst => SystemScope::from_list(operator.systems.as_deref()),
        };
        Self {
            actor: Actor::Operator {
                id: operator.id.clone(),
                email: operator.email.clone(),
                role,
            },
            systems,
            csrf_token: Some(csrf_token),
            address,
        }
    }

    /// An API key.
    pub fn from_grant(grant: Grant, address: Option<IpAddr>) -> Self {
        Self {
            systems: grant.systems.clone(),
            actor: Actor::Key(grant),
            csrf_token: None,
            address,
        }
    }

    /// Whether the actor may take admin actions.
    pub fn is_admin(&self) -> bool {
        match &self.actor {
            Actor::Operator { role, .. } => *role == Role::Admin,
            Actor::Key(grant) => grant.allows(Permission::Admin),
        }
    }

    /// 403 `forbidden` unless the actor is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this needs an admin (or a key with the admin permission)".into(),
            ))
        }
    }

    /// Whether the actor may read `system`'s data.
    pub fn can_read(&self, system: &str) -> bool {
        let allowed = match &self.actor {
            Actor::Operator { .. } => true,
            Actor::Key(grant) => grant.allows(Permission::Read) || grant.allows(Permission::Admin),
        };
        allowed && self.systems.covers(system)
    }

    /// 404 `not_found` unless the actor may read `system`'s data.
    pub fn require_read(&self, system: &str) -> Result<(), ApiError> {
        if self.can_read(system) {
            Ok(())
        } else {
            Err(ApiError::RouteNotFound)
        }
    }

    /// Who, as the audit log names them.
    pub fn actor_name(&self) -> String {
        match &self.actor {
            Actor::Operator { email, .. } => format!("operator:{email}"),
            Actor::Key(grant) => grant.actor(),
        }
    }

    /// Where from, as the audit log writes it.
    pub fn address(&self) -> String {
        self.address.map(|a| a.to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::operators::OperatorRecord;

    fn operator(role: &str, systems: Option<&[&str]>) -> OperatorRecord {
        OperatorRecord {
            id: "o1".into(),
            email: "a@example.com".into(),
            password_hash: String::new(),
            role: role.into(),
            systems: systems.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn roles_and_keys_map_onto_one_set_of_checks() {
        let analyst =
            Access::from_operator(&operator("analyst", Some(&["cointutor"])), "c".into(), None);
        assert!(analyst.require_admin().is_err());
        assert!(analyst.can_read("cointutor"));
        assert!(!analyst.can_read("drillquiz"));
        // An admin's own list, if any, does not narrow it.
        let admin =
            Access::from_operator(&operator("admin", Some(&["cointutor"])), "c".into(), None);
        assert!(admin.require_admin().is_ok());
        assert!(admin.can_read("drillquiz"));
        let chat_key = Access::from_grant(
            Grant {
                key_id: Some("k".into()),
                permissions: [Permission::Chat].into_iter().collect(),
                systems: SystemScope::All,
            },
            None,
        );
        assert!(!chat_key.can_read("drillquiz"));
        assert!(chat_key.require_admin().is_err());
        assert!(
            Access::from_grant(Grant::root(), None)
                .require_admin()
                .is_ok()
        );
        assert_eq!(chat_key.actor_name(), "key:k");
        assert_eq!(analyst.actor_name(), "operator:a@example.com");
    }
}
