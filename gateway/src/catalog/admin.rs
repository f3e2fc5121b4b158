//! What operators do with systems and agents: list (stored and read-only
//! ones together), create, change, delete. Each write is checked here,
//! stored, and applied to this replica at once; the others follow through
//! [`Catalog::watch`].

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Catalog;
use super::agents::{self, AgentDraft, AgentOptions, CredentialDraft};
use crate::config::{ConfiguredAgent, UpstreamTarget, normalise_origin, system_env_key};
use crate::identity::SystemId;
use crate::sealing;
use crate::store::StoreError;
use crate::store::catalog::{
    AgentRecord, CatalogWrite, PutMode, SealedCredential, SystemRecord,
};

/// Why an operator's request was refused. Never carries a credential.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A field is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A credential was given but there is no key to seal it with.
    #[error(
        "CHAT_GATEWAY_SECRET_KEY is not set, so credentials cannot be stored; set it (`chat-gateway secrets` prints one) and restart"
    )]
    NoSecretKey,
    /// The environment or the configuration file defines it.
    #[error("{0}")]
    ReadOnly(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a system or agent is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Clone, Default, Deserialize)]
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
            .field("credential", &self.credential.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_PROMPT_CHARS: usize = 20_000;
const MAX_CREDENTIAL_BYTES: usize = 4_096;
const MAX_ORIGINS: usize = 50;

fn invalid(message: impl Into<String>) -> CatalogError {
    CatalogError::Invalid(message.into())
}

fn text_field(
    name: &str,
    value: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, CatalogError> {
    match value {
        Some(v) if v.chars().count() > max_chars => Err(invalid(format!(
            "{name} is longer than {max_chars} characters"
        ))),
        Some(v) if v.contains('\0') => Err(invalid(format!("{name} contains a NUL character"))),
        other => Ok(other),
    }
}

/// An agent id: 1–64 letters, digits, `.`, `_` or `-`.
fn check_agent_id(id: &str) -> Result<(), CatalogError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "agent id {id:?} must be 1–64 letters, digits, '.', '_' or '-'"
        )))
    }
}

fn check_system_id(id: &str) -> Result<SystemId, CatalogError> {
    SystemId::parse(id).map_err(|e| invalid(format!("id: {e}")))
}

