//! The systems created at runtime, as every request sees them right now:
//! which exist, which are disabled, and the browser origins each allows.
//!
//! One [`Directory`] handle is shared by authentication (a disabled system
//! is refused on every door), the origin policy (token minting, CORS and
//! the chat page's `frame-ancestors`) and the catalog, which replaces the
//! whole snapshot when the stored systems change. Systems from the
//! environment are not in it: they follow `ALLOWED_SYSTEM_IDS` as before.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::identity::SystemId;

/// One runtime system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub enabled: bool,
    /// Normalised origins (`scheme://host[:port]`).
    pub origins: Vec<String>,
}

/// Every runtime system at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    systems: HashMap<String, DirectoryEntry>,
    /// The origins of every enabled system (for CORS, which is decided
    /// before the request's system is known).
    origins: HashSet<String>,
}

impl Snapshot {
    pub fn new(systems: HashMap<String, DirectoryEntry>) -> Self {
        let origins = systems
            .values()
            .filter(|entry| entry.enabled)
            .flat_map(|entry| entry.origins.iter().cloned())
            .collect();
        Self { systems, origins }
    }
}

/// What the directory says about one system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemStatus {
    /// Not a runtime system (the environment decides).
    Unknown,
    Enabled,
    Disabled,
}

/// A shared, swappable [`Snapshot`]. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Directory(Arc<ArcSwap<Snapshot>>);

impl Directory {
    /// Replace the snapshot; requests already past their checks keep going.
    pub fn replace(&self, snapshot: Snapshot) {
        self.0.store(Arc::new(snapshot));
    }

    pub fn status(&self, system: &SystemId) -> SystemStatus {
        match self.0.load().systems.get(system.as_str()) {
            None => SystemStatus::Unknown,
            Some(entry) if entry.enabled => SystemStatus::Enabled,
            Some(_) => SystemStatus::Disabled,
        }
    }

    /// The origins `system` allows (empty for systems not in it).
    pub fn origins_of(&self, system: &SystemId) -> Vec<String> {
        self.0
            .load()
            .systems
            .get(system.as_str())
            .map(|entry| entry.origins.clone())
            .unwrap_or_default()
    }

    /// The ids of the enabled runtime systems, sorted.
    pub fn enabled_systems(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .0
            .load()
            .systems
            .iter()
            .filter(|(_, entry)| entry.enabled)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Whether some enabled system allows the normalised `origin`.
    pub fn any_allows(&self, origin: &str) -> bool {
        self.0.load().origins.contains(origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_is_seen_by_every_clone() {
        let directory = Directory::default();
        let seen_by_auth = directory.clone();
        let quiz = SystemId::parse("quiz").unwrap();
        assert_eq!(seen_by_auth.status(&quiz), SystemStatus::Unknown);
        let entry = |enabled| DirectoryEntry {
            enabled,
            origins: vec!["https://quiz.example".to_owned()],
        };
        directory.replace(Snapshot::new(HashMap::from([(
            "quiz".to_owned(),
            entry(true),
        )])));
        assert_eq!(seen_by_auth.status(&quiz), SystemStatus::Enabled);
        assert!(seen_by_auth.any_allows("https://quiz.example"));
        directory.replace(Snapshot::new(HashMap::from([(
            "quiz".to_owned(),
            entry(false),
        )])));
        assert_eq!(seen_by_auth.status(&quiz), SystemStatus::Disabled);
        assert!(
            !seen_by_auth.any_allows("https://quiz.example"),
            "a disabled system's origins are not allowed"
        );
        assert_eq!(seen_by_auth.origins_of(&quiz), ["https://quiz.example"]);
    }
}
