//! Revoked tokens in SQLite (the records are in `crate::store::revocation`).

use async_trait::async_trait;
use rusqlite::{Connection, params};

use super::SqliteStore;
use crate::identity::Identity;
use crate::store::{RevocationList, RevocationStore, StoreError, UserRevocation};

pub(super) fn revoke_token_id(
    conn: &Connection,
    jti: &str,
    now: i64,
    keep_until: i64,
) -> Result<(), StoreError> {
    forget_expired(conn, now)?;
    conn.prepare_cached(
        "INSERT INTO revoked_tokens (jti, revoked_at, keep_until) VALUES (?1, ?2, ?3)
         ON CONFLICT (jti) DO UPDATE SET keep_until = max(keep_until, excluded.keep_until)",
    )?
    .execute(params![jti, now, keep_until])?;
    Ok(())
}

pub(super) fn revoke_user_tokens(
    conn: &Connection,
    who: &Identity,
    issued_before: i64,
    now: i64,
    keep_until: i64,
) -> Result<(), StoreError> {
    forget_expired(conn, now)?;
    conn.prepare_cached(
        "INSERT INTO revoked_users (system_id, user_id, issued_before, keep_until)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (system_id, user_id) DO UPDATE SET
             issued_before = max(issued_before, excluded.issued_before),
             keep_until = max(keep_until, excluded.keep_until)",
    )?
    .execute(params![
        who.system.as_str(),
        who.user.as_str(),
        issued_before,
        keep_until
    ])?;
    Ok(())
}

fn forget_expired(conn: &Connection, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM revoked_tokens WHERE keep_until < ?1")?
        .execute([now])?;
    conn.prepare_cached("DELETE FROM revoked_users WHERE keep_until < ?1")?
        .execute([now])?;
    Ok(())
}

pub(super) fn revocations(conn: &Connection, now: i64) -> Result<RevocationList, StoreError> {
    let token_ids = conn
        .prepare_cached("SELECT jti FROM revoked_tokens WHERE keep_until >= ?1")?
        .query_map([now], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let users = conn
        .prepare_cached(
            "SELECT system_id, user_id, issued_before FROM revoked_users WHERE keep_until >= ?1",
        )?
        .query_map([now], |row| {
            Ok(UserRevocation {
                system_id: row.get(0)?,
                user_id: row.get(1)?,
                issued_before: row.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RevocationList { token_ids, users })
}

#[async_trait]
impl RevocationStore for SqliteStore {
    async fn revoke_token_id(
        &self,
        jti: &str,
        now: i64,
        keep_until: i64,
    ) -> Result<(), StoreError> {
        let jti = jti.to_owned();
        self.writer
            .write(move |conn| revoke_token_id(conn, &jti, now, keep_until))
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
            .write(move |conn| revoke_user_tokens(conn, &who, issued_before, now, keep_until))
            .await
    }

    async fn revocations(&self, now: i64) -> Result<RevocationList, StoreError> {
        self.readers.read(move |conn| revocations(conn, now)).await
    }
}