/// Origins as stored: each an http(s) origin, normalised, without
/// duplicates.
fn origins(raw: Vec<String>) -> Result<Vec<String>, CatalogError> {
    if raw.len() > MAX_ORIGINS {
        return Err(invalid(format!(
            "allowed_origins has more than {MAX_ORIGINS} entries"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for origin in raw {
        let normal = normalise_origin(&origin).filter(|normal| {
            normal.eq_ignore_ascii_case(origin.trim().trim_end_matches('/'))
                && normal
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b":/.-[]".contains(&b))
        });
        let Some(normal) = normal else {
            return Err(invalid(format!(
                "allowed_origins: {origin:?} is not an origin like https://app.example.com"
            )));
        };
        if !out.contains(&normal) {
            out.push(normal);
        }
    }
    Ok(out)
}

fn url_without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

impl Catalog {
    /// Systems defined by the environment or the configuration file, by id.
    fn fixed_systems(&self) -> Vec<(String, Source)> {
        let mut out: Vec<(String, Source)> = self
            .env_systems
            .iter()
            .map(|id| (id.clone(), Source::Env))
            .collect();
        for (key, target) in &self.settings.per_system {
            let source = if target.source.contains("[systems.") {
                Source::File
            } else {
                Source::Env
            };
            out.push((key.to_ascii_lowercase(), source));
        }
        for key in self.settings.agents.keys() {
            out.push((key.to_ascii_lowercase(), Source::File));
        }
        out.sort();
        out.dedup_by(|a, b| system_env_key(&a.0) == system_env_key(&b.0));
        out
    }

    /// The read-only definition of `id`, if the environment or the file has
    /// one.
    fn fixed_source(&self, id: &str) -> Option<Source> {
        let key = system_env_key(id);
        self.fixed_systems()
            .into_iter()
            .find(|(fixed, _)| system_env_key(fixed) == key)
            .map(|(_, source)| source)
    }

    /// Every system: read-only ones first, then the stored ones.
    pub async fn list_systems(&self) -> Result<Vec<SystemView>, CatalogError> {
        let stored = self.store.load_catalog().await?;
        let mut out: Vec<SystemView> = self
            .fixed_systems()
            .into_iter()
            .map(|(id, source)| SystemView {
                display_name: id.clone(),
                id,
                allowed_origins: Vec::new(),
                enabled: true,
                default_agent: None,
                source,
                read_only: true,
                created_at: None,
                updated_at: None,
            })
            .collect();
        out.extend(stored.systems.into_iter().map(system_view));
        Ok(out)
    }

    pub async fn get_system(&self, id: &str) -> Result<SystemView, CatalogError> {
        self.list_systems()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| CatalogError::NotFound(format!("No system {id:?}")))
    }

    async fn stored_system(&self, id: &str) -> Result<SystemRecord, CatalogError> {
        if let Some(source) = self.fixed_source(id) {
            return Err(read_only_system(id, source));
        }
        self.store
            .load_catalog()
            .await?
            .systems
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| CatalogError::NotFound(format!("No system {id:?}")))
    }

    pub async fn create_system(&self, input: SystemInput) -> Result<SystemView, CatalogError> {
        let id = input
            .id
            .clone()
            .ok_or_else(|| invalid("id is required"))?;
        check_system_id(&id)?;
        if let Some(source) = self.fixed_source(&id) {
            return Err(read_only_system(&id, source));
        }
        let stored = self.store.load_catalog().await?;
        if let Some(same) = stored
            .systems
            .iter()
            .find(|s| s.id != id && system_env_key(&s.id) == system_env_key(&id))
        {
            return Err(CatalogError::Exists(format!(
                "system {:?} already exists and would share routes with {id:?}",
                same.id
            )));
        }
        let now = OffsetDateTime::now_utc();
        let mut record = SystemRecord {
            display_name: id.clone(),
            id,
            allowed_origins: Vec::new(),
            enabled: true,
            default_agent: None,
            created_at: now,
            updated_at: now,
        };
        apply_system(&mut record, input)?;
        match self.store.put_system(&record, PutMode::Create).await? {
            CatalogWrite::Done => {}
            _ => {
                return Err(CatalogError::Exists(format!(
                    "system {:?} already exists",
                    record.id
                )));
            }
        }
        self.reload_now().await;
        Ok(system_view(record))
    }

    pub async fn update_system(
        &self,
        id: &str,
        input: SystemInput,
    ) -> Result<SystemView, CatalogError> {
        if input.id.as_deref().is_some_and(|given| given != id) {
            return Err(invalid("id cannot be changed"));
        }
        let mut record = self.stored_system(id).await?;
        apply_system(&mut record, input)?;
        record.updated_at = OffsetDateTime::now_utc();
        if self.store.put_system(&record, PutMode::Update).await? != CatalogWrite::Done {
            return Err(CatalogError::NotFound(format!("No system {id:?}")));
        }
        self.reload_now().await;
        self.get_system(id).await
    }

    /// Delete a stored system and its stored agents.
    pub async fn delete_system(&self, id: &str) -> Result<(), CatalogError> {
        self.stored_system(id).await?;
        if self.store.delete_system(id).await? != CatalogWrite::Done {
            return Err(CatalogError::NotFound(format!("No system {id:?}")));
        }
        self.reload_now().await;
        Ok(())
    }

    /// A system agents may be added to: stored, or from the environment.
    async fn known_system(&self, system: &str) -> Result<(), CatalogError> {
        if self.fixed_source(system).is_some()
            || self
                .store
                .load_catalog()
                .await?
                .systems
                .iter()
                .any(|s| s.id == system)
        {
            Ok(())
        } else {
            Err(CatalogError::NotFound(format!("No system {system:?}")))
        }
    }

    fn fixed_agents(&self, system: &str) -> Vec<&ConfiguredAgent> {
        self.settings
            .agents
            .get(&system_env_key(system))
            .map(|agents| agents.values().collect())
            .unwrap_or_default()
    }

    /// The agents of `system`: read-only ones first, then the stored ones.
    pub async fn list_agents(&self, system: &str) -> Result<Vec<AgentView>, CatalogError> {
        self.known_system(system).await?;
        let mut out: Vec<AgentView> = self
            .fixed_agents(system)
            .into_iter()
            .map(|agent| fixed_agent_view(system, agent))
            .collect();
        let stored = self.store.load_catalog().await?;
        out.extend(
            stored
                .agents
                .into_iter()
                .filter(|a| a.system_id == system)
                .map(agent_view),
        );
        Ok(out)
    }

    pub async fn get_agent(&self, system: &str, id: &str) -> Result<AgentView, CatalogError> {
        self.list_agents(system)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| CatalogError::NotFound(format!("System {system:?} has no agent {id:?}")))
    }

    async fn stored_agent(&self, system: &str, id: &str) -> Result<AgentRecord, CatalogError> {
        if self.fixed_agents(system).iter().any(|a| a.name == id) {
            return Err(read_only_agent(system, id));
        }
        self.store
            .load_catalog()
            .await?
            .agents
            .into_iter()
            .find(|a| a.system_id == system && a.id == id)
            .ok_or_else(|| CatalogError::NotFound(format!("System {system:?} has no agent {id:?}")))
    }

    pub async fn create_agent(
        &self,
        system: &str,
        input: AgentInput,
    ) -> Result<AgentView, CatalogError> {
        self.known_system(system).await?;
        let id = input.id.clone().ok_or_else(|| invalid("id is required"))?;
        check_agent_id(&id)?;
        if self.fixed_agents(system).iter().any(|a| a.name == id) {
            return Err(read_only_agent(system, &id));
        }
        let kind = input
            .kind
            .clone()
            .ok_or_else(|| invalid(format!("kind is required: one of {:?}", agents::KINDS)))?;
        let now = OffsetDateTime::now_utc();
        let draft = AgentDraft {
            kind,
            url: String::new(),
            credential: CredentialDraft::None,
            model: None,
            system_prompt: None,
            options: AgentOptions::default(),
        };
        let record = self.agent_record(system, &id, draft, input, None, now)?;
        if self.store.put_agent(&record, PutMode::Create).await? != CatalogWrite::Done {
            return Err(CatalogError::Exists(format!(
                "system {system:?} already has an agent {id:?}"
            )));
        }
        self.reload_now().await;
        Ok(agent_view(record))
    }

    pub async fn update_agent(
        &self,
        system: &str,
        id: &str,
        input: AgentInput,
    ) -> Result<AgentView, CatalogError> {
        if input.id.as_deref().is_some_and(|given| given != id) {
            return Err(invalid("id cannot be changed"));
        }
        let current = self.stored_agent(system, id).await?;
        let draft = AgentDraft {
            kind: current.kind.clone(),
            url: current.url.clone(),
            credential: current
                .credential
                .clone()
                .map_or(CredentialDraft::None, CredentialDraft::Stored),
            model: current.model.clone(),
            system_prompt: current.system_prompt.clone(),
            options: serde_json::from_str(&current.options).unwrap_or_default(),
        };
        let record = self.agent_record(
            system,
            id,
            draft,
            input,
            Some(&current),
            OffsetDateTime::now_utc(),
        )?;
        if self.store.put_agent(&record, PutMode::Update).await? != CatalogWrite::Done {
            return Err(CatalogError::NotFound(format!(
                "System {system:?} has no agent {id:?}"
            )));
        }
        self.reload_now().await;
        Ok(agent_view(record))
    }

    pub async fn delete_agent(&self, system: &str, id: &str) -> Result<(), CatalogError> {
        self.stored_agent(system, id).await?;
        if self.store.delete_agent(system, id).await? != CatalogWrite::Done {
            return Err(CatalogError::NotFound(format!(
                "System {system:?} has no agent {id:?}"
            )));
        }
        self.reload_now().await;
        Ok(())
    }

    /// `draft` changed by `input`, checked, with a new credential sealed.
    fn agent_record(
        &self,
        system: &str,
        id: &str,
        mut draft: AgentDraft,
        input: AgentInput,
        current: Option<&AgentRecord>,
        now: OffsetDateTime,
    ) -> Result<AgentRecord, CatalogError> {
        let cleared = |v: String| (!v.trim().is_empty()).then_some(v);
        if let Some(kind) = input.kind {
            draft.kind = kind;
        }
        if let Some(url) = input.url {
            draft.url = url;
        }
        if let Some(credential) = input.credential {
            if credential.len() > MAX_CREDENTIAL_BYTES || credential.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "credential must be at most {MAX_CREDENTIAL_BYTES} bytes without control characters"
                )));
            }
            draft.credential = match cleared(credential) {
                Some(plain) => CredentialDraft::New(plain.trim().to_owned()),
                None => CredentialDraft::None,
            };
        }
        if let Some(model) = input.model {
            draft.model = cleared(model);
        }
        if let Some(prompt) = text_field("system_prompt", input.system_prompt, MAX_PROMPT_CHARS)? {
            draft.system_prompt = cleared(prompt);
        }
        if let Some(options) = input.options {
            draft.options = options;
        }
        let url = agents::check(&draft).map_err(CatalogError::Invalid)?;
        let credential = match draft.credential {
            CredentialDraft::None => None,
            CredentialDraft::Stored(sealed) => Some(sealed),
            CredentialDraft::New(plain) => {
                let key = self.key.as_ref().ok_or(CatalogError::NoSecretKey)?;
                Some(SealedCredential {
                    sealed: key.seal(&plain, &agents::context(system, id)),
                    hint: sealing::hint(&plain),
                })
            }
        };
        let title = text_field("title", input.title, MAX_NAME_CHARS)?
            .or_else(|| current.map(|c| c.title.clone()))
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| id.to_owned());
        let description = text_field("description", input.description, MAX_DESCRIPTION_CHARS)?
            .or_else(|| current.map(|c| c.description.clone()))
            .unwrap_or_default();
        Ok(AgentRecord {
            system_id: system.to_owned(),
            id: id.to_owned(),
            kind: draft.kind,
            url,
            credential,
            model: draft.model,
            system_prompt: draft.system_prompt,
            options: serde_json::to_string(&draft.options)
                .map_err(|e| invalid(format!("options: {e}")))?,
            title,
            description,
            enabled: input
                .enabled
                .or(current.map(|c| c.enabled))
                .unwrap_or(true),
            created_at: current.map_or(now, |c| c.created_at),
            updated_at: now,
        })
    }

    /// Apply a write made here at once (the poll would also, a little later).
    async fn reload_now(&self) {
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e, "applying a catalog change failed; the next poll retries");
        }
    }
}

