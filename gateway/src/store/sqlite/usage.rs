//! Token use per user and day in SQLite (the records are in
//! `crate::store::usage`).

use async_trait::async_trait;
use rusqlite::{Connection, params};

use super::SqliteStore;
use crate::identity::Identity;
use crate::store::{StoreError, TokenUsage, UsageStore};

pub(super) fn add_token_usage(
    conn: &Connection,
    who: &Identity,
    day: &str,
    tokens: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO token_usage (day, system_id, user_id, tokens) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day, system_id, user_id) DO UPDATE SET tokens = tokens + excluded.tokens",
    )?
    .execute(params![day, who.system.as_str(), who.user.as_str(), tokens])?;
    Ok(())
}

pub(super) fn token_usage(
    conn: &Connection,
    who: &Identity,
    day: &str,
) -> Result<TokenUsage, StoreError> {
    let (system, user): (i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(sum(tokens), 0),
                    coalesce(sum(CASE WHEN user_id = ?3 THEN tokens END), 0)
             FROM token_usage WHERE day = ?1 AND system_id = ?2",
        )?
        .query_row(
            params![day, who.system.as_str(), who.user.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
    Ok(TokenUsage {
        system: u64::try_from(system).unwrap_or(0),
        user: u64::try_from(user).unwrap_or(0),
    })
}

#[async_trait]
impl UsageStore for SqliteStore {
    async fn add_token_usage(
        &self,
        who: &Identity,
        day: time::Date,
        tokens: u64,
    ) -> Result<(), StoreError> {
        let (who, day) = (who.clone(), day.to_string());
        let tokens = i64::try_from(tokens).unwrap_or(i64::MAX);
        self.writer
            .write(move |conn| add_token_usage(conn, &who, &day, tokens))
            .await
    }

    async fn token_usage(&self, who: &Identity, day: time::Date) -> Result<TokenUsage, StoreError> {
        let (who, day) = (who.clone(), day.to_string());
        self.readers
            .read(move |conn| token_usage(conn, &who, &day))
            .await
    }
}
