//! Revoked tokens and token use in SQLite (the records are in
//! `crate::store::revocation` and `crate::store::usage`).

use rusqlite::{Connection, params};

use crate::identity::Identity;
use crate::store::{RevocationList, StoreError, TokenUsage, UserRevocation};

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
