//! What a caller may do, and for which systems: the permissions of scoped
//! API keys and operator roles, and the systems they cover. Pure values;
//! who holds them is decided in [`crate::auth`] (keys) and
//! [`crate::operators`] (sessions).

use std::collections::BTreeSet;
use std::fmt;

/// One thing an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// Chat as an end user of its systems (`/v1/chat`, `/v1/ws`, the
    /// OpenAI-compatible door, the agent list).
    Chat,
    /// Mint chat tokens (`/v1/chat-token`).
    Tokens,
    /// Read and manage stored conversations (`/v1/conversations` with a
    /// key, `/v1/cache/*`).
    Read,
    /// Import upstream history (`/v1/sync`).
    Sync,
    /// The admin API (`/v1/admin/*`).
    Admin,
}

impl Permission {
    /// Every permission, in wire order.
    pub const ALL: [Permission; 5] = [
        Permission::Chat,
        Permission::Tokens,
        Permission::Read,
        Permission::Sync,
        Permission::Admin,
    ];

    /// The wire name (`chat`, `tokens`, `read`, `sync`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Chat => "chat",
            Permission::Tokens => "tokens",
            Permission::Read => "read",
            Permission::Sync => "sync",
            Permission::Admin => "admin",
        }
    }

    /// Parse a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The systems a caller covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemScope {
    /// Every system (root keys, admins, keys created without a list).
    All,
    /// Only these.
    Only(BTreeSet<String>),
}

impl SystemScope {
    /// From a stored list (`None`: all).
    pub fn from_list(list: Option<&[String]>) -> Self {
        match list {
            None => SystemScope::All,
            Some(list) => SystemScope::Only(list.iter().cloned().collect()),
        }
    }

    /// Whether `system` is covered.
    pub fn covers(&self, system: &str) -> bool {
        match self {
            SystemScope::All => true,
            SystemScope::Only(set) => set.contains(system),
        }
    }

    /// The list form (`None`: all).
    pub fn to_list(&self) -> Option<Vec<String>> {
        match self {
            SystemScope::All => None,
            SystemScope::Only(set) => Some(set.iter().cloned().collect()),
        }
    }
}

/// What one API key may do: its permissions and systems. The keys of
/// `CHAT_GATEWAY_API_KEY` hold [`Grant::root`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The key's id, `None` for a root key.
    pub key_id: Option<String>,
    pub permissions: BTreeSet<Permission>,
    pub systems: SystemScope,
}

impl Grant {
    /// Everything, for every system.
    pub fn root() -> Self {
        Self {
            key_id: None,
            permissions: Permission::ALL.into_iter().collect(),
            systems: SystemScope::All,
        }
    }

    /// Whether the grant holds `permission`.
    pub fn allows(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    /// Whether the grant may do `permission` for `system`.
    pub fn allows_for(&self, permission: Permission, system: &str) -> bool {
        self.allows(permission) && self.systems.covers(system)
    }

    /// Who this is, for the audit log.
    pub fn actor(&self) -> String {
        match &self.key_id {
            Some(id) => format!("key:{id}"),
            None => "root key".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_round_trip_and_scopes_cover() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("write"), None);
        let only = SystemScope::from_list(Some(&["cointutor".to_owned()]));
        assert!(only.covers("cointutor"));
        assert!(!only.covers("drillquiz"));
        assert!(SystemScope::from_list(None).covers("drillquiz"));
        let grant = Grant {
            key_id: Some("k".into()),
            permissions: [Permission::Chat].into_iter().collect(),
            systems: only,
        };
        assert!(grant.allows_for(Permission::Chat, "cointutor"));
        assert!(!grant.allows_for(Permission::Chat, "drillquiz"));
        assert!(!grant.allows_for(Permission::Tokens, "cointutor"));
    }
}
