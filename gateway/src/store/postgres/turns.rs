//! Statements of turns sharing one upstream conversation (see
//! `store/turns.rs`), and the matching of imported upstream turns to the
//! turns the gateway stored itself. Writers of upstream ids take the owner's
//! advisory lock first, as every writer of them does (see `writes.rs`).

use sqlx::postgres::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::store::{ImportedTurn, StoreError, UpstreamClaim, UpstreamIds};

pub(super) async fn record_upstream_ids(
    pool: &PgPool,
    ids: &UpstreamIds<'_>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(system_id || '/' || user_id, 0))
         FROM conversations WHERE id = $1",
    )
    .bind(ids.conversation_id)
    .execute(&mut *tx)
    .await?;
    if let Some(upstream) = ids.upstream_conversation_id {
        sqlx::query(
            "UPDATE conversations SET upstream_conversation_id = $1
             WHERE id = $2 AND upstream_conversation_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM conversations c
                   WHERE c.upstream_conversation_id = $1
                     AND c.system_id = conversations.system_id
                     AND c.user_id = conversations.user_id)",
        )
        .bind(upstream)
        .bind(ids.conversation_id)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(upstream) = ids.upstream_message_id {
        sqlx::query(
            "UPDATE messages SET upstream_message_id = $1
             WHERE id = $2 AND upstream_message_id IS NULL
               AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = $3
                   AND m.upstream_message_id = $1 AND m.role = 'user')",
        )
        .bind(upstream)
        .bind(ids.user_message_id)
        .bind(ids.conversation_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn upstream_claim(
    pool: &PgPool,
    conversation_id: &str,
    user_message_id: &str,
) -> Result<UpstreamClaim, StoreError> {
    let found: Option<(Option<String>, bool)> = sqlx::query_as(
        "SELECT c.upstream_conversation_id, EXISTS (
             SELECT 1 FROM messages m, messages mine
             WHERE mine.id = $2 AND m.conversation_id = c.id AND m.role = 'user'
               AND m.open_by IS NOT NULL AND m.seq < mine.seq)
         FROM conversations c WHERE c.id = $1",
    )
    .bind(conversation_id)
    .bind(user_message_id)
    .fetch_optional(pool)
    .await?;
    Ok(match found {
        Some((Some(upstream), _)) => UpstreamClaim::Known(upstream),
        Some((None, true)) => UpstreamClaim::Pending,
        Some((None, false)) | None => UpstreamClaim::Free,
    })
}

/// See the SQLite twin, `sqlite/turns.rs`.
pub(super) async fn adopt_conversation(
    conn: &mut PgConnection,
    (system, user): (&str, &str),
    upstream_id: &str,
    first: &ImportedTurn,
) -> Result<(), StoreError> {
    let Some(query) = &first.query else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE conversations SET upstream_conversation_id = $3
         WHERE id = (
             SELECT c.id FROM conversations c
             WHERE c.system_id = $1 AND c.user_id = $2 AND c.upstream_conversation_id IS NULL
               AND EXISTS (SELECT 1 FROM messages m
                   WHERE m.seq = (SELECT MIN(f.seq) FROM messages f
                                  WHERE f.conversation_id = c.id AND f.role = 'user')
                     AND m.content = $4 AND m.open_by IS NULL
                     AND (m.upstream_message_id IS NULL OR m.upstream_message_id = $5))
             ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM conversations o
               WHERE o.system_id = $1 AND o.user_id = $2 AND o.upstream_conversation_id = $3)",
    )
    .bind(system)
    .bind(user)
    .bind(upstream_id)
    .bind(query)
    .bind(&first.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// See the SQLite twin, `sqlite/turns.rs`.
pub(super) async fn import_turn(
    conn: &mut PgConnection,
    conversation_id: &str,
    turn: &ImportedTurn,
    when: OffsetDateTime,
) -> Result<u64, StoreError> {
    let mut added = 0;
    let mut question: Option<i64> = None;
    if let Some(query) = &turn.query {
        let known: Option<(i64, bool)> = sqlx::query_as(
            "UPDATE messages
             SET status = CASE WHEN open_by IS NULL THEN 'complete' ELSE status END
             WHERE conversation_id = $1 AND role = 'user' AND upstream_message_id = $2
             RETURNING seq, open_by IS NOT NULL",
        )
        .bind(conversation_id)
        .bind(&turn.id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((_, true)) = known {
            // Still answering: the live turn stores its answer itself.
            return Ok(added);
        }
        question = known.map(|(seq, _)| seq);
        if question.is_none() {
            question = sqlx::query_scalar(
                "UPDATE messages SET upstream_message_id = $2, status = 'complete'
                 WHERE seq = (SELECT seq FROM messages
                     WHERE conversation_id = $1 AND role = 'user'
                       AND upstream_message_id IS NULL AND content = $3
                           AND open_by IS NULL
                     ORDER BY seq LIMIT 1)
                 RETURNING seq",
            )
            .bind(conversation_id)
            .bind(&turn.id)
            .bind(query)
            .fetch_optional(&mut *conn)
            .await?;
        }
        if question.is_none() {
            added += insert(conn, conversation_id, "user", query, &turn.id, when).await?;
        }
    }
    let Some(answer) = &turn.answer else {
        return Ok(added);
    };
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM messages
             WHERE conversation_id = $1 AND role = 'assistant' AND upstream_message_id = $2)",
    )
    .bind(conversation_id)
    .bind(&turn.id)
    .fetch_one(&mut *conn)
    .await?;
    if known {
        return Ok(added);
    }
    if let Some(seq) = question {
        let completed = sqlx::query(
            "UPDATE messages SET upstream_message_id = $2, content = $3, status = 'complete'
             WHERE seq = (SELECT seq FROM messages
                 WHERE conversation_id = $1 AND seq > $4 ORDER BY seq LIMIT 1)
               AND role = 'assistant' AND upstream_message_id IS NULL",
        )
        .bind(conversation_id)
        .bind(&turn.id)
        .bind(answer)
        .bind(seq)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if completed > 0 {
            return Ok(added);
        }
    }
    added += insert(conn, conversation_id, "assistant", answer, &turn.id, when).await?;
    Ok(added)
}

async fn insert(
    conn: &mut PgConnection,
    conversation_id: &str,
    role: &str,
    text: &str,
    upstream_id: &str,
    when: OffsetDateTime,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO messages
             (id, conversation_id, role, content, status, upstream_message_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'complete', $5, $6, $6)
         ON CONFLICT DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(conversation_id)
    .bind(role)
    .bind(text)
    .bind(upstream_id)
    .bind(when)
    .execute(conn)
    .await?
    .rows_affected())
}
