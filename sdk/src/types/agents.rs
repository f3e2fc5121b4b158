//! Body of `GET /v1/agents`: the named agents a system offers.

use serde::{Deserialize, Serialize};

/// One agent of a system, as a picker shows it. Send its `name` as
/// [`crate::ChatRequest::agent`] to talk to it.
///
/// ```
/// let a: tz_chat_sdk::AgentInfo = serde_json::from_str(r#"{"name":"sales","title":"Sales"}"#).unwrap();
/// assert_eq!(a.description, "");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentInfo {
    /// What requests name it by.
    pub name: String,
    /// Display name.
    pub title: String,
    /// One line about what it is for; may be empty.
    #[serde(default)]
    pub description: String,
}

/// Body of `GET /v1/agents`. Empty for a system with one upstream and no
/// named agents.
///
/// ```
/// let l: tz_chat_sdk::AgentList = serde_json::from_str(r#"{"agents":[]}"#).unwrap();
/// assert!(l.agents.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentList {
    /// The agents, by name.
    #[serde(default)]
    pub agents: Vec<AgentInfo>,
}
