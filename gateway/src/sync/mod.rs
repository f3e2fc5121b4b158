//! Importing history that exists only upstream (conversations from before
//! the gateway, or made elsewhere with the same upstream user) into the
//! store. Three callers share [`run`] and [`sync_user`]: `POST /v1/sync`
//! and `/v1/sync/me`, the `chat-gateway sync` command, and the background
//! schedule ([`schedule`], `CHAT_GATEWAY_SYNC_EVERY`).
//!
//! One user's failure is reported and does not stop the others; each
//! conversation is imported in its own transaction, and importing twice adds
//! nothing. Only upstreams that keep conversations
//! ([`crate::upstream::UpstreamHistory`]) have anything to import; other
//! systems are reported as skipped, never as errors.

pub mod schedule;
mod status;

use time::OffsetDateTime;

use crate::identity::{Identity, SystemId};
use crate::metrics::SyncOutcome;
use crate::store::{ImportCounts, ImportedConversation, ImportedTurn, Store, StoreError};
use crate::upstream::{RouteKey, UpstreamConversation, UpstreamError, UpstreamMessage, Upstreams};

pub use self::status::{SyncStats, SyncStatus};

/// Why one user's history could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No upstream answers the user's system.
    #[error("no upstream is configured for this system")]
    NotConfigured,
    /// The upstream failed.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run over many users did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Conversations created or renamed, messages created.
    pub imported: ImportCounts,
    /// Users whose upstream could not be read, with why.
    pub errors: Vec<(Identity, SyncError)>,
    /// Systems whose upstream keeps no conversations (in order of first
    /// appearance).
    pub skipped: Vec<String>,
    /// Users looked at.
    pub users: usize,
}

/// Import the history of every user the store knows (chat-page visitors
/// and conversation owners), or only of the users of `systems` (when not
/// empty). `progress` is told `(done, total)` first and after each user.
pub async fn run(
    store: &dyn Store,
    upstreams: &Upstreams,
    systems: &[SystemId],
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<SyncReport, StoreError> {
    let targets: Vec<Identity> = store
        .sync_targets()
        .await?
        .into_iter()
        .filter(|who| systems.is_empty() || systems.contains(&who.system))
        .collect();
    let mut report = SyncReport {
        users: targets.len(),
        ..SyncReport::default()
    };
    progress(0, targets.len());
    for (done, who) in targets.into_iter().enumerate() {
        match sync_user(store, upstreams, &who).await {
            Ok(None) => {
                let system = who.system.as_str().to_owned();
                if !report.skipped.contains(&system) {
                    report.skipped.push(system);
                }
            }
            Ok(Some(counts)) => {
                report.imported.conversations += counts.conversations;
                report.imported.messages += counts.messages;
            }
            Err(e) => report.errors.push((who, e)),
        }
        progress(done + 1, report.users);
    }
    Ok(report)
}

/// What was imported for `who`; `None` when the system's upstream keeps no
/// conversations.
pub async fn sync_user(
    store: &dyn Store,
    upstreams: &Upstreams,
    who: &Identity,
) -> Result<Option<ImportCounts>, SyncError> {
    let imported = import_user(store, upstreams, who).await;
    let outcome = match &imported {
        Ok(Some(counts)) => SyncOutcome::Imported {
            conversations: counts.conversations,
            messages: counts.messages,
        },
        Ok(None) => SyncOutcome::Skipped,
        Err(_) => SyncOutcome::Failed,
    };
    // Only systems the configuration names get a label of their own.
    let label = if upstreams.names_system(&who.system) {
        who.system.as_str()
    } else {
        crate::metrics::OTHER_SYSTEM
    };
    crate::metrics::sync_run(label, outcome);
    imported
}

async fn import_user(
    store: &dyn Store,
    upstreams: &Upstreams,
    who: &Identity,
) -> Result<Option<ImportCounts>, SyncError> {
    let upstream = upstreams
        .resolve(&RouteKey::system(&who.system))
        .ok_or(SyncError::NotConfigured)?;
    // An upstream without history of its own has nothing to import: the
    // system is skipped, which is not an error.
    let Some(history) = upstream.history() else {
        tracing::debug!(system = %who.system, kind = upstream.kind(), "no upstream history to sync");
        return Ok(None);
    };
    let user = who.upstream_user();
    let mut total = ImportCounts::default();
    for conversation in history.list_conversations(&user).await? {
        let turns = match history.list_messages(&user, &conversation.id).await {
            Ok(turns) => turns,
            // Deleted between the two calls.
            Err(UpstreamError::ConversationGone) => continue,
            Err(e) => return Err(e.into()),
        };
        let turns: Vec<ImportedTurn> = turns.into_iter().map(imported_turn).collect();
        let writing = std::time::Instant::now();
        let counts = store
            .import_conversation(
                who,
                &imported_conversation(conversation),
                &turns,
                OffsetDateTime::now_utc(),
            )
            .await;
        crate::metrics::store_write("import_conversation", writing.elapsed());
        let counts = counts?;
        total.conversations += counts.conversations;
        total.messages += counts.messages;
    }
    Ok(Some(total))
}

fn imported_conversation(c: UpstreamConversation) -> ImportedConversation {
    ImportedConversation {
        id: c.id,
        name: c.name,
        created_at: c.created_at,
    }
}

fn imported_turn(m: UpstreamMessage) -> ImportedTurn {
    ImportedTurn {
        id: m.id,
        query: m.query,
        answer: m.answer,
        created_at: m.created_at,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;
    use crate::upstream::{Reply, ReplyStream, Upstream, UpstreamRequest};

    /// Answers, but keeps no conversations of its own (like a webhook).
    struct Stateless;

    #[async_trait]
    impl Upstream for Stateless {
        fn kind(&self) -> &'static str {
            "stateless"
        }

        async fn reply(&self, _req: &UpstreamRequest<'_>) -> Result<Reply, UpstreamError> {
            Ok(Reply::default())
        }

        async fn stream(&self, _req: &UpstreamRequest<'_>) -> Result<ReplyStream, UpstreamError> {
            Err(UpstreamError::StreamCut)
        }
    }

    #[tokio::test]
    async fn a_system_whose_upstream_keeps_no_history_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = crate::store::open(&url).await.unwrap();
        let upstreams = Upstreams::single(Arc::new(Stateless));
        let who = Identity::parse("hooked", "u").unwrap();
        let counts = sync_user(store.as_ref(), &upstreams, &who).await.unwrap();
        assert_eq!(counts, None, "skipped, not an empty import");

        store
            .record_visit(&who, OffsetDateTime::now_utc())
            .await
            .unwrap();
        let mut seen = Vec::new();
        let report = run(store.as_ref(), &upstreams, &[], &mut |done, total| {
            seen.push((done, total));
        })
        .await
        .unwrap();
        assert_eq!(report.skipped, ["hooked"]);
        assert!(report.errors.is_empty());
        assert_eq!(
            seen,
            [(0, 1), (1, 1)],
            "progress before and after the one user"
        );
    }
}
