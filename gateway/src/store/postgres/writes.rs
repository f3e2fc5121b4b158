//! The PostgreSQL transactions that several replicas may run against the
//! same rows at once: a turn's two writes and the import of upstream
//! history (in `sync.rs`).
//!
//! Only [`finish_turn`], `sync::import_conversation` and
//! `turns::record_upstream_ids` write upstream ids. All three
//! start by taking `pg_advisory_xact_lock` on the conversation's owner
//! (`system_id/user_id`; `/` cannot occur in a system id, so the key text is
//! unambiguous). The lock is held until the transaction ends, and under READ
//! COMMITTED every later statement sees whatever the previous holder
//! committed, so the guards below ("record the upstream id unless another row
//! of this owner already holds it") behave exactly as they do on SQLite's
//! single writer: never a unique violation, never a duplicate. Hash
//! collisions between owners only serialise two unrelated writes.
//!
//! [`finish_turn`]'s statements live in the SQL function `tz_finish_turn`
//! (`migrations/postgres/0002_finish_turn.sql`, last redefined in `0010_console.sql`) so that a turn's end is one
//! round trip; a plain new message is likewise one statement. Round trips,
//! not PostgreSQL's work, were what capped a gateway on PostgreSQL
//! (BENCHMARKS.md).
//!
//! Lock order, to rule out deadlocks: owner lock, then the conversation row,
//! then message rows. [`begin_turn`] takes no owner lock; it locks the
//! conversation row first like everyone else.

use sqlx::postgres::{PgConnection, PgPool};

use super::stored;
use crate::identity::Identity;
use crate::store::{Begin, NewTurn, StoreError, TurnEnd, TurnStart};
use sdk::MessageStatus;

