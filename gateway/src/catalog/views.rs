//! What the admin API shows of systems and agents, and what it accepts.
//! A credential is accepted, never shown: only whether there is one and
//! its last characters.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::agents::rules::AgentOptions;
use crate::config::{ConfiguredAgent, UpstreamTarget};
use crate::store::catalog::{AgentRecord, SystemRecord};

/// Where a system or agent is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Stored through `/v1/admin`: editable.
    Database,
    /// Environment variables: read-only.
    Env,
    /// `CHAT_GATEWAY_CONFIG`: read-only.
    File,
}

/// A system as the admin API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SystemView {
    pub id: String,
    pub display_name: String,
    pub allowed_origins: Vec<String>,
    pub enabled: bool,
    pub default_agent: Option<String>,
    pub source: Source,
    pub read_only: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// An agent as the admin API shows it: never its credential, only a hint.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentView {
    pub system_id: String,
    pub id: String,
    pub kind: String,
    pub url: String,
    pub has_credential: bool,
    pub credential_hint: Option<String>,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub options: AgentOptions,
    pub title: String,
    pub description: String,
    pub enabled: bool,
    pub source: Source,
    pub read_only: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub created_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// Body of `POST` (all of it; `id` required) and `PATCH` (what changes)
/// on systems. An empty `default_agent` clears it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemInput {
    pub id: Option<String>,
    pub display_name: Option<String>,
    pub allowed_origins: Option<Vec<String>>,
    pub enabled: Option<bool>,
    pub default_agent: Option<String>,
}

/// Body of `POST` (`id` and `kind` required) and `PATCH` on agents. In a
/// `PATCH`, a missing field keeps its value and an empty string clears
/// `credential`, `model` or `system_prompt`.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInput {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub url: Option<String>,
    pub credential: Option<String>,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    pub options: Option<AgentOptions>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

impl std::fmt::Debug for AgentInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentInput")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field(
                "credential",
                &self.credential.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

pub(super) fn url_without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

pub(super) fn system_view(s: SystemRecord) -> SystemView {
    SystemView {
        id: s.id,
        display_name: s.display_name,
        allowed_origins: s.allowed_origins,
        enabled: s.enabled,
        default_agent: s.default_agent,
        source: Source::Database,
        read_only: false,
        created_at: Some(s.created_at),
        updated_at: Some(s.updated_at),
    }
}

pub(super) fn agent_view(a: AgentRecord) -> AgentView {
    AgentView {
        system_id: a.system_id,
        id: a.id,
        kind: a.kind,
        url: a.url,
        has_credential: a.credential.is_some(),
        credential_hint: a.credential.map(|c| c.hint),
        model: a.model,
        system_prompt: a.system_prompt,
        options: serde_json::from_str(&a.options).unwrap_or_default(),
        title: a.title,
        description: a.description,
        enabled: a.enabled,
        source: Source::Database,
        read_only: false,
        created_at: Some(a.created_at),
        updated_at: Some(a.updated_at),
    }
}

pub(super) fn fixed_agent_view(system: &str, agent: &ConfiguredAgent) -> AgentView {
    let (kind, url, has_credential, model, system_prompt) = match &agent.target.target {
        UpstreamTarget::Dify(t) => ("dify", t.base_url.clone(), true, None, None),
        UpstreamTarget::N8n(t) => (
            "n8n",
            url_without_query(&t.webhook_url),
            t.token.is_some(),
            None,
            None,
        ),
        UpstreamTarget::OpenAi(t) => (
            "openai",
            t.base_url.clone(),
            true,
            Some(t.model.clone()),
            t.system_prompt.clone(),
        ),
    };
    AgentView {
        system_id: system.to_owned(),
        id: agent.name.clone(),
        kind: kind.to_owned(),
        url,
        has_credential,
        credential_hint: None,
        model,
        system_prompt,
        options: AgentOptions::default(),
        title: agent.title.clone(),
        description: agent.description.clone(),
        enabled: true,
        source: Source::File,
        read_only: true,
        created_at: None,
        updated_at: None,
    }
}
