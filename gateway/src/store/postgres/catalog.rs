//! The systems and agents managed at runtime, on PostgreSQL. Every write
//! bumps `catalog_version` in its own transaction; the row lock on that one
//! row also serialises catalog writes across replicas, which are rare.

use async_trait::async_trait;
use sqlx::FromRow;
use sqlx::postgres::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::{PgStore, stored};
use crate::store::StoreError;
use crate::store::catalog::{
    AgentRecord, CatalogRecords, CatalogStore, CatalogWrite, PutMode, SealedCredential,
    SystemRecord,
};

pub(super) async fn version(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM catalog_version WHERE id = 1")
            .fetch_one(pool)
            .await?,
    )
}

async fn bump(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("UPDATE catalog_version SET version = version + 1 WHERE id = 1")
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(FromRow)]
struct SystemRow {
    id: String,
    display_name: String,
    allowed_origins: String,
    enabled: bool,
    default_agent: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

#[derive(FromRow)]
struct AgentRow {
    system_id: String,
    id: String,
    kind: String,
    url: String,
    credential_sealed: Option<String>,
    credential_hint: Option<String>,
    model: Option<String>,
    system_prompt: Option<String>,
    options: String,
    title: String,
    description: String,
    enabled: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<AgentRow> for AgentRecord {
    fn from(r: AgentRow) -> Self {
        AgentRecord {
            system_id: r.system_id,
            id: r.id,
            kind: r.kind,
            url: r.url,
            credential: r.credential_sealed.map(|sealed| SealedCredential {
                sealed,
                hint: r.credential_hint.unwrap_or_default(),
            }),
            model: r.model,
            system_prompt: r.system_prompt,
            options: r.options,
            title: r.title,
            description: r.description,
            enabled: r.enabled,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(super) async fn load(pool: &PgPool) -> Result<CatalogRecords, StoreError> {
    // REPEATABLE READ: the version and the rows come from one snapshot.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let version: i64 = sqlx::query_scalar("SELECT version FROM catalog_version WHERE id = 1")
        .fetch_one(&mut *tx)
        .await?;
    let rows: Vec<SystemRow> = sqlx::query_as(
        "SELECT id, display_name, allowed_origins, enabled, default_agent, created_at, updated_at
         FROM systems ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let agents: Vec<AgentRow> = sqlx::query_as(
        "SELECT system_id, id, kind, url, credential_sealed, credential_hint, model,
                system_prompt, options, title, description, enabled, created_at, updated_at
         FROM agents ORDER BY system_id, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let systems = rows
        .into_iter()
        .map(|r| {
            let allowed_origins = serde_json::from_str(&r.allowed_origins)
                .map_err(|e| StoreError::Query(format!("systems.allowed_origins: {e}")))?;
            Ok(SystemRecord {
                id: r.id,
                display_name: r.display_name,
                allowed_origins,
                enabled: r.enabled,
                default_agent: r.default_agent,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(CatalogRecords {
        version,
        systems,
        agents: agents.into_iter().map(AgentRecord::from).collect(),
    })
}

fn outcome(changed: u64, mode: PutMode) -> CatalogWrite {
    match (changed, mode) {
        (0, PutMode::Create) => CatalogWrite::Exists,
        (0, PutMode::Update) => CatalogWrite::NotFound,
        _ => CatalogWrite::Done,
    }
}

pub(super) async fn put_system(
    pool: &PgPool,
    s: &SystemRecord,
    mode: PutMode,
) -> Result<CatalogWrite, StoreError> {
    let origins =
        serde_json::to_string(&s.allowed_origins).map_err(|e| StoreError::Query(e.to_string()))?;
    let mut tx = pool.begin().await?;
    let query = match mode {
        PutMode::Create => sqlx::query(
            "INSERT INTO systems (id, display_name, allowed_origins, enabled, default_agent,
                                  created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&s.id)
        .bind(&s.display_name)
        .bind(&origins)
        .bind(s.enabled)
        .bind(&s.default_agent)
        .bind(stored(s.created_at))
        .bind(stored(s.updated_at)),
        PutMode::Update => sqlx::query(
            "UPDATE systems SET display_name = $2, allowed_origins = $3, enabled = $4,
                                default_agent = $5, updated_at = $6
             WHERE id = $1",
        )
        .bind(&s.id)
        .bind(&s.display_name)
        .bind(&origins)
        .bind(s.enabled)
        .bind(&s.default_agent)
        .bind(stored(s.updated_at)),
    };
    let done = outcome(query.execute(&mut *tx).await?.rows_affected(), mode);
    if done == CatalogWrite::Done {
        bump(&mut tx).await?;
        tx.commit().await?;
    }
    Ok(done)
}

pub(super) async fn delete_system(pool: &PgPool, id: &str) -> Result<CatalogWrite, StoreError> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query("DELETE FROM systems WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Ok(CatalogWrite::NotFound);
    }
    sqlx::query("DELETE FROM agents WHERE system_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    bump(&mut tx).await?;
    tx.commit().await?;
    Ok(CatalogWrite::Done)
}

pub(super) async fn put_agent(
    pool: &PgPool,
    a: &AgentRecord,
    mode: PutMode,
) -> Result<CatalogWrite, StoreError> {
    let sql = match mode {
        PutMode::Create => {
            "INSERT INTO agents (system_id, id, kind, url, credential_sealed, credential_hint,
                                 model, system_prompt, options, title, description, enabled,
                                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (system_id, id) DO NOTHING"
        }
        PutMode::Update => {
            "UPDATE agents SET kind = $3, url = $4, credential_sealed = $5, credential_hint = $6,
                               model = $7, system_prompt = $8, options = $9, title = $10,
                               description = $11, enabled = $12, updated_at = $14
             WHERE system_id = $1 AND id = $2 AND $13::timestamptz IS NOT NULL"
        }
    };
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(sql)
        .bind(&a.system_id)
        .bind(&a.id)
        .bind(&a.kind)
        .bind(&a.url)
        .bind(a.credential.as_ref().map(|c| c.sealed.as_str()))
        .bind(a.credential.as_ref().map(|c| c.hint.as_str()))
        .bind(&a.model)
        .bind(&a.system_prompt)
        .bind(&a.options)
        .bind(&a.title)
        .bind(&a.description)
        .bind(a.enabled)
        .bind(stored(a.created_at))
        .bind(stored(a.updated_at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let done = outcome(changed, mode);
    if done == CatalogWrite::Done {
        bump(&mut tx).await?;
        tx.commit().await?;
    }
    Ok(done)
}

pub(super) async fn delete_agent(
    pool: &PgPool,
    system_id: &str,
    id: &str,
) -> Result<CatalogWrite, StoreError> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query("DELETE FROM agents WHERE system_id = $1 AND id = $2")
        .bind(system_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Ok(CatalogWrite::NotFound);
    }
    bump(&mut tx).await?;
    tx.commit().await?;
    Ok(CatalogWrite::Done)
}

#[async_trait]
impl CatalogStore for PgStore {
    async fn catalog_version(&self) -> Result<i64, StoreError> {
        version(&self.pool).await
    }

    async fn load_catalog(&self) -> Result<CatalogRecords, StoreError> {
        load(&self.pool).await
    }

    async fn put_system(
        &self,
        system: &SystemRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        put_system(&self.pool, system, mode).await
    }

    async fn delete_system(&self, id: &str) -> Result<CatalogWrite, StoreError> {
        delete_system(&self.pool, id).await
    }

    async fn put_agent(
        &self,
        agent: &AgentRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        put_agent(&self.pool, agent, mode).await
    }

    async fn delete_agent(&self, system_id: &str, id: &str) -> Result<CatalogWrite, StoreError> {
        delete_agent(&self.pool, system_id, id).await
    }
}
