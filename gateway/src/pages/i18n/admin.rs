//! The texts of the `/admin` pages (the shell, sign-in, operators, keys,
//! audit log). A new admin page adds its navigation label and its own
//! texts here, and one value per language.

use serde::Serialize;

/// The admin pages' own texts, in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdminTexts {
    pub console: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub wrong_credentials: &'static str,
    pub too_many_attempts: &'static str,
    pub forbidden: &'static str,
    pub nav_home: &'static str,
    pub nav_operators: &'static str,
    pub nav_keys: &'static str,
    pub nav_audit: &'static str,
    pub nav_conversations: &'static str,
    pub nav_analytics: &'static str,
    pub welcome: &'static str,
    pub role: &'static str,
    pub role_admin: &'static str,
    pub role_analyst: &'static str,
    pub systems: &'static str,
    pub all_systems: &'static str,
    pub created: &'static str,
    pub operators_help: &'static str,
    pub key_name: &'static str,
    pub permissions: &'static str,
    pub systems_help: &'static str,
    pub expires: &'static str,
    pub never: &'static str,
    pub created_by: &'static str,
    pub last_used: &'static str,
    pub create_key: &'static str,
    pub new_key_once: &'static str,
    pub revoke: &'static str,
    pub revoke_confirm: &'static str,
    pub revoked: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub when: &'static str,
    pub who: &'static str,
    pub action: &'static str,
    pub target: &'static str,
    pub address: &'static str,
    pub nothing_yet: &'static str,
}
