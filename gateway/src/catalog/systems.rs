//! Operators' changes to systems: checked here, stored, applied to this
//! replica at once (the others follow by polling).

use time::OffsetDateTime;

use super::agents::check_agent_id;
use super::views::{Source, SystemInput, SystemView, system_view};
use super::{Catalog, CatalogError, MAX_NAME_CHARS, MAX_ORIGINS, invalid, text_field};
use crate::config::{normalise_origin, system_env_key};
use crate::identity::SystemId;
use crate::store::catalog::{CatalogWrite, PutMode, SystemRecord};

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
        let id = input.id.clone().ok_or_else(|| invalid("id is required"))?;
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
    pub(super) async fn known_system(&self, system: &str) -> Result<(), CatalogError> {
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
}
