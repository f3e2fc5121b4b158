//! [`OperatorStore`] on SQLite: writes through the single writer, reads on
//! the reading connections.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::store::operators::{
    ApiKeyRecord, AuditRecord, LoginFailures, OperatorRecord, OperatorStore, SessionRecord,
    join_list, split_list,
};
use crate::store::{StoreError, from_millis, to_millis};

const OPERATOR_COLUMNS: &str = "id, email, password_hash, role, systems, created_at";
const KEY_COLUMNS: &str = "id, digest, name, systems, permissions, expires_at, created_by, \
                           created_at, last_used_at, revoked_at";

fn operator_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<OperatorRecord> {
    Ok(OperatorRecord {
        id: row.get(at)?,
        email: row.get(at + 1)?,
        password_hash: row.get(at + 2)?,
        role: row.get(at + 3)?,
        systems: split_list(row.get(at + 4)?),
        created_at: from_millis(row.get(at + 5)?),
    })
}

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    let permissions: String = row.get(4)?;
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        digest: row.get(1)?,
        name: row.get(2)?,
        systems: split_list(row.get(3)?),
        permissions: split_list(Some(permissions)).unwrap_or_default(),
        expires_at: row.get::<_, Option<i64>>(5)?.map(from_millis),
        created_by: row.get(6)?,
        created_at: from_millis(row.get(7)?),
        last_used_at: row.get::<_, Option<i64>>(8)?.map(from_millis),
        revoked_at: row.get::<_, Option<i64>>(9)?.map(from_millis),
    })
}

