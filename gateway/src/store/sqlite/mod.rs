//! [`Store`] on SQLite: the zero-set-up default for one gateway process.
//!
//! - **Writes** use one connection with group commit ([`writer`]): when
//!   quiet a write runs at once on the caller's thread; under load many turns
//!   share one transaction and one commit; every caller is answered only
//!   after its own rows are committed.
//! - **Reads** use a small pool of read-only connections on blocking threads
//!   ([`readers`]); in WAL mode they never wait for the writer.
//! - The schema is migrated with sqlx's migrator (`migrations/sqlite`, the
//!   same tooling as PostgreSQL); everything after that talks to SQLite
//!   through `rusqlite`, whose calls cost about a microsecond where sqlx's
//!   async driver spends tens of microseconds per statement on channel hops
//!   (measured in BENCHMARKS.md).
//!
//! Durability: WAL with `synchronous=NORMAL` by default — a committed turn
//! survives the gateway being killed; a power cut or kernel crash can lose the
//! last moments of commits (never corrupt the file). Add
//! `?synchronous=full` to `DATABASE_URL` to `fsync` every commit (group commit
//! keeps that affordable).
//!
//! SQLite is for one replica. Several replicas must share PostgreSQL.

/// The column list every conversation query selects, in
/// [`reads::conversation_from_row`] order.
macro_rules! conversation_columns {
    () => {
        "id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at"
    };
}

mod catalog;
mod checkpoint;
mod console;
mod feedback;
mod housekeeping;
mod idempotency;
mod limits;
mod live;
mod operators;
pub(crate) mod probe;
mod readers;
mod reads;
mod turns;
mod writer;
mod writes;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use time::OffsetDateTime;

use self::readers::Readers;
use self::reads::{OwnedScope, Search};
use self::writer::Writer;
use self::writes::{OwnedEnd, OwnedTurn};
use super::console::{ConsoleConversation, ConsoleFilter, ConsoleMessage, DailyUsage};
use super::{
    Begin, ConversationFilter, ConversationRecord, ImportCounts, ImportedConversation,
    ImportedTurn, MessageRecord, NewTurn, PageRequest, RevocationList, Scope, Store, StoreError,
    TokenUsage, TurnEnd, UpstreamClaim, UpstreamIds, to_millis,
};
use crate::identity::Identity;
use crate::store::catalog::{AgentRecord, CatalogRecords, CatalogWrite, PutMode, SystemRecord};
use crate::store::feedback::{FeedbackChange, FeedbackOutcome, FeedbackRecord};

/// Memory-mapped I/O for page reads (a page cache refilled after another
/// connection checkpointed costs no `pread` calls).
pub(super) const MMAP_BYTES: i64 = 256 * 1024 * 1024;

/// SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    writer: Writer,
    /// Marks the turns this process answers (see [`writes::fail_abandoned_turns`]).
    process: Arc<str>,
    readers: Readers,
    /// Runs WAL checkpoints until the last clone of the store is dropped.
    _checkpointer: Option<Arc<checkpoint::Checkpointer>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

/// Where the database is, from a `sqlite:` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Location {
    /// The file; `None` for an in-memory database.
    file: Option<PathBuf>,
    /// `fsync` every commit.
    synchronous_full: bool,
}

impl Location {
    /// `sqlite://path`, `sqlite:path` or `sqlite::memory:`, with an optional
    /// `?synchronous=full|normal`.
    fn parse(url: &str) -> Result<Self, StoreError> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::Unavailable(format!("not a sqlite URL: {url}")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut synchronous_full = false;
        let mut memory = path.is_empty() || path == ":memory:";
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("synchronous", "full")) => synchronous_full = true,
                Some(("synchronous", "normal")) => synchronous_full = false,
                Some(("mode", "memory")) => memory = true,
                _ => {
                    return Err(StoreError::Unavailable(format!(
                        "unsupported DATABASE_URL parameter {pair:?} (supported: synchronous=full|normal)"
                    )));
                }
            }
        }
        Ok(Self {
            file: (!memory).then(|| PathBuf::from(path)),
            synchronous_full,
        })
    }
}

