//! Records of the systems and agents managed at runtime (`/v1/admin`).
//!
//! The store keeps them as given: it neither validates nor decrypts. A
//! credential arrives already sealed (see `crate::sealing`) and leaves the
//! same way. Every successful write also bumps one version number in the
//! same transaction, so replicas learn of a change with one cheap read
//! ([`CatalogStore::catalog_version`]).

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;

/// A system created at runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemRecord {
    pub id: String,
    pub display_name: String,
    /// Normalised origins (`scheme://host[:port]`) allowed to mint its
    /// tokens, call the API from a browser and frame its chat page.
    pub allowed_origins: Vec<String>,
    /// A disabled system is refused on every door (403).
    pub enabled: bool,
    /// The agent answering messages that name none.
    pub default_agent: Option<String>,
    /// Set by the store on creation; kept by updates.
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A credential as stored: sealed, plus a few characters to recognise it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedCredential {
    /// The sealed text (never the plain credential).
    pub sealed: String,
    /// The credential's last characters, shown instead of it.
    pub hint: String,
}

impl std::fmt::Debug for SealedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedCredential")
            .field("hint", &self.hint)
            .finish_non_exhaustive()
    }
}

/// An agent created at runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub system_id: String,
    pub id: String,
    /// `dify`, `n8n` or `openai`.
    pub kind: String,
    pub url: String,
    pub credential: Option<SealedCredential>,
    pub model: Option<String>,
    pub system_prompt: Option<String>,
    /// A JSON object of kind-specific options.
    pub options: String,
    pub title: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Everything stored, as of one version.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogRecords {
    pub version: i64,
    /// By id.
    pub systems: Vec<SystemRecord>,
    /// By system, then id.
    pub agents: Vec<AgentRecord>,
}

/// Whether a write creates a row or replaces an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    Create,
    Update,
}

/// What a catalog write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogWrite {
    Done,
    /// Update or delete of a row that does not exist.
    NotFound,
    /// Create of a row that already exists.
    Exists,
}

/// Systems and agents managed at runtime. See the module docs.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// The catalog's version: changes with every catalog write.
    async fn catalog_version(&self) -> Result<i64, StoreError>;

    /// Every stored system and agent, with the version they are as of.
    async fn load_catalog(&self) -> Result<CatalogRecords, StoreError>;

    /// Create or replace a system (an update keeps `created_at`).
    async fn put_system(
        &self,
        system: &SystemRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError>;

    /// Delete a system and its agents.
    async fn delete_system(&self, id: &str) -> Result<CatalogWrite, StoreError>;

    /// Create or replace an agent (an update keeps `created_at`).
    async fn put_agent(
        &self,
        agent: &AgentRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError>;

    /// Delete one agent.
    async fn delete_agent(&self, system_id: &str, id: &str) -> Result<CatalogWrite, StoreError>;
}