/// See [`crate::store::TurnStore::begin_turn`]. `replica` answers the turn: the
/// user message is marked open by it until [`finish_turn`] (see
/// `migrations/postgres/0003_open_turns.sql`).
pub(super) async fn begin_turn(
    pool: &PgPool,
    turn: &NewTurn<'_>,
    replica: &str,
) -> Result<Begin, StoreError> {
    if turn.retry_of.is_none() {
        return begin_new_message(pool, turn, replica).await;
    }
    let at = stored(turn.at);
    let system = turn.owner.system.as_str();
    let user = turn.owner.user.as_str();
    let mut tx = pool.begin().await?;
    let start = match turn.conversation_id {
        Some(id) => {
            // One statement checks the owner, takes the row lock and reads
            // the newest upstream id (a turn that finished while we waited
            // for the lock is seen).
            let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "UPDATE conversations SET updated_at = $1
                 WHERE id = $2 AND system_id = $3 AND user_id = $4
                 RETURNING upstream_conversation_id, agent",
            )
            .bind(at)
            .bind(id)
            .bind(system)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((upstream, agent)) = row else {
                return Ok(Begin::ConversationNotFound);
            };
            if turn.agent.is_some() && turn.agent != agent.as_deref() {
                return Ok(Begin::AgentMismatch(agent));
            }
            started(turn, Some((id, upstream, agent)))
        }
        None => {
            sqlx::query(
                "INSERT INTO conversations (id, system_id, user_id, title, created_at, updated_at, agent)
                 VALUES ($1, $2, $3, $4, $5, $5, $6)",
            )
            .bind(turn.new_conversation_id)
            .bind(system)
            .bind(user)
            .bind(turn.title)
            .bind(at)
            .bind(turn.agent)
            .execute(&mut *tx)
            .await?;
            started(turn, None)
        }
    };
    let mut start = start;
    let retried = match turn.retry_of {
        None => false,
        Some(retry) => {
            // The conversation row is locked above, so no other turn of it
            // can retry the same message at the same time.
            let status: Option<(String,)> = sqlx::query_as(
                "SELECT status FROM messages
                 WHERE id = $1 AND conversation_id = $2 AND role = 'user'",
            )
            .bind(retry)
            .bind(&start.conversation_id)
            .fetch_optional(&mut *tx)
            .await?;
            match status {
                None => return Ok(Begin::RetryTargetNotFound),
                Some((status,)) if status == MessageStatus::Failed.as_str() => {
                    sqlx::query(
                        "UPDATE messages SET status = 'complete', content = $1, updated_at = $2,
                             open_by = $4
                         WHERE id = $3",
                    )
                    .bind(turn.content)
                    .bind(at)
                    .bind(retry)
                    .bind(replica)
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
            "INSERT INTO messages
                 (id, conversation_id, role, content, status, created_at, updated_at, open_by)
             VALUES ($1, $2, 'user', $3, 'complete', $4, $4, $5)",
        )
        .bind(turn.message_id)
        .bind(&start.conversation_id)
        .bind(turn.content)
        .bind(at)
        .bind(replica)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Begin::Started(start))
}

/// The start of `turn`: in the conversation `continued` (with its upstream
/// id), or else in the one the turn created. Before any retry is looked at.
fn started(
    turn: &NewTurn<'_>,
    continued: Option<(&str, Option<String>, Option<String>)>,
) -> TurnStart {
    let created = continued.is_none();
    let (conversation_id, upstream, agent) = continued.unwrap_or((
        turn.new_conversation_id,
        None,
        turn.agent.map(str::to_owned),
    ));
    TurnStart {
        conversation_id: conversation_id.to_owned(),
        upstream_conversation_id: upstream,
        created,
        user_message_id: turn.message_id.to_owned(),
        agent,
    }
}

/// [`begin_turn`] of a new message (no retry): one statement, so one round
/// trip. Same steps and lock order as the transaction: the conversation row
/// (updated, or inserted) comes before the message; PostgreSQL checks the
/// message's foreign key at the end of the statement, when the conversation
/// a CTE inserted is there.
async fn begin_new_message(
    pool: &PgPool,
    turn: &NewTurn<'_>,
    replica: &str,
) -> Result<Begin, StoreError> {
    let at = stored(turn.at);
    let system = turn.owner.system.as_str();
    let user = turn.owner.user.as_str();
    let start = match turn.conversation_id {
        Some(id) => {
            // The message is inserted only when the conversation is bound
            // to the agent named (or none was named).
            let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
                "WITH c AS (
                     UPDATE conversations SET updated_at = $1
                     WHERE id = $2 AND system_id = $3 AND user_id = $4
                     RETURNING id, upstream_conversation_id, agent
                 ), m AS (
                     INSERT INTO messages
                         (id, conversation_id, role, content, status, created_at, updated_at, open_by)
                     SELECT $5, c.id, 'user', $6, 'complete', $1, $1, $8 FROM c
                     WHERE $7::text IS NULL OR c.agent IS NOT DISTINCT FROM $7::text
                 )
                 SELECT upstream_conversation_id, agent FROM c",
            )
            .bind(at)
            .bind(id)
            .bind(system)
            .bind(user)
            .bind(turn.message_id)
            .bind(turn.content)
            .bind(turn.agent)
            .bind(replica)
            .fetch_optional(pool)
            .await?;
            let Some((upstream, agent)) = row else {
                return Ok(Begin::ConversationNotFound);
            };
            if turn.agent.is_some() && turn.agent != agent.as_deref() {
                return Ok(Begin::AgentMismatch(agent));
            }
            started(turn, Some((id, upstream, agent)))
        }
        None => {
            sqlx::query(
                "WITH c AS (
                     INSERT INTO conversations (id, system_id, user_id, title, created_at, updated_at, agent)
                     VALUES ($1, $2, $3, $4, $5, $5, $8)
                 )
                 INSERT INTO messages
                     (id, conversation_id, role, content, status, created_at, updated_at, open_by)
                 VALUES ($6, $1, 'user', $7, 'complete', $5, $5, $9)",
            )
            .bind(turn.new_conversation_id)
            .bind(system)
            .bind(user)
            .bind(turn.title)
            .bind(at)
            .bind(turn.message_id)
            .bind(turn.content)
            .bind(turn.agent)
            .bind(replica)
            .execute(pool)
            .await?;
            started(turn, None)
        }
    };
    Ok(Begin::Started(start))
}

/// See [`crate::store::TurnStore::finish_turn`]: one call of `tz_finish_turn`
/// (migration `0002`), which takes the owner's advisory lock, then the
/// conversation row, then writes the messages — one round trip instead of
/// a transaction of seven.
pub(super) async fn finish_turn(pool: &PgPool, end: &TurnEnd<'_>) -> Result<(), StoreError> {
    let reply = end.reply.as_ref();
    let metrics = reply.map(|r| r.metrics).unwrap_or_default();
    sqlx::query("SELECT tz_finish_turn($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
        .bind(end.conversation_id)
        .bind(stored(end.at))
        .bind(end.user_message_id)
        .bind(end.user_status.as_str())
        .bind(end.upstream_message_id)
        .bind(reply.map(|r| r.message_id))
        .bind(reply.map(|r| r.content))
        .bind(reply.map(|r| r.status.as_str()))
        .bind(end.upstream_conversation_id)
        .bind(metrics.latency_ms.and_then(|n| i32::try_from(n).ok()))
        .bind(metrics.ttft_ms.and_then(|n| i32::try_from(n).ok()))
        .bind(metrics.prompt_tokens.and_then(|n| i64::try_from(n).ok()))
        .bind(
            metrics
                .completion_tokens
                .and_then(|n| i64::try_from(n).ok()),
        )
        .execute(pool)
        .await?;
    Ok(())
}

/// Serialise this transaction with every other writer of `owner`'s upstream
/// ids, until it ends (see the module docs).
pub(super) async fn lock_owner(
    conn: &mut PgConnection,
    owner: &Identity,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
        .bind(owner.system.as_str())
        .bind(owner.user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
