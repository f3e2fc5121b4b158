//! The read statements, run on a reading connection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::identity::Identity;
use crate::store::{
    ConversationRecord, MessageRecord, StoreError, from_millis, role_from_str, status_from_str,
    to_millis,
};

/// A conversation from a row of `conversation_columns!()`.
pub(super) fn conversation_from_row(row: &Row<'_>) -> rusqlite::Result<ConversationRecord> {
    Ok(ConversationRecord {
        id: row.get(0)?,
        system_id: row.get(1)?,
        user_id: row.get(2)?,
        upstream_conversation_id: row.get(3)?,
        title: row.get(4)?,
        created_at: from_millis(row.get(5)?),
        updated_at: from_millis(row.get(6)?),
    })
}

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    let role: String = row.get(2)?;
    let status: String = row.get(4)?;
    Ok(MessageRecord {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        role: role_from_str(&role),
        content: row.get(3)?,
        status: status_from_str(&status),
        upstream_message_id: row.get(5)?,
        created_at: from_millis(row.get(6)?),
    })
}

/// Who may see what, owned (reads run on another thread).
#[derive(Debug, Clone)]
pub(super) enum OwnedScope {
    Owner(Identity),
    Any,
}

pub(super) fn ping(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
    Ok(())
}

pub(super) fn list_conversations(
    conn: &Connection,
    owner: &Identity,
    limit: u32,
    before: Option<&str>,
) -> Result<Vec<ConversationRecord>, StoreError> {
    let (system, user) = (owner.system.as_str(), owner.user.as_str());
    let rows = match before {
        None => conn
            .prepare_cached(concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations WHERE system_id = ?1 AND user_id = ?2
                  ORDER BY updated_at DESC, id DESC LIMIT ?3"
            ))?
            .query_map(params![system, user, limit], conversation_from_row)?
            .collect::<Result<Vec<_>, _>>()?,
        Some(before) => conn
            .prepare_cached(concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations WHERE system_id = ?1 AND user_id = ?2
                    AND (updated_at, id) < (SELECT updated_at, id FROM conversations
                                            WHERE id = ?3 AND system_id = ?1 AND user_id = ?2)
                  ORDER BY updated_at DESC, id DESC LIMIT ?4"
            ))?
            .query_map(params![system, user, before, limit], conversation_from_row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(rows)
}

/// Filters of the operator search, owned.
#[derive(Debug, Clone, Default)]
pub(super) struct Search {
    pub(super) system_id: Option<String>,
    pub(super) user_id: Option<String>,
    pub(super) from: Option<time::OffsetDateTime>,
    pub(super) to: Option<time::OffsetDateTime>,
    pub(super) limit: u32,
    pub(super) before: Option<String>,
}

pub(super) fn search_conversations(
    conn: &Connection,
    s: &Search,
) -> Result<Vec<ConversationRecord>, StoreError> {
    Ok(conn
        .prepare_cached(concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations
              WHERE (?1 IS NULL OR system_id = ?1)
                AND (?2 IS NULL OR user_id = ?2)
                AND (?3 IS NULL OR created_at >= ?3)
                AND (?4 IS NULL OR created_at < ?4)
                AND (?5 IS NULL OR (created_at, id) < (SELECT created_at, id FROM conversations WHERE id = ?5))
              ORDER BY created_at DESC, id DESC LIMIT ?6"
        ))?
        .query_map(
            params![
                s.system_id,
                s.user_id,
                s.from.map(to_millis),
                s.to.map(to_millis),
                s.before,
                s.limit
            ],
            conversation_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn get_conversation(
    conn: &Connection,
    scope: &OwnedScope,
    id: &str,
) -> Result<Option<ConversationRecord>, StoreError> {
    Ok(match scope {
        OwnedScope::Owner(owner) => conn
            .prepare_cached(concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations WHERE id = ?1 AND system_id = ?2 AND user_id = ?3"
            ))?
            .query_row(
                params![id, owner.system.as_str(), owner.user.as_str()],
                conversation_from_row,
            )
            .optional()?,
        OwnedScope::Any => conn
            .prepare_cached(concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations WHERE id = ?1"
            ))?
            .query_row(params![id], conversation_from_row)
            .optional()?,
    })
}

pub(super) fn list_messages(
    conn: &Connection,
    scope: &OwnedScope,
    conversation_id: &str,
    limit: u32,
    before: Option<&str>,
) -> Result<Option<Vec<MessageRecord>>, StoreError> {
    if get_conversation(conn, scope, conversation_id)?.is_none() {
        return Ok(None);
    }
    let rows = match before {
        None => conn
            .prepare_cached(
                "SELECT * FROM (
                     SELECT id, conversation_id, role, content, status, upstream_message_id, created_at, seq
                     FROM messages WHERE conversation_id = ?1 ORDER BY seq DESC LIMIT ?2
                 ) ORDER BY seq ASC",
            )?
            .query_map(params![conversation_id, limit], message_from_row)?
            .collect::<Result<Vec<_>, _>>()?,
        Some(before) => conn
            .prepare_cached(
                "SELECT * FROM (
                     SELECT id, conversation_id, role, content, status, upstream_message_id, created_at, seq
                     FROM messages WHERE conversation_id = ?1
                       AND seq < (SELECT seq FROM messages WHERE id = ?2 AND conversation_id = ?1)
                     ORDER BY seq DESC LIMIT ?3
                 ) ORDER BY seq ASC",
            )?
            .query_map(params![conversation_id, before, limit], message_from_row)?
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(Some(rows))
}

pub(super) fn sync_targets(conn: &Connection) -> Result<Vec<Identity>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT system_id, user_id FROM visitors
             UNION SELECT system_id, user_id FROM conversations
             ORDER BY 1, 2",
        )?
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, u)| Identity::parse(&s, &u).ok())
        .collect())
}
