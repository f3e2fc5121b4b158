//! Scoped API keys (`tzk_…`): created by admins, stored as SHA-256 digests,
//! checked against an in-memory copy of the key table.
//!
//! The copy is reloaded when it is older than [`REFRESH`], by the first
//! request that finds it so (the others wait for that one load, not for one
//! each): a key revoked on any replica is refused everywhere within
//! [`REFRESH`] plus one query, with no database round trip per request. A
//! revocation on this replica holds at once. `last_used_at` is collected in
//! memory and written with the next reload, one write for all keys used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::scope::{Grant, Permission, SystemScope};
use crate::store::Store;
use crate::store::StoreError;
use crate::store::operators::ApiKeyRecord;

/// Longest age of the in-memory key table.
pub const REFRESH: Duration = Duration::from_secs(2);

/// The prefix of every scoped key.
pub const PREFIX: &str = "tzk_";

/// The stored form of a key: SHA-256, lower-case hex. Keys are 256 random
/// bits, so a fast hash is enough (no password stretching needed).
pub fn digest(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The grant a stored key gives (unknown permission names give nothing).
pub fn grant_of(record: &ApiKeyRecord) -> Grant {
    Grant {
        key_id: Some(record.id.clone()),
        permissions: record
            .permissions
            .iter()
            .filter_map(|p| Permission::parse(p))
            .collect(),
        systems: SystemScope::from_list(record.systems.as_deref()),
    }
}

struct Table {
    loaded: Option<Instant>,
    /// Usable keys by digest.
    by_digest: HashMap<String, ApiKeyRecord>,
}

/// The in-memory copy of the key table. Cheap to clone.
#[derive(Clone)]
pub struct KeyCache {
    store: Arc<dyn Store>,
    table: Arc<Mutex<Table>>,
    /// One reload at a time.
    loading: Arc<tokio::sync::Mutex<()>>,
    /// Key id → last use, not yet written.
    used: Arc<Mutex<HashMap<String, OffsetDateTime>>>,
}

impl KeyCache {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            table: Arc::new(Mutex::new(Table {
                loaded: None,
                by_digest: HashMap::new(),
            })),
            loading: Arc::new(tokio::sync::Mutex::new(())),
            used: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn fresh(&self) -> bool {
        let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        table.loaded.is_some_and(|at| at.elapsed() < REFRESH)
    }

    /// Reload the table if it is stale.
    async fn refresh(&self) -> Result<(), StoreError> {
        if self.fresh() {
            return Ok(());
        }
        let _one = self.loading.lock().await;
        if self.fresh() {
            return Ok(());
        }
        let used: Vec<(String, OffsetDateTime)> =
            std::mem::take(&mut *self.used.lock().unwrap_or_else(PoisonError::into_inner))
                .into_iter()
                .collect();
        if !used.is_empty()
            && let Err(e) = self.store.mark_api_keys_used(&used).await
        {
            tracing::warn!(error = %e, "recording when API keys were last used failed");
        }
        let keys = self.store.list_api_keys().await?;
        let by_digest = keys
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| (k.digest.clone(), k))
            .collect();
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = Table {
            loaded: Some(Instant::now()),
            by_digest,
        };
        Ok(())
    }

    /// The grant of `key`, or `None` when it is unknown, revoked or expired.
    pub async fn grant(&self, key: &str) -> Result<Option<Grant>, StoreError> {
        self.refresh().await?;
        let now = OffsetDateTime::now_utc();
        let found = {
            let table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
            table
                .by_digest
                .get(&digest(key))
                .filter(|k| k.expires_at.is_none_or(|at| at > now))
                .map(grant_of)
        };
        if let Some(grant) = &found
            && let Some(id) = &grant.key_id
        {
            self.used
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id.clone(), now);
        }
        Ok(found)
    }

    /// Forget a key at once on this replica (the others follow on their
    /// next reload).
    pub fn forget(&self, id: &str) {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .by_digest
            .retain(|_, k| k.id != id);
    }

    /// Reload at the next lookup (after a key was added here).
    pub fn invalidate(&self) {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .loaded = None;
    }
}