fn apply_system(record: &mut SystemRecord, input: SystemInput) -> Result<(), CatalogError> {
    if let Some(name) = text_field("display_name", input.display_name, MAX_NAME_CHARS)? {
        if name.trim().is_empty() {
            return Err(invalid("display_name cannot be empty"));
        }
        record.display_name = name.trim().to_owned();
    }
    if let Some(list) = input.allowed_origins {
        record.allowed_origins = origins(list)?;
    }
    if let Some(enabled) = input.enabled {
        record.enabled = enabled;
    }
    if let Some(agent) = input.default_agent {
        if agent.is_empty() {
            record.default_agent = None;
        } else {
            check_agent_id(&agent)?;
            record.default_agent = Some(agent);
        }
    }
    Ok(())
}

fn read_only_system(id: &str, source: Source) -> CatalogError {
    let place = match source {
        Source::File => "the configuration file (CHAT_GATEWAY_CONFIG)",
        _ => "the environment",
    };
    CatalogError::ReadOnly(format!(
        "system {id:?} is defined by {place} and cannot be changed here"
    ))
}

fn read_only_agent(system: &str, id: &str) -> CatalogError {
    CatalogError::ReadOnly(format!(
        "agent {id:?} of system {system:?} is defined by the configuration file and cannot be changed here"
    ))
}

fn system_view(s: SystemRecord) -> SystemView {
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

fn agent_view(a: AgentRecord) -> AgentView {
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

fn fixed_agent_view(system: &str, agent: &ConfiguredAgent) -> AgentView {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_nothing_else_passes() {
        assert_eq!(
            origins(vec![
                "https://App.Example.com/".into(),
                "https://app.example.com".into(),
                "http://localhost:3000".into(),
            ])
            .unwrap(),
            ["https://app.example.com", "http://localhost:3000"]
        );
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "ftp://app.example.com",
            "https://a.example;script-src *",
            "https://user@app.example.com",
        ] {
            assert!(origins(vec![bad.into()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn agent_ids() {
        assert!(check_agent_id("sales-2.eu_x").is_ok());
        for bad in ["", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_agent_id(bad).is_err(), "{bad:?}");
        }
    }
}
