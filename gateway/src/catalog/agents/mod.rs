//! Operators' changes to agents: checked by the kind's rules
//! ([`rules`]), the credential sealed, stored, and applied to this replica
//! at once (the others follow by polling).

pub(super) mod rules;

use time::OffsetDateTime;

use self::rules::{AgentDraft, AgentOptions, CredentialDraft};
use super::views::{AgentInput, AgentView, agent_view, fixed_agent_view};
use super::{
    Catalog, CatalogError, MAX_CREDENTIAL_BYTES, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS,
    MAX_PROMPT_CHARS, invalid, text_field,
};
use crate::config::{ConfiguredAgent, system_env_key};
use crate::sealing;
use crate::store::catalog::{AgentRecord, CatalogWrite, PutMode, SealedCredential};

/// An agent id: 1–64 letters, digits, `.`, `_` or `-`.
pub(super) fn check_agent_id(id: &str) -> Result<(), CatalogError> {
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

impl Catalog {
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
            .ok_or_else(|| invalid(format!("kind is required: one of {:?}", rules::KINDS)))?;
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
        let url = rules::check(&draft).map_err(CatalogError::Invalid)?;
        let credential = match draft.credential {
            CredentialDraft::None => None,
            CredentialDraft::Stored(sealed) => Some(sealed),
            CredentialDraft::New(plain) => {
                let key = self.key.as_ref().ok_or(CatalogError::NoSecretKey)?;
                Some(SealedCredential {
                    sealed: key.seal(&plain, &rules::context(system, id)),
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
            enabled: input.enabled.or(current.map(|c| c.enabled)).unwrap_or(true),
            created_at: current.map_or(now, |c| c.created_at),
            updated_at: now,
        })
    }
}

fn read_only_agent(system: &str, id: &str) -> CatalogError {
    CatalogError::ReadOnly(format!(
        "agent {id:?} of system {system:?} is defined by the configuration file and cannot be changed here"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids() {
        assert!(check_agent_id("sales-2.eu_x").is_ok());
        for bad in ["", "a/b", "a b", &"x".repeat(65)] {
            assert!(check_agent_id(bad).is_err(), "{bad:?}");
        }
    }
}
