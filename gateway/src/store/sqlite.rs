//! [`Store`] on SQLite: the zero-set-up default for one gateway process.
//!
//! The database runs in WAL mode with `synchronous=NORMAL`: readers never
//! block the writer, and a commit costs no `fsync` (a power cut can lose the
//! last moments of commits, never corrupt the file). Writes go through a
//! single connection, so they queue in the pool instead of spinning on
//! SQLite's lock; reads use a small pool of read-only connections.
//!
//! SQLite is for one replica. Several replicas must share PostgreSQL.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sdk::MessageStatus;
use sqlx::FromRow;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;

use super::{
    Begin, ConversationFilter, ConversationRecord, ImportCounts, MessageRecord, NewTurn,
    PageRequest, Scope, Store, StoreError, TurnEnd, TurnStart, from_millis, role_from_str,
    status_from_str, to_millis,
};
use crate::identity::Identity;
use crate::upstream::{UpstreamConversation, UpstreamMessage};

/// SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

#[derive(FromRow)]
struct ConversationRow {
    id: String,
    system_id: String,
    user_id: String,
    upstream_conversation_id: Option<String>,
    title: String,
    created_at: i64,
    updated_at: i64,
}

impl From<ConversationRow> for ConversationRecord {
    fn from(r: ConversationRow) -> Self {
        ConversationRecord {
            id: r.id,
            system_id: r.system_id,
            user_id: r.user_id,
            upstream_conversation_id: r.upstream_conversation_id,
            title: r.title,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        }
    }
}

#[derive(FromRow)]
struct MessageRow {
    id: String,
    conversation_id: String,
    role: String,
    content: String,
    status: String,
    upstream_message_id: Option<String>,
    created_at: i64,
}

impl From<MessageRow> for MessageRecord {
    fn from(r: MessageRow) -> Self {
        MessageRecord {
            id: r.id,
            conversation_id: r.conversation_id,
            role: role_from_str(&r.role),
            content: r.content,
            status: status_from_str(&r.status),
            upstream_message_id: r.upstream_message_id,
            created_at: from_millis(r.created_at),
        }
    }
}

