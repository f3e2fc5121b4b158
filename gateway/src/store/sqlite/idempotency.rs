//! Idempotency keys in SQLite (the records are in
//! `crate::store::idempotency`). Every statement runs on the one writer
//! connection, so a claim's look and write cannot interleave with another's.
//! One process serves a database: a running key held by any other process
//! was left by one that is gone.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::store::idempotency::{
    Claim, IdempotencyStore, KeptAnswer, KeptResult, KeyClaim, KeyOutcome, KeyRef,
};
use crate::store::{StoreError, from_millis, to_millis};

/// A claim, owned for the writer thread.
pub(super) struct OwnedClaim {
    pub(super) scope: String,
    pub(super) key: String,
    pub(super) body_hash: String,
    pub(super) at: i64,
    pub(super) forget_before: i64,
}

/// An outcome, owned for the writer thread.
pub(super) enum OwnedOutcome {
    Answered {
        conversation_id: String,
        user_message_id: String,
        message_id: String,
    },
    Refused {
        status: u16,
        body: String,
    },
}

impl From<&KeyOutcome<'_>> for OwnedOutcome {
    fn from(o: &KeyOutcome<'_>) -> Self {
        match *o {
            KeyOutcome::Answered {
                conversation_id,
                user_message_id,
                message_id,
            } => OwnedOutcome::Answered {
                conversation_id: conversation_id.to_owned(),
                user_message_id: user_message_id.to_owned(),
                message_id: message_id.to_owned(),
            },
            KeyOutcome::Refused { status, body } => OwnedOutcome::Refused {
                status,
                body: body.to_owned(),
            },
        }
    }
}

/// The key's row as a claim sees it, with the answer it points to.
struct Row {
    body_hash: String,
    held_by: Option<String>,
    finished_at: Option<i64>,
    conversation_id: Option<String>,
    user_message_id: Option<String>,
    message_id: Option<String>,
    error_status: Option<u16>,
    error_body: Option<String>,
    content: Option<String>,
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
}

pub(super) fn claim(conn: &Connection, c: &OwnedClaim, me: &str) -> Result<Claim, StoreError> {
    conn.prepare_cached("DELETE FROM idempotency_keys WHERE finished_at < ?1")?
        .execute([c.forget_before])?;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO idempotency_keys (scope, key, body_hash, held_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (scope, key) DO NOTHING",
        )?
        .execute(params![c.scope, c.key, c.body_hash, me, c.at])?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    let row = conn
        .prepare_cached(
            "SELECT k.body_hash, k.held_by, k.finished_at, k.conversation_id,
                    k.user_message_id, k.message_id, k.error_status, k.error_body,
                    m.content, m.prompt_tokens, m.completion_tokens
             FROM idempotency_keys k LEFT JOIN messages m ON m.id = k.message_id
             WHERE k.scope = ?1 AND k.key = ?2",
        )?
        .query_row(params![c.scope, c.key], |r| {
            Ok(Row {
                body_hash: r.get(0)?,
                held_by: r.get(1)?,
                finished_at: r.get(2)?,
                conversation_id: r.get(3)?,
                user_message_id: r.get(4)?,
                message_id: r.get(5)?,
                error_status: r.get(6)?,
                error_body: r.get(7)?,
                content: r.get(8)?,
                prompt_tokens: r.get(9)?,
                completion_tokens: r.get(10)?,
            })
        })
        .optional()?;
    let Some(row) = row else {
        // Inserted and gone in between cannot happen on one connection.
        return Err(StoreError::Query("idempotency key vanished".into()));
    };
    if row.body_hash != c.body_hash {
        return Ok(Claim::Reused);
    }
    let Some(finished_at) = row.finished_at else {
        if row.held_by.as_deref() == Some(me) {
            return Ok(Claim::Running);
        }
        // Left running by a process that is gone.
        take_over(conn, c, me)?;
        return Ok(Claim::Claimed);
    };
    let finished_at = from_millis(finished_at);
    if let (Some(status), Some(body)) = (row.error_status, row.error_body) {
        return Ok(Claim::Done(KeptResult::Refused {
            status,
            body,
            finished_at,
        }));
    }
    match (
        row.conversation_id,
        row.user_message_id,
        row.message_id,
        row.content,
    ) {
        (Some(conversation_id), Some(user_message_id), Some(message_id), Some(content)) => {
            Ok(Claim::Done(KeptResult::Answered(KeptAnswer {
                conversation_id,
                user_message_id,
                message_id,
                content,
                prompt_tokens: row.prompt_tokens.and_then(|n| u64::try_from(n).ok()),
                completion_tokens: row.completion_tokens.and_then(|n| u64::try_from(n).ok()),
                finished_at,
            })))
        }
        // The answer was deleted with its conversation: nothing to replay.
        _ => {
            take_over(conn, c, me)?;
            Ok(Claim::Claimed)
        }
    }
}