impl SqliteStore {
    /// Open (creating if missing) the database at `url` and migrate it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let location = Location::parse(url)?;
        let migrator = sqlx::migrate!("migrations/sqlite");
        let conn = match &location.file {
            Some(file) => {
                let options = SqliteConnectOptions::from_str("sqlite:")?
                    .filename(file)
                    .create_if_missing(true)
                    // Small pages: a turn's commits write about a third of
                    // the bytes (only new databases; see BENCHMARKS.md).
                    .page_size(1024)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10));
                let pool = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options)
                    .await?;
                migrator
                    .run(&pool)
                    .await
                    .map_err(|e| StoreError::Query(format!("migrating the SQLite schema: {e}")))?;
                pool.close().await;
                Connection::open(file)?
            }
            None => {
                let conn = Connection::open_in_memory()?;
                for migration in migrator.iter() {
                    conn.execute_batch(migration.sql.as_str())?;
                }
                conn
            }
        };
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        if location.file.is_some() {
            // Checkpoints run on their own thread (see `checkpoint`).
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            conn.pragma_update(None, "journal_size_limit", checkpoint::WAL_FILE_LIMIT)?;
        }
        conn.pragma_update(
            None,
            "synchronous",
            if location.synchronous_full {
                "FULL"
            } else {
                "NORMAL"
            },
        )?;
        let abandoned = writes::fail_abandoned_turns(&conn)?;
        if abandoned > 0 {
            tracing::warn!(
                turns = abandoned,
                "turns left unanswered by a stopped gateway are marked failed"
            );
        }
        let writer = Writer::new(conn, location.synchronous_full);
        let checkpointer = match &location.file {
            Some(file) => Some(Arc::new(checkpoint::Checkpointer::start(
                file,
                writer.clone(),
            )?)),
            None => None,
        };
        let readers = match location.file {
            Some(file) => Readers::pool(file),
            None => Readers::Writer(writer.clone()),
        };
        Ok(Self {
            writer,
            process: uuid::Uuid::now_v7().to_string().into(),
            readers,
            _checkpointer: checkpointer,
        })
    }
}