impl SqliteStore {
    /// Open (creating if missing) the database at `url` and migrate it.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Query(format!("migrating the SQLite schema: {e}")))?;
        // An in-memory database exists once per connection: share the writer.
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.read_only(true))
                .await?
        };
        Ok(Self { writer, reader })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn begin_turn(&self, turn: &NewTurn<'_>) -> Result<Begin, StoreError> {
        let at = to_millis(turn.at);
        let system = turn.owner.system.as_str();
        let user = turn.owner.user.as_str();
        let mut tx = self.writer.begin().await?;
        let start = match turn.conversation_id {
            Some(id) => {
                let row: Option<(Option<String>,)> = sqlx::query_as(
                    "SELECT upstream_conversation_id FROM conversations
                     WHERE id = ?1 AND system_id = ?2 AND user_id = ?3",
                )
                .bind(id)
                .bind(system)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((upstream,)) = row else {
                    return Ok(Begin::ConversationNotFound);
                };
                sqlx::query("UPDATE conversations SET updated_at = ?1 WHERE id = ?2")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                TurnStart {
                    conversation_id: id.to_owned(),
                    upstream_conversation_id: upstream,
                    created: false,
                    user_message_id: turn.message_id.to_owned(),
                }
            }
            None => {
                sqlx::query(
                    "INSERT INTO conversations (id, system_id, user_id, title, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                )
                .bind(turn.new_conversation_id)
                .bind(system)
                .bind(user)
                .bind(turn.title)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                TurnStart {
                    conversation_id: turn.new_conversation_id.to_owned(),
                    upstream_conversation_id: None,
                    created: true,
                    user_message_id: turn.message_id.to_owned(),
                }
            }
        };
        let mut start = start;
        let retried = match turn.retry_of {
            None => false,
            Some(retry) => {
                let status: Option<(String,)> = sqlx::query_as(
                    "SELECT status FROM messages
                     WHERE id = ?1 AND conversation_id = ?2 AND role = 'user'",
                )
                .bind(retry)
                .bind(&start.conversation_id)
                .fetch_optional(&mut *tx)
                .await?;
                match status {
                    None => return Ok(Begin::RetryTargetNotFound),
                    Some((status,)) if status == MessageStatus::Failed.as_str() => {
                        sqlx::query(
                            "UPDATE messages SET status = 'complete', content = ?1, updated_at = ?2
                             WHERE id = ?3",
                        )
                        .bind(turn.content)
                        .bind(at)
                        .bind(retry)
                        .execute(&mut *tx)
                        .await?;
                        start.user_message_id = retry.to_owned();
                        true
                    }
                    // It was answered: ask again, as a new message.
                    Some(_) => false,
                }
            }
        };
        if !retried {
            sqlx::query(
                "INSERT INTO messages (id, conversation_id, role, content, status, created_at, updated_at)
                 VALUES (?1, ?2, 'user', ?3, 'complete', ?4, ?4)",
            )
            .bind(turn.message_id)
            .bind(&start.conversation_id)
            .bind(turn.content)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Begin::Started(start))
    }

    async fn finish_turn(&self, end: &TurnEnd<'_>) -> Result<(), StoreError> {
        // A conversation deleted while its turn ran stays deleted: the
        // statements below then touch nothing.
        let at = to_millis(end.at);
        let mut tx = self.writer.begin().await?;
        // Upstream ids are recorded unless a concurrent sync already holds
        // them for another row: then this turn keeps its rows without them,
        // rather than failing.
        sqlx::query(
            "UPDATE messages SET status = ?1, updated_at = ?2,
                 upstream_message_id = CASE WHEN ?3 IS NULL OR EXISTS (
                     SELECT 1 FROM messages m WHERE m.conversation_id = ?4
                         AND m.upstream_message_id = ?3 AND m.role = 'user')
                     THEN upstream_message_id ELSE ?3 END
             WHERE id = ?5",
        )
        .bind(end.user_status.as_str())
        .bind(at)
        .bind(end.upstream_message_id)
        .bind(end.conversation_id)
        .bind(end.user_message_id)
        .execute(&mut *tx)
        .await?;
        if let Some(reply) = end.reply {
            sqlx::query(
                "INSERT INTO messages
                     (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at)
                 SELECT ?1, ?2, 'assistant', ?3, ?4,
                     CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = ?2
                         AND m.upstream_message_id = ?5 AND m.role = 'assistant') THEN NULL ELSE ?5 END,
                     ?6, ?6
                 WHERE EXISTS (SELECT 1 FROM conversations WHERE id = ?2)",
            )
            .bind(reply.message_id)
            .bind(end.conversation_id)
            .bind(reply.content)
            .bind(reply.status.as_str())
            .bind(end.upstream_message_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE conversations SET updated_at = ?1 WHERE id = ?2")
            .bind(at)
            .bind(end.conversation_id)
            .execute(&mut *tx)
            .await?;
        if let Some(upstream) = end.upstream_conversation_id {
            sqlx::query(
                "UPDATE conversations SET upstream_conversation_id = ?1
                 WHERE id = ?2 AND upstream_conversation_id IS NULL
                   AND NOT EXISTS (SELECT 1 FROM conversations c
                       WHERE c.upstream_conversation_id = ?1
                         AND c.system_id = conversations.system_id
                         AND c.user_id = conversations.user_id)",
            )
            .bind(upstream)
            .bind(end.conversation_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn list_conversations(
        &self,
        owner: &Identity,
        page: PageRequest<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let rows: Vec<ConversationRow> = match page.before {
            None => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE system_id = ?1 AND user_id = ?2
                     ORDER BY updated_at DESC, id DESC LIMIT ?3",
                )
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .bind(page.limit)
                .fetch_all(&self.reader)
                .await?
            }
            Some(before) => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE system_id = ?1 AND user_id = ?2
                       AND (updated_at, id) < (SELECT updated_at, id FROM conversations
                                               WHERE id = ?3 AND system_id = ?1 AND user_id = ?2)
                     ORDER BY updated_at DESC, id DESC LIMIT ?4",
                )
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .bind(before)
                .bind(page.limit)
                .fetch_all(&self.reader)
                .await?
            }
        };
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn search_conversations(
        &self,
        filter: ConversationFilter<'_>,
    ) -> Result<Vec<ConversationRecord>, StoreError> {
        let rows: Vec<ConversationRow> = sqlx::query_as(
            "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
             FROM conversations
             WHERE (?1 IS NULL OR system_id = ?1)
               AND (?2 IS NULL OR user_id = ?2)
               AND (?3 IS NULL OR created_at >= ?3)
               AND (?4 IS NULL OR created_at < ?4)
               AND (?5 IS NULL OR (created_at, id) < (SELECT created_at, id FROM conversations WHERE id = ?5))
             ORDER BY created_at DESC, id DESC LIMIT ?6",
        )
        .bind(filter.system_id)
        .bind(filter.user_id)
        .bind(filter.from.map(to_millis))
        .bind(filter.to.map(to_millis))
        .bind(filter.before)
        .bind(filter.limit)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn get_conversation(
        &self,
        scope: Scope<'_>,
        id: &str,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let row: Option<ConversationRow> = match scope {
            Scope::Owner(owner) => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE id = ?1 AND system_id = ?2 AND user_id = ?3",
                )
                .bind(id)
                .bind(owner.system.as_str())
                .bind(owner.user.as_str())
                .fetch_optional(&self.reader)
                .await?
            }
            Scope::Any => {
                sqlx::query_as(
                    "SELECT id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at
                     FROM conversations WHERE id = ?1",
                )
                .bind(id)
                .fetch_optional(&self.reader)
                .await?
            }
        };
        Ok(row.map(Into::into))
    }

    async fn list_messages(
        &self,
        scope: Scope<'_>,
        conversation_id: &str,
        page: PageRequest<'_>,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
        if self
            .get_conversation(scope, conversation_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        let rows: Vec<MessageRow> = match page.before {
            None => {
                sqlx::query_as(
                    "SELECT * FROM (
                         SELECT seq, id, conversation_id, role, content, status, upstream_message_id, created_at
                         FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT ?2
                     ) ORDER BY seq ASC",
                )
                .bind(conversation_id)
                .bind(page.limit)
                .fetch_all(&self.reader)
                .await?
            }
            Some(before) => {
                sqlx::query_as(
                    "SELECT * FROM (
                         SELECT seq, id, conversation_id, role, content, status, upstream_message_id, created_at
                         FROM messages WHERE conversation_id = ?1
                           AND seq < (SELECT seq FROM messages WHERE id = ?2 AND conversation_id = ?1)
                         ORDER BY seq DESC LIMIT ?3
                     ) ORDER BY seq ASC",
                )
                .bind(conversation_id)
                .bind(before)
                .bind(page.limit)
                .fetch_all(&self.reader)
                .await?
            }
        };
        Ok(Some(rows.into_iter().map(Into::into).collect()))
    }

    async fn rename_conversation(
        &self,
        owner: &Identity,
        id: &str,
        title: &str,
        at: OffsetDateTime,
    ) -> Result<Option<ConversationRecord>, StoreError> {
        let row: Option<ConversationRow> = sqlx::query_as(
            "UPDATE conversations SET title = ?1, updated_at = ?2
             WHERE id = ?3 AND system_id = ?4 AND user_id = ?5
             RETURNING id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at",
        )
        .bind(title)
        .bind(to_millis(at))
        .bind(id)
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn delete_conversation(&self, owner: &Identity, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM conversations WHERE id = ?1 AND system_id = ?2 AND user_id = ?3",
        )
        .bind(id)
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_visit(&self, who: &Identity, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO visitors (system_id, user_id, first_seen_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT (system_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        )
        .bind(who.system.as_str())
        .bind(who.user.as_str())
        .bind(to_millis(at))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn sync_targets(&self) -> Result<Vec<Identity>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT system_id, user_id FROM visitors
             UNION SELECT system_id, user_id FROM conversations
             ORDER BY 1, 2",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, u)| Identity::parse(&s, &u).ok())
            .collect())
    }

    async fn import_conversation(
        &self,
        owner: &Identity,
        conversation: &UpstreamConversation,
        messages: &[UpstreamMessage],
        at: OffsetDateTime,
    ) -> Result<ImportCounts, StoreError> {
        let system = owner.system.as_str();
        let user = owner.user.as_str();
        let created_at = to_millis(conversation.created_at.unwrap_or(at));
        let mut counts = ImportCounts::default();
        let mut tx = self.writer.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO conversations
                 (id, system_id, user_id, upstream_conversation_id, title, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
             ON CONFLICT (system_id, user_id, upstream_conversation_id)
                 WHERE upstream_conversation_id IS NOT NULL DO NOTHING",
        )
        .bind(new_id())
        .bind(system)
        .bind(user)
        .bind(&conversation.id)
        .bind(&conversation.name)
        .bind(created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let (conversation_id, title): (String, String) = sqlx::query_as(
            "SELECT id, title FROM conversations
             WHERE system_id = ?1 AND user_id = ?2 AND upstream_conversation_id = ?3",
        )
        .bind(system)
        .bind(user)
        .bind(&conversation.id)
        .fetch_one(&mut *tx)
        .await?;
        if inserted > 0 {
            counts.conversations = 1;
        } else if !conversation.name.is_empty() && conversation.name != title {
            sqlx::query("UPDATE conversations SET title = ?1 WHERE id = ?2")
                .bind(&conversation.name)
                .bind(&conversation_id)
                .execute(&mut *tx)
                .await?;
            counts.conversations = 1;
        }
        let mut last = created_at;
        for turn in messages {
            let when = turn.created_at.map(to_millis).unwrap_or(last);
            last = last.max(when);
            for (role, text) in [("user", &turn.query), ("assistant", &turn.answer)] {
                let Some(text) = text else { continue };
                let added = sqlx::query(
                    "INSERT INTO messages
                         (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
                     ON CONFLICT DO NOTHING",
                )
                .bind(new_id())
                .bind(&conversation_id)
                .bind(role)
                .bind(text)
                .bind(MessageStatus::Complete.as_str())
                .bind(&turn.id)
                .bind(when)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                counts.messages += added;
            }
        }
        if counts.messages > 0 {
            sqlx::query("UPDATE conversations SET updated_at = MAX(updated_at, ?1) WHERE id = ?2")
                .bind(last)
                .bind(&conversation_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(counts)
    }
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn temp_store() -> (SqliteStore, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("tzc-store-{}.db", uuid::Uuid::new_v4()));
        let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        (store, path)
    }

    #[tokio::test]
    async fn contract_on_a_file() {
        let (store, path) = temp_store().await;
        crate::store::contract::run(&store).await;
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_turns_lose_nothing() {
        let (store, _path) = temp_store().await;
        crate::store::contract::concurrent_turns(std::sync::Arc::new(store)).await;
    }

    #[tokio::test]
    async fn contract_in_memory() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        crate::store::contract::run(&store).await;
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_migrations_are_idempotent() {
        let (store, path) = temp_store().await;
        let owner = Identity::parse("s", "u").unwrap();
        store
            .record_visit(&owner, OffsetDateTime::now_utc())
            .await
            .unwrap();
        drop(store);
        let again = SqliteStore::open(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        assert_eq!(again.sync_targets().await.unwrap(), vec![owner]);
    }
}