fn failures(
    conn: &Connection,
    column: &str,
    value: &str,
    since: i64,
) -> Result<(u32, Option<OffsetDateTime>), StoreError> {
    let sql =
        format!("SELECT COUNT(*), MIN(at) FROM login_failures WHERE {column} = ?1 AND at >= ?2");
    let (count, oldest): (i64, Option<i64>) = conn
        .prepare_cached(&sql)?
        .query_row(params![value, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok((
        u32::try_from(count).unwrap_or(u32::MAX),
        oldest.map(from_millis),
    ))
}

#[async_trait]
impl OperatorStore for SqliteStore {
    async fn add_operator(&self, operator: &OperatorRecord) -> Result<bool, StoreError> {
        let o = operator.clone();
        self.writer
            .write(move |conn| {
                let added = conn
                    .prepare_cached(
                        "INSERT INTO operators (id, email, password_hash, role, systems, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (email) DO NOTHING",
                    )?
                    .execute(params![
                        o.id,
                        o.email,
                        o.password_hash,
                        o.role,
                        join_list(o.systems.as_deref()),
                        to_millis(o.created_at)
                    ])?;
                Ok(added == 1)
            })
            .await
    }

    async fn set_operator_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let (email, hash) = (email.to_owned(), password_hash.to_owned());
        self.writer
            .write(move |conn| {
                let changed = conn
                    .prepare_cached("UPDATE operators SET password_hash = ?2 WHERE email = ?1")?
                    .execute(params![email, hash])?;
                conn.prepare_cached(
                    "DELETE FROM operator_sessions WHERE operator_id IN
                     (SELECT id FROM operators WHERE email = ?1)",
                )?
                .execute(params![email])?;
                Ok(changed == 1)
            })
            .await
    }

    async fn remove_operator(&self, email: &str) -> Result<bool, StoreError> {
        let email = email.to_owned();
        self.writer
            .write(move |conn| {
                // Sessions go with the operator (ON DELETE CASCADE).
                let removed = conn
                    .prepare_cached("DELETE FROM operators WHERE email = ?1")?
                    .execute(params![email])?;
                Ok(removed == 1)
            })
            .await
    }

    async fn list_operators(&self) -> Result<Vec<OperatorRecord>, StoreError> {
        self.readers
            .read(|conn| {
                let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY email");
                let rows = conn
                    .prepare_cached(&sql)?
                    .query_map([], |r| operator_from_row(r, 0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .await
    }

    async fn find_operator(&self, email: &str) -> Result<Option<OperatorRecord>, StoreError> {
        let email = email.to_owned();
        self.readers
            .read(move |conn| {
                let sql = format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE email = ?1");
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row(params![email], |r| operator_from_row(r, 0))
                    .optional()?)
            })
            .await
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let s = session.clone();
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO operator_sessions
                     (id_hash, operator_id, csrf_token, created_at, last_seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    s.id_hash,
                    s.operator_id,
                    s.csrf_token,
                    to_millis(s.created_at),
                    to_millis(s.last_seen_at)
                ])?;
                Ok(())
            })
            .await
    }

    async fn find_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, OperatorRecord)>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.readers
            .read(move |conn| {
                let sql = format!(
                    "SELECT s.id_hash, s.operator_id, s.csrf_token, s.created_at, s.last_seen_at,
                            {}
                     FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
                     WHERE s.id_hash = ?1",
                    OPERATOR_COLUMNS
                        .split(", ")
                        .map(|c| format!("o.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_row(params![id_hash], |r| {
                        Ok((
                            SessionRecord {
                                id_hash: r.get(0)?,
                                operator_id: r.get(1)?,
                                csrf_token: r.get(2)?,
                                created_at: from_millis(r.get(3)?),
                                last_seen_at: from_millis(r.get(4)?),
                            },
                            operator_from_row(r, 5)?,
                        ))
                    })
                    .optional()?)
            })
            .await
    }

    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        let (id_hash, at) = (id_hash.to_owned(), to_millis(at));
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "UPDATE operator_sessions SET last_seen_at = MAX(last_seen_at, ?2)
                     WHERE id_hash = ?1",
                )?
                .execute(params![id_hash, at])?;
                Ok(())
            })
            .await
    }

    async fn end_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let id_hash = id_hash.to_owned();
        self.writer
            .write(move |conn| {
                let ended = conn
                    .prepare_cached("DELETE FROM operator_sessions WHERE id_hash = ?1")?
                    .execute(params![id_hash])?;
                Ok(ended == 1)
            })
            .await
    }

    async fn record_login_failure(
        &self,
        account: &str,
        address: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (account, address, at) = (account.to_owned(), address.to_owned(), to_millis(at));
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO login_failures (account, address, at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![account, address, at])?;
                Ok(())
            })
            .await
    }

    async fn login_failures(
        &self,
        account: &str,
        address: &str,
        since: OffsetDateTime,
    ) -> Result<LoginFailures, StoreError> {
        let (account, address, since) = (account.to_owned(), address.to_owned(), to_millis(since));
        self.readers
            .read(move |conn| {
                let (by_account, account_oldest) = failures(conn, "account", &account, since)?;
                let (by_address, address_oldest) = failures(conn, "address", &address, since)?;
                Ok(LoginFailures {
                    account: by_account,
                    account_oldest,
                    address: by_address,
                    address_oldest,
                })
            })
            .await
    }

    async fn clear_login_failures(&self, account: &str) -> Result<(), StoreError> {
        let account = account.to_owned();
        self.writer
            .write(move |conn| {
                conn.prepare_cached("DELETE FROM login_failures WHERE account = ?1")?
                    .execute(params![account])?;
                Ok(())
            })
            .await
    }

    async fn add_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let k = key.clone();
        self.writer
            .write(move |conn| {
                let sql = format!(
                    "INSERT INTO api_keys ({KEY_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                );
                conn.prepare_cached(&sql)?.execute(params![
                    k.id,
                    k.digest,
                    k.name,
                    join_list(k.systems.as_deref()),
                    k.permissions.join(","),
                    k.expires_at.map(to_millis),
                    k.created_by,
                    to_millis(k.created_at),
                    k.last_used_at.map(to_millis),
                    k.revoked_at.map(to_millis)
                ])?;
                Ok(())
            })
            .await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.readers
            .read(|conn| {
                let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id");
                Ok(conn
                    .prepare_cached(&sql)?
                    .query_map([], key_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn revoke_api_key(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let (id, at) = (id.to_owned(), to_millis(at));
        self.writer
            .write(move |conn| {
                let revoked = conn
                    .prepare_cached(
                        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                    )?
                    .execute(params![id, at])?;
                Ok(revoked == 1)
            })
            .await
    }

    async fn mark_api_keys_used(
        &self,
        used: &[(String, OffsetDateTime)],
    ) -> Result<(), StoreError> {
        let used: Vec<(String, i64)> = used
            .iter()
            .map(|(id, at)| (id.clone(), to_millis(*at)))
            .collect();
        self.writer
            .write(move |conn| {
                let mut update = conn.prepare_cached(
                    "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2)
                     WHERE id = ?1",
                )?;
                for (id, at) in &used {
                    update.execute(params![id, at])?;
                }
                Ok(())
            })
            .await
    }

    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError> {
        let e = entry.clone();
        self.writer
            .write(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO audit_log (at, actor, action, target, address)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    to_millis(e.at),
                    e.actor,
                    e.action,
                    e.target,
                    e.address
                ])?;
                Ok(())
            })
            .await
    }

    async fn list_audit(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.readers
            .read(move |conn| {
                Ok(conn
                    .prepare_cached(
                        "SELECT id, at, actor, action, target, address FROM audit_log
                         WHERE ?1 IS NULL OR id < ?1 ORDER BY id DESC LIMIT ?2",
                    )?
                    .query_map(params![before, limit], |r| {
                        Ok(AuditRecord {
                            id: Some(r.get(0)?),
                            at: from_millis(r.get(1)?),
                            actor: r.get(2)?,
                            action: r.get(3)?,
                            target: r.get(4)?,
                            address: r.get(5)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}
