//! [`Store`] on SQLite: the zero-set-up default for one gateway process.
//!
//! - **Writes** use one connection with group commit (`writer.rs`): when
//!   quiet a write runs at once on the caller's thread; under load many turns
//!   share one transaction and one commit; every caller is answered only
//!   after its own rows are committed.
//! - **Reads** use a small pool of read-only connections on blocking threads
//!   (`readers.rs`); in WAL mode they never wait for the writer.
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
mod conversations;
mod feedback;
mod housekeeping;
mod idempotency;
mod live;
mod operators;
pub(crate) mod probe;
mod readers;
mod reads;
mod revocation;
mod search_index;
mod sync;
mod turns;
mod usage;
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
use self::reads::OwnedScope;
use self::writer::Writer;
use super::{Scope, Store, StoreError, to_millis};

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
    /// Feeds the search index until the last clone of the store is dropped.
    _search_index: Option<Arc<search_index::Indexer>>,
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
        Self::open_with(url, true).await
    }

    /// [`Self::open`], without the background indexer when `index_search`
    /// is false: the writer then runs only the jobs a test gives it (search
    /// still finds everything, from the queue).
    async fn open_with(url: &str, index_search: bool) -> Result<Self, StoreError> {
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
        let search_index = if index_search {
            Some(Arc::new(search_index::Indexer::start(
                writer.clone(),
                tokio::runtime::Handle::current(),
            )?))
        } else {
            None
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
            _search_index: search_index,
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
