//! [`OperatorStore`] on PostgreSQL. Sessions and keys live in the shared
//! database, so a logout or a revocation on one replica holds on all.

use async_trait::async_trait;
use sqlx::FromRow;
use time::OffsetDateTime;

use super::{PgStore, stored};
use crate::store::StoreError;
use crate::store::operators::{
    ApiKeyRecord, AuditRecord, LoginFailures, OperatorRecord, OperatorStore, SessionRecord,
    join_list, split_list,
};

#[derive(FromRow)]
struct OperatorRow {
    id: String,
    email: String,
    password_hash: String,
    role: String,
    systems: Option<String>,
    created_at: OffsetDateTime,
}

impl From<OperatorRow> for OperatorRecord {
    fn from(r: OperatorRow) -> Self {
        OperatorRecord {
            id: r.id,
            email: r.email,
            password_hash: r.password_hash,
            role: r.role,
            systems: split_list(r.systems),
            created_at: r.created_at,
        }
    }
}

#[derive(FromRow)]
struct SessionRow {
    id_hash: String,
    operator_id: String,
    csrf_token: String,
    session_created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    #[sqlx(flatten)]
    operator: OperatorRow,
}

#[derive(FromRow)]
struct KeyRow {
    id: String,
    digest: String,
    name: String,
    systems: Option<String>,
    permissions: String,
    expires_at: Option<OffsetDateTime>,
    created_by: String,
    created_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl From<KeyRow> for ApiKeyRecord {
    fn from(r: KeyRow) -> Self {
        ApiKeyRecord {
            id: r.id,
            digest: r.digest,
            name: r.name,
            systems: split_list(r.systems),
            permissions: split_list(Some(r.permissions)).unwrap_or_default(),
            expires_at: r.expires_at,
            created_by: r.created_by,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(FromRow)]
struct AuditRow {
    id: i64,
    at: OffsetDateTime,
    actor: String,
    action: String,
    target: String,
    address: String,
}

#[async_trait]
impl OperatorStore for PgStore {
    async fn add_operator(&self, o: &OperatorRecord) -> Result<bool, StoreError> {
        let added = sqlx::query(
            "INSERT INTO operators (id, email, password_hash, role, systems, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&o.id)
        .bind(&o.email)
        .bind(&o.password_hash)
        .bind(&o.role)
        .bind(join_list(o.systems.as_deref()))
        .bind(stored(o.created_at))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(added == 1)
    }

    async fn set_operator_password(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let changed = sqlx::query("UPDATE operators SET password_hash = $2 WHERE email = $1")
            .bind(email)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(
            "DELETE FROM operator_sessions WHERE operator_id IN
             (SELECT id FROM operators WHERE email = $1)",
        )
        .bind(email)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    async fn remove_operator(&self, email: &str) -> Result<bool, StoreError> {
        let removed = sqlx::query("DELETE FROM operators WHERE email = $1")
            .bind(email)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(removed == 1)
    }

    async fn list_operators(&self) -> Result<Vec<OperatorRecord>, StoreError> {
        let rows: Vec<OperatorRow> = sqlx::query_as(
            "SELECT id, email, password_hash, role, systems, created_at FROM operators ORDER BY email",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn find_operator(&self, email: &str) -> Result<Option<OperatorRecord>, StoreError> {
        let row: Option<OperatorRow> = sqlx::query_as(
            "SELECT id, email, password_hash, role, systems, created_at FROM operators WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Into::into))
    }

    async fn create_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&s.id_hash)
        .bind(&s.operator_id)
        .bind(&s.csrf_token)
        .bind(stored(s.created_at))
        .bind(stored(s.last_seen_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_session(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, OperatorRecord)>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.id_hash, s.operator_id, s.csrf_token, s.created_at AS session_created_at,
                    s.last_seen_at, o.id, o.email, o.password_hash, o.role, o.systems, o.created_at
             FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
             WHERE s.id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| {
            (
                SessionRecord {
                    id_hash: r.id_hash,
                    operator_id: r.operator_id,
                    csrf_token: r.csrf_token,
                    created_at: r.session_created_at,
                    last_seen_at: r.last_seen_at,
                },
                r.operator.into(),
            )
        }))
    }

    async fn touch_session(&self, id_hash: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE operator_sessions SET last_seen_at = GREATEST(last_seen_at, $2)
             WHERE id_hash = $1",
        )
        .bind(id_hash)
        .bind(stored(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn end_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let ended = sqlx::query("DELETE FROM operator_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(ended == 1)
    }

    async fn record_login_failure(
        &self,
        account: &str,
        address: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO login_failures (account, address, at) VALUES ($1, $2, $3)")
            .bind(account)
            .bind(address)
            .bind(stored(at))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn login_failures(
        &self,
        account: &str,
        address: &str,
        since: OffsetDateTime,
    ) -> Result<LoginFailures, StoreError> {
        let (account_count, account_oldest, address_count, address_oldest): (
            i64,
            Option<OffsetDateTime>,
            i64,
            Option<OffsetDateTime>,
        ) = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE account = $1),
                    MIN(at) FILTER (WHERE account = $1),
                    COUNT(*) FILTER (WHERE address = $2),
                    MIN(at) FILTER (WHERE address = $2)
             FROM login_failures WHERE (account = $1 OR address = $2) AND at >= $3",
        )
        .bind(account)
        .bind(address)
        .bind(stored(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(LoginFailures {
            account: u32::try_from(account_count).unwrap_or(u32::MAX),
            account_oldest,
            address: u32::try_from(address_count).unwrap_or(u32::MAX),
            address_oldest,
        })
    }

    async fn clear_login_failures(&self, account: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE account = $1")
            .bind(account)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn add_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, digest, name, systems, permissions, expires_at, created_by, created_at, last_used_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&k.id)
        .bind(&k.digest)
        .bind(&k.name)
        .bind(join_list(k.systems.as_deref()))
        .bind(k.permissions.join(","))
        .bind(k.expires_at.map(stored))
        .bind(&k.created_by)
        .bind(stored(k.created_at))
        .bind(k.last_used_at.map(stored))
        .bind(k.revoked_at.map(stored))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT id, digest, name, systems, permissions, expires_at, created_by, created_at, last_used_at, revoked_at
             FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_key(&self, id: &str, at: OffsetDateTime) -> Result<bool, StoreError> {
        let revoked =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(stored(at))
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(revoked == 1)
    }

    async fn mark_api_keys_used(
        &self,
        used: &[(String, OffsetDateTime)],
    ) -> Result<(), StoreError> {
        if used.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = used.iter().map(|(id, _)| id.as_str()).collect();
        let ats: Vec<OffsetDateTime> = used.iter().map(|(_, at)| stored(*at)).collect();
        sqlx::query(
            "UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, u.at)
             FROM UNNEST($1::text[], $2::timestamptz[]) AS u(id, at) WHERE k.id = u.id",
        )
        .bind(ids)
        .bind(ats)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn append_audit(&self, e: &AuditRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, address) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(stored(e.at))
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.address)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_audit(
        &self,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor, action, target, address FROM audit_log
             WHERE $1::bigint IS NULL OR id < $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditRecord {
                id: Some(r.id),
                at: r.at,
                actor: r.actor,
                action: r.action,
                target: r.target,
                address: r.address,
            })
            .collect())
    }
}
