//! Message feedback on SQLite: the statements behind
//! [`FeedbackStore::set_feedback`] and its reads.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::identity::Identity;
use crate::store::feedback::{
    FeedbackChange, FeedbackOutcome, FeedbackRecord, FeedbackSaved, FeedbackStore, rating_from_str,
};
use crate::store::{StoreError, from_millis, role_from_str, to_millis};

/// A feedback change, owned (writes run on another thread).
#[derive(Debug, Clone)]
pub(super) struct OwnedChange {
    pub(super) owner: Identity,
    pub(super) message_id: String,
    pub(super) rating: Option<sdk::Rating>,
    pub(super) comment: Option<String>,
    pub(super) at: i64,
}

fn record_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<FeedbackRecord> {
    let rating: String = row.get(first)?;
    Ok(FeedbackRecord {
        rating: rating_from_str(&rating),
        comment: row.get(first + 1)?,
        updated_at: from_millis(row.get(first + 2)?),
    })
}

pub(super) fn set(conn: &Connection, c: &OwnedChange) -> Result<FeedbackOutcome, StoreError> {
    let found = conn
        .prepare_cached(
            "SELECT m.role, m.upstream_message_id, c.agent
             FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.id = ?1 AND c.system_id = ?2 AND c.user_id = ?3",
        )?
        .query_row(
            params![c.message_id, c.owner.system.as_str(), c.owner.user.as_str()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<String>>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((role, upstream_message_id, agent)) = found else {
        return Ok(FeedbackOutcome::MessageNotFound);
    };
    if role_from_str(&role) != sdk::Role::Assistant {
        return Ok(FeedbackOutcome::NotAnAnswer);
    }
    let feedback = match c.rating {
        None => {
            conn.prepare_cached("DELETE FROM message_feedback WHERE message_id = ?1")?
                .execute(params![c.message_id])?;
            None
        }
        Some(rating) => Some(
            conn.prepare_cached(
                "INSERT INTO message_feedback (message_id, rating, comment, updated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (message_id) DO UPDATE SET
                     rating = excluded.rating,
                     comment = excluded.comment,
                     updated_at = excluded.updated_at
                 RETURNING rating, comment, updated_at",
            )?
            .query_row(
                params![c.message_id, rating.as_str(), c.comment, c.at],
                |row| record_from_row(row, 0),
            )?,
        ),
    };
    Ok(FeedbackOutcome::Saved(FeedbackSaved {
        feedback,
        upstream_message_id,
        agent,
    }))
}

pub(super) fn of_conversation(
    conn: &Connection,
    conversation_id: &str,
) -> Result<Vec<(String, FeedbackRecord)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT f.message_id, f.rating, f.comment, f.updated_at
             FROM message_feedback f JOIN messages m ON m.id = f.message_id
             WHERE m.conversation_id = ?1",
        )?
        .query_map(params![conversation_id], |row| {
            Ok((row.get::<_, String>(0)?, record_from_row(row, 1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn of_message(
    conn: &Connection,
    message_id: &str,
) -> Result<Option<FeedbackRecord>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT rating, comment, updated_at FROM message_feedback WHERE message_id = ?1",
        )?
        .query_row(params![message_id], |row| record_from_row(row, 0))
        .optional()?)
}

#[async_trait]
impl FeedbackStore for SqliteStore {
    async fn set_feedback(
        &self,
        change: &FeedbackChange<'_>,
    ) -> Result<FeedbackOutcome, StoreError> {
        let change = OwnedChange {
            owner: change.owner.clone(),
            message_id: change.message_id.to_owned(),
            rating: change.rating,
            comment: change
                .comment
                .filter(|_| change.rating.is_some())
                .map(str::to_owned),
            at: to_millis(change.at),
        };
        self.writer.write(move |conn| set(conn, &change)).await
    }

    async fn conversation_feedback(
        &self,
        conversation_id: &str,
    ) -> Result<Vec<(String, FeedbackRecord)>, StoreError> {
        let id = conversation_id.to_owned();
        self.readers
            .read(move |conn| of_conversation(conn, &id))
            .await
    }

    async fn message_feedback(
        &self,
        message_id: &str,
    ) -> Result<Option<FeedbackRecord>, StoreError> {
        let id = message_id.to_owned();
        self.readers.read(move |conn| of_message(conn, &id)).await
    }
}
