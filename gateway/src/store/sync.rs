//! What the background sync (see `crate::sync`) keeps in the store: whom
//! to sync (chat-page visitors and conversation owners), the conversations
//! it merges from the upstream's history, and which gateway process runs
//! each scheduled round.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::identity::Identity;

/// A conversation found elsewhere (upstream history) to merge into the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedConversation {
    /// Its id where it was found; kept as the upstream conversation id.
    pub id: String,
    /// Its title, possibly empty.
    pub name: String,
    /// When it started.
    pub created_at: Option<OffsetDateTime>,
}

/// One turn of an [`ImportedConversation`]: a question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedTurn {
    /// Its id where it was found; kept as the upstream message id.
    pub id: String,
    /// The user's message.
    pub query: Option<String>,
    pub answer: Option<String>,
    /// When it was sent.
    pub created_at: Option<OffsetDateTime>,
}

/// What one imported conversation added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// 1 when the conversation was created or its title changed.
    pub conversations: u64,
    /// Messages created.
    pub messages: u64,
}

/// The right to run one sync round, held for the whole run. Dropping it
/// without [`finish`](SyncLease::finish) (a panic, a cancelled task) still
/// lets other processes run later rounds.
#[async_trait]
pub trait SyncLease: Send {
    /// Record what the round did and give up the right.
    async fn finish(self: Box<Self>, counts: ImportCounts, errors: u64) -> Result<(), StoreError>;
}

/// The store's side of the background sync. See the module docs.
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Remember that `who` opened the chat page.
    async fn record_visit(&self, who: &Identity, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Every user to sync: chat-page visitors and conversation owners.
    async fn sync_targets(&self) -> Result<Vec<Identity>, StoreError>;

    /// Merge one upstream conversation and its turns; existing rows (matched
    /// by upstream ids) are kept, so importing twice adds nothing.
    async fn import_conversation(
        &self,
        owner: &Identity,
        conversation: &ImportedConversation,
        messages: &[ImportedTurn],
        at: OffsetDateTime,
    ) -> Result<ImportCounts, StoreError>;

    /// Claim round `round` of the scheduled sync for this process, held
    /// until the lease is finished or dropped, and record it (see
    /// [`HousekeepingStore::sync_rounds`](super::housekeeping::HousekeepingStore::sync_rounds)).
    /// `None` when another process is running a round or already ran this
    /// one. A store used by one process only (SQLite) grants every round not
    /// run yet; that process keeps its own runs apart.
    async fn claim_sync_round(&self, round: i64) -> Result<Option<Box<dyn SyncLease>>, StoreError>;
}
