//! Statements of turns sharing one upstream conversation (see
//! `store/turns.rs`), and the matching of imported upstream turns to the
//! turns the gateway stored itself.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::writes::{self, OwnedEnd, OwnedTurn};
use crate::identity::Identity;
use crate::store::{
    Begin, ConversationRoute, NewTurn, StoreError, TurnEnd, TurnStore, UpstreamClaim, UpstreamIds,
};

/// [`crate::store::UpstreamIds`], owned, to travel to the writer thread.
pub(super) struct OwnedIds {
    pub(super) conversation_id: String,
    pub(super) user_message_id: String,
    pub(super) upstream_conversation_id: Option<String>,
    pub(super) upstream_message_id: Option<String>,
}

pub(super) fn record_upstream_ids(conn: &Connection, ids: &OwnedIds) -> Result<(), StoreError> {
    if let Some(upstream) = &ids.upstream_message_id {
        conn.prepare_cached(
            "UPDATE messages SET upstream_message_id = ?1
             WHERE id = ?2 AND upstream_message_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = ?3
                   AND m.upstream_message_id = ?1 AND m.role = 'user')",
        )?
        .execute(params![upstream, ids.user_message_id, ids.conversation_id])?;
    }
    if let Some(upstream) = &ids.upstream_conversation_id {
        conn.prepare_cached(
            "UPDATE conversations SET upstream_conversation_id = ?1
             WHERE id = ?2 AND upstream_conversation_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM conversations c
                   WHERE c.upstream_conversation_id = ?1
                     AND c.system_id = conversations.system_id
                     AND c.user_id = conversations.user_id)",
        )?
        .execute(params![upstream, ids.conversation_id])?;
    }
    Ok(())
}

pub(super) fn upstream_claim(
    conn: &Connection,
    conversation_id: &str,
    user_message_id: &str,
) -> Result<UpstreamClaim, StoreError> {
    let found: Option<(Option<String>, bool)> = conn
        .prepare_cached(
            "SELECT c.upstream_conversation_id, EXISTS (
                 SELECT 1 FROM messages m, messages mine
                 WHERE mine.id = ?2 AND m.conversation_id = c.id AND m.role = 'user'
                   AND m.open_by IS NOT NULL AND m.seq < mine.seq)
             FROM conversations c WHERE c.id = ?1",
        )?
        .query_row(params![conversation_id, user_message_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    Ok(match found {
        Some((Some(upstream), _)) => UpstreamClaim::Known(upstream),
        Some((None, true)) => UpstreamClaim::Pending,
        Some((None, false)) | None => UpstreamClaim::Free,
    })
}

fn conversation_route(
    conn: &Connection,
    system: &str,
    user: &str,
    conversation_id: &str,
) -> Result<Option<ConversationRoute>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT agent, upstream_conversation_id FROM conversations
             WHERE id = ?1 AND system_id = ?2 AND user_id = ?3",
        )?
        .query_row(params![conversation_id, system, user], |row| {
            Ok(ConversationRoute {
                agent: row.get(0)?,
                upstream_conversation_id: row.get(1)?,
            })
        })
        .optional()?)
}

#[async_trait]
impl TurnStore for SqliteStore {
    async fn conversation_route(
        &self,
        owner: &Identity,
        conversation_id: &str,
    ) -> Result<Option<ConversationRoute>, StoreError> {
        let (system, user) = (
            owner.system.as_str().to_owned(),
            owner.user.as_str().to_owned(),
        );
        let conversation = conversation_id.to_owned();
        self.readers
            .read_point(move |conn| conversation_route(conn, &system, &user, &conversation))
            .await
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

    async fn record_upstream_ids(&self, ids: &UpstreamIds<'_>) -> Result<(), StoreError> {
        let ids = OwnedIds {
            conversation_id: ids.conversation_id.to_owned(),
            user_message_id: ids.user_message_id.to_owned(),
            upstream_conversation_id: ids.upstream_conversation_id.map(str::to_owned),
            upstream_message_id: ids.upstream_message_id.map(str::to_owned),
        };
        self.writer
            .write(move |conn| record_upstream_ids(conn, &ids))
            .await
    }

    async fn upstream_claim(
        &self,
        conversation_id: &str,
        user_message_id: &str,
    ) -> Result<UpstreamClaim, StoreError> {
        let (conversation, message) = (conversation_id.to_owned(), user_message_id.to_owned());
        self.readers
            .read(move |conn| upstream_claim(conn, &conversation, &message))
            .await
    }
}