fn owned(scope: Scope<'_>) -> OwnedScope {
    match scope {
        Scope::Owner(owner) => OwnedScope::Owner(owner.clone()),
        Scope::Any => OwnedScope::Any,
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let at = to_millis(OffsetDateTime::now_utc());
        self.writer
            .write(move |conn| writes::probe(conn, at))
            .await?;
        self.readers.read(reads::ping).await
    }

    async fn begin_turn(&self, turn: &NewTurn<'_>) -> Result<Begin, StoreError> {
        let turn = OwnedTurn::new(turn, &self.process);
        self.writer
            .write(move |conn| writes::begin_turn(conn, &turn))
            .await
    }

    async fn finish_turn(&self, end: &TurnEnd<'_>) -> Result<(), StoreError> {
        let end = OwnedEnd::from(end);
        self.writer
            .write(move |conn| writes::finish_turn(conn, &end))
            .await
    }

    async fn list_conversations(
        &self,
        owner: &Identity,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let (owner, limit, before) = (owner.clone(), page.limit, page.before.map(str::to_owned));
        self.readers
            .read(move |conn| reads::list_conversations(conn, &owner, limit, before.as_deref()))
            .await
    }

    async fn search_conversations(
        &self,
        filter: ConversationFilter<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let search = Search {
            system_id: filter.system_id.map(str::to_owned),
            user_id: filter.user_id.map(str::to_owned),
            from: filter.from,
            to: filter.to,
            limit: filter.limit,
            before: filter.before.map(str::to_owned),
        };
        self.readers
            .read(move |conn| reads::search_conversations(conn, &search))
            .await
    }

    async fn get_conversation(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let (scope, id) = (owned(scope), id.to_owned());
        self.readers
            .read(move |conn| reads::get_conversation(conn, &scope, &id))
            .await
    }

    async fn list_messages(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
        let (scope, id) = (owned(scope), conversation_id.to_owned());
        let (limit, before) = (page.limit, page.before.map(str::to_owned));
        self.readers
            .read(move |conn| reads::list_messages(conn, &scope, &id, limit, before.as_deref()))
            .await
    }

    async fn rename_conversation(
        &self,
        owner: &Identity,
        id: &str,
        title: &str,
        at: OffsetDateTime,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let (owner, id, title, at) = (
            owner.clone(),
            id.to_owned(),
            title.to_owned(),
            to_millis(at),
        );
        self.writer
            .write(move |conn| writes::rename(conn, &owner, &id, &title, at))
            .await
    }

    async fn delete_conversation(&self, owner: &Identity, id: &str) -> Result<bool, StoreError> {
        let (owner, id) = (owner.clone(), id.to_owned());
        self.writer
            .write(move |conn| writes::delete(conn, &owner, &id))
            .await
    }

    async fn record_visit(&self, who: &Identity, at: OffsetDateTime) -> Result<(), StoreError> {
        let (who, at) = (who.clone(), to_millis(at));
        self.writer
            .write(move |conn| writes::record_visit(conn, &who, at))
            .await
    }

    async fn sync_targets(&self) -> Result<Vec<Identity>, StoreError> {
        self.readers.read(reads::sync_targets).await
    }

    async fn import_conversation(
        &self,
        owner: &Identity,
        conversation: &ImportedConversation,
        messages: &[ImportedTurn],
        at: OffsetDateTime,
    ) -> Result<ImportCounts, StoreError> {
        let (owner, conversation, messages) =
            (owner.clone(), conversation.clone(), messages.to_vec());
        let at = to_millis(at);
        self.writer
            .write(move |conn| {
                writes::import_conversation(conn, &owner, &conversation, &messages, at)
            })
            .await
    }

    async fn record_upstream_ids(&self, ids: &UpstreamIds<'_>) -> Result<(), StoreError> {
        let ids = turns::OwnedIds {
            conversation_id: ids.conversation_id.to_owned(),
            user_message_id: ids.user_message_id.to_owned(),
            upstream_conversation_id: ids.upstream_conversation_id.map(str::to_owned),
            upstream_message_id: ids.upstream_message_id.map(str::to_owned),
        };
        self.writer
            .write(move |conn| turns::record_upstream_ids(conn, &ids))
            .await
    }

    async fn upstream_claim(
        &self,
        conversation_id: &str,
        user_message_id: &str,
    ) -> Result<UpstreamClaim, StoreError> {
        let (conversation, message) = (conversation_id.to_owned(), user_message_id.to_owned());
        self.readers
            .read(move |conn| turns::upstream_claim(conn, &conversation, &message))
            .await
    }

    async fn set_feedback(
        &self,
        change: &FeedbackChange<'_>,
    ) -> Result<FeedbackOutcome, StoreError> {
        let change = feedback::OwnedChange {
            owner: change.owner.clone(),
            message_id: change.message_id.to_owned(),
            rating: change.rating,
            comment: change
                .comment
                .filter(|_| change.rating.is_some())
                .map(str::to_owned),
            at: to_millis(change.at),
        };
        self.writer
            .write(move |conn| feedback::set(conn, &change))
            .await
    }

    async fn conversation_feedback(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, FeedbackRecord)>, StoreError> {
        let id = conversation_id.to_owned();
        self.readers
            .read(move |conn| feedback::of_conversation(conn, &id))
            .await
    }

    async fn message_feedback(
        &self,
        message_id: &str,
    ) -> Result<Option<FeedbackRecord>, StoreError> {
        let id = message_id.to_owned();
        self.readers
            .read(move |conn| feedback::of_message(conn, &id))
            .await
    }

    async fn revoke_token_id(
        &self,
        jti: &str,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError> {
        let jti = jti.to_owned();
        self.writer
            .write(move |conn| limits::revoke_token_id(conn, &jti, now, keep_until))
            .await
    }

    async fn revoke_user_tokens(
        &self,
        who: &Identity,
        issued_before: i64,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError> {
        let who = who.clone();
        self.writer
            .write(move |conn| {
                limits::revoke_user_tokens(conn, &who, issued_before, now, keep_until)
            })
            .await
    }

    async fn revocations(&self, now: i64) -> Result<RevocationList, StoreError> {
        self.readers
            .read(move |conn| limits::revocations(conn, now))
            .await
    }

    async fn add_token_usage(
        &self,
        who: &Identity,
        day: time::Date,
        tokens: u64,
    ) -> Result<(), StoreError> {
        let (who, day) = (who.clone(), day.to_string());
        let tokens = i64::try_from(tokens).unwrap_or(i64::MAX);
        self.writer
            .write(move |conn| limits::add_token_usage(conn, &who, &day, tokens))
            .await
    }

    async fn token_usage(&self, who: &Identity, day: time::Date) -> Result<TokenUsage, StoreError> {
        let (who, day) = (who.clone(), day.to_string());
        self.readers
            .read(move |conn| limits::token_usage(conn, &who, &day))
            .await
    }

    async fn catalog_version(&self) -> Result<i64, StoreError> {
        self.readers.read(catalog::version).await
    }

    async fn load_catalog(&self) -> Result<CatalogRecords, StoreError> {
        self.readers.read(catalog::load).await
    }

    async fn put_system(
        &self,
        system: &SystemRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        let system = system.clone();
        self.writer
            .write(move |conn| catalog::put_system(conn, &system, mode))
            .await
    }

    async fn delete_system(&self, id: &str) -> Result<CatalogWrite, StoreError> {
        let id = id.to_owned();
        self.writer
            .write(move |conn| catalog::delete_system(conn, &id))
            .await
    }

    async fn put_agent(
        &self,
        agent: &AgentRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        let agent = agent.clone();
        self.writer
            .write(move |conn| catalog::put_agent(conn, &agent, mode))
            .await
    }

    async fn delete_agent(&self, system_id: &str, id: &str) -> Result<CatalogWrite, StoreError> {
        let (system_id, id) = (system_id.to_owned(), id.to_owned());
        self.writer
            .write(move |conn| catalog::delete_agent(conn, &system_id, &id))
            .await
    }

    async fn console_conversations(
        &self,
        filter: &ConsoleFilter,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConsoleConversation>, StoreError> {
        let (filter, limit, before) = (filter.clone(), page.limit, page.before.map(str::to_owned));
        self.readers
            .read(move |conn| console::conversations(conn, &filter, limit, before.as_deref(), None))
            .await
    }

    async fn console_conversation(
        &self,
        filter: &ConsoleFilter,
        id: &str,
    ) -> Result<Option<ConsoleConversation>, StoreError> {
        let (filter, id) = (filter.clone(), id.to_owned());
        self.readers
            .read(move |conn| console::conversations(conn, &filter, 1, None, Some(&id)))
            .await
            .map(|found| found.into_iter().next())
    }

    async fn console_count(&self, filter: &ConsoleFilter) -> Result<u64, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |conn| console::count(conn, &filter))
            .await
    }

    async fn console_messages(
        &self,
        conversation_ids: &[String],
    ) -> Result<Vec<ConsoleMessage>, StoreError> {
        let ids = conversation_ids.to_vec();
        self.readers
            .read(move |conn| console::messages(conn, &ids))
            .await
    }

    async fn daily_usage(&self, filter: &ConsoleFilter) -> Result<Vec<DailyUsage>, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |conn| console::daily_usage(conn, &filter))
            .await
    }

    async fn purge_inactive(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<Option<super::housekeeping::Purged>, StoreError> {
        // SQLite serves one process, so no other purge can run.
        let cutoff = to_millis(cutoff);
        let replica = self.process.clone();
        let now = to_millis(OffsetDateTime::now_utc());
        self.writer
            .write(move |conn| housekeeping::purge_inactive(conn, cutoff, &replica, now))
            .await
            .map(Some)
    }

    async fn retention_runs(
        &self,
        limit: u32,
    ) -> Result<Vec<super::housekeeping::RetentionRun>, StoreError> {
        self.readers
            .read(move |conn| housekeeping::retention_runs(conn, limit))
            .await
    }

    async fn sync_rounds(
        &self,
        limit: u32,
    ) -> Result<Vec<super::housekeeping::SyncRoundRecord>, StoreError> {
        self.readers
            .read(move |conn| housekeeping::sync_rounds(conn, limit))
            .await
    }

    async fn claim_sync_round(
        &self,
        round: i64,
    ) -> Result<Option<Box<dyn super::SyncLease>>, StoreError> {
        let replica = self.process.clone();
        let now = to_millis(OffsetDateTime::now_utc());
        let claimed = self
            .writer
            .write(move |conn| housekeeping::claim(conn, round, &replica, now))
            .await?;
        Ok(claimed.then(|| {
            Box::new(housekeeping::LiteLease {
                writer: self.writer.clone(),
                round,
            }) as Box<dyn super::SyncLease>
        }))
    }

    async fn save_partial(
        &self,
        partial: &super::live::PartialAnswer<'_>,
    ) -> Result<(), StoreError> {
        let partial = live::OwnedPartial {
            conversation_id: partial.conversation_id.to_owned(),
            message_id: partial.message_id.to_owned(),
            user_message_id: partial.user_message_id.to_owned(),
            content: partial.content.to_owned(),
            at: to_millis(partial.at),
        };
        self.writer
            .write(move |conn| live::save(conn, &partial))
            .await
    }

    async fn drop_partial(&self, message_id: &str) -> Result<(), StoreError> {
        let id = message_id.to_owned();
        self.writer
            .write(move |conn| live::drop_partial(conn, &id))
            .await
    }

    async fn answer_progress(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        message_id: &str,
    ) -> Result<Option<super::live::AnswerProgress>, StoreError> {
        let scope = owned(scope);
        let (conversation, message) = (conversation_id.to_owned(), message_id.to_owned());
        self.readers
            .read(move |conn| live::progress(conn, &scope, &conversation, &message))
            .await
    }

    async fn claim_idempotency_key(
        &self,
        claim: &crate::store::idempotency::KeyClaim<'_>,
    ) -> Result<crate::store::idempotency::Claim, StoreError> {
        let claim = idempotency::OwnedClaim {
            scope: claim.scope.to_owned(),
            key: claim.key.to_owned(),
            body_hash: claim.body_hash.to_owned(),
            at: to_millis(claim.at),
            forget_before: to_millis(claim.forget_before),
        };
        let me = self.process.clone();
        self.writer
            .write(move |conn| idempotency::claim(conn, &claim, &me))
            .await
    }

    async fn finish_idempotency_key(
        &self,
        key: &crate::store::idempotency::KeyRef<'_>,
        outcome: &crate::store::idempotency::KeyOutcome<'_>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (scope, key) = (key.scope.to_owned(), key.key.to_owned());
        let outcome = idempotency::OwnedOutcome::from(outcome);
        let (at, me) = (to_millis(at), self.process.clone());
        self.writer
            .write(move |conn| idempotency::finish(conn, &scope, &key, &outcome, at, &me))
            .await
    }

    async fn release_idempotency_key(
        &self,
        key: &crate::store::idempotency::KeyRef<'_>,
    ) -> Result<(), StoreError> {
        let (scope, key) = (key.scope.to_owned(), key.key.to_owned());
        let me = self.process.clone();
        self.writer
            .write(move |conn| idempotency::release(conn, &scope, &key, &me))
            .await
    }
}

#[cfg(test)]
impl SqliteStore {
    /// Make every later write fail as on a read-only database.
    pub(crate) async fn refuse_writes(&self) {
        self.writer
            .write(|conn| Ok(conn.pragma_update(None, "query_only", true)?))
            .await
            .expect("query_only is set");
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let unavailable = matches!(
            e.sqlite_error_code(),
            Some(
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::CannotOpen
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::ReadOnly
            )
        );
        if unavailable {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Query(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests;