/// Make the key `me`'s, as if it had just been claimed.
fn take_over(conn: &Connection, c: &OwnedClaim, me: &str) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE idempotency_keys SET held_by = ?3, created_at = ?4, finished_at = NULL,
             conversation_id = NULL, user_message_id = NULL, message_id = NULL,
             error_status = NULL, error_body = NULL
         WHERE scope = ?1 AND key = ?2",
    )?
    .execute(params![c.scope, c.key, me, c.at])?;
    Ok(())
}

pub(super) fn finish(
    conn: &Connection,
    scope: &str,
    key: &str,
    outcome: &OwnedOutcome,
    at: i64,
    me: &str,
) -> Result<(), StoreError> {
    let (conversation, question, answer, status, body) = match outcome {
        OwnedOutcome::Answered {
            conversation_id,
            user_message_id,
            message_id,
        } => (
            Some(conversation_id.as_str()),
            Some(user_message_id.as_str()),
            Some(message_id.as_str()),
            None,
            None,
        ),
        OwnedOutcome::Refused { status, body } => {
            (None, None, None, Some(*status), Some(body.as_str()))
        }
    };
    conn.prepare_cached(
        "UPDATE idempotency_keys SET held_by = NULL, finished_at = ?4,
             conversation_id = ?5, user_message_id = ?6, message_id = ?7,
             error_status = ?8, error_body = ?9
         WHERE scope = ?1 AND key = ?2 AND held_by = ?3",
    )?
    .execute(params![
        scope,
        key,
        me,
        at,
        conversation,
        question,
        answer,
        status,
        body
    ])?;
    Ok(())
}

pub(super) fn release(
    conn: &Connection,
    scope: &str,
    key: &str,
    me: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "DELETE FROM idempotency_keys
         WHERE scope = ?1 AND key = ?2 AND held_by = ?3 AND finished_at IS NULL",
    )?
    .execute(params![scope, key, me])?;
    Ok(())
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_idempotency_key(&self, claim: &KeyClaim<'_>) -> Result<Claim, StoreError> {
        let claim = OwnedClaim {
            scope: claim.scope.to_owned(),
            key: claim.key.to_owned(),
            body_hash: claim.body_hash.to_owned(),
            at: to_millis(claim.at),
            forget_before: to_millis(claim.forget_before),
        };
        let me = self.process.clone();
        self.writer
            .write(move |conn| self::claim(conn, &claim, &me))
            .await
    }

    async fn finish_idempotency_key(
        &self,
        key: &KeyRef<'_>,
        outcome: &KeyOutcome<'_>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (scope, key) = (key.scope.to_owned(), key.key.to_owned());
        let outcome = OwnedOutcome::from(outcome);
        let (at, me) = (to_millis(at), self.process.clone());
        self.writer
            .write(move |conn| finish(conn, &scope, &key, &outcome, at, &me))
            .await
    }

    async fn release_idempotency_key(&self, key: &KeyRef<'_>) -> Result<(), StoreError> {
        let (scope, key) = (key.scope.to_owned(), key.key.to_owned());
        let me = self.process.clone();
        self.writer
            .write(move |conn| release(conn, &scope, &key, &me))
            .await
    }
}
