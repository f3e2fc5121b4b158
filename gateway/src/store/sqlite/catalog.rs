//! The systems and agents managed at runtime, on SQLite. Origins and
//! options are JSON text; timestamps milliseconds, as everywhere here.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};

use super::SqliteStore;
use crate::store::catalog::{
    AgentRecord, CatalogRecords, CatalogStore, CatalogWrite, PutMode, SealedCredential,
    SystemRecord,
};
use crate::store::{StoreError, from_millis, to_millis};

pub(super) fn version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT version FROM catalog_version WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

fn bump(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE catalog_version SET version = version + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

fn system_from_row(row: &Row<'_>) -> rusqlite::Result<(SystemRecord, String)> {
    let origins: String = row.get(2)?;
    Ok((
        SystemRecord {
            id: row.get(0)?,
            display_name: row.get(1)?,
            allowed_origins: Vec::new(),
            enabled: row.get(3)?,
            default_agent: row.get(4)?,
            created_at: from_millis(row.get(5)?),
            updated_at: from_millis(row.get(6)?),
        },
        origins,
    ))
}

fn agent_from_row(row: &Row<'_>) -> rusqlite::Result<AgentRecord> {
    let sealed: Option<String> = row.get(4)?;
    let hint: Option<String> = row.get(5)?;
    Ok(AgentRecord {
        system_id: row.get(0)?,
        id: row.get(1)?,
        kind: row.get(2)?,
        url: row.get(3)?,
        credential: sealed.map(|sealed| SealedCredential {
            sealed,
            hint: hint.unwrap_or_default(),
        }),
        model: row.get(6)?,
        system_prompt: row.get(7)?,
        options: row.get(8)?,
        title: row.get(9)?,
        description: row.get(10)?,
        enabled: row.get(11)?,
        created_at: from_millis(row.get(12)?),
        updated_at: from_millis(row.get(13)?),
    })
}

pub(super) fn load(conn: &Connection) -> Result<CatalogRecords, StoreError> {
    // One read transaction (a savepoint also works inside the writer's
    // transaction, which in-memory databases read through), so the version
    // matches the rows.
    conn.execute_batch("SAVEPOINT catalog_read")?;
    let loaded = load_in(conn);
    conn.execute_batch("RELEASE catalog_read")?;
    loaded
}

fn load_in(conn: &Connection) -> Result<CatalogRecords, StoreError> {
    let version = version(conn)?;
    let mut systems = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, display_name, allowed_origins, enabled, default_agent, created_at, updated_at
         FROM systems ORDER BY id",
    )?;
    for row in stmt.query_map([], system_from_row)? {
        let (mut system, origins) = row?;
        system.allowed_origins = serde_json::from_str(&origins)
            .map_err(|e| StoreError::Query(format!("systems.allowed_origins: {e}")))?;
        systems.push(system);
    }
    let agents = conn
        .prepare_cached(
            "SELECT system_id, id, kind, url, credential_sealed, credential_hint, model,
                    system_prompt, options, title, description, enabled, created_at, updated_at
             FROM agents ORDER BY system_id, id",
        )?
        .query_map([], agent_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CatalogRecords {
        version,
        systems,
        agents,
    })
}

fn outcome(changed: usize, mode: PutMode) -> CatalogWrite {
    match (changed, mode) {
        (0, PutMode::Create) => CatalogWrite::Exists,
        (0, PutMode::Update) => CatalogWrite::NotFound,
        _ => CatalogWrite::Done,
    }
}

pub(super) fn put_system(
    conn: &Connection,
    s: &SystemRecord,
    mode: PutMode,
) -> Result<CatalogWrite, StoreError> {
    let origins =
        serde_json::to_string(&s.allowed_origins).map_err(|e| StoreError::Query(e.to_string()))?;
    let sql = match mode {
        PutMode::Create => {
            "INSERT INTO systems (id, display_name, allowed_origins, enabled, default_agent,
                                  created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING"
        }
        PutMode::Update => {
            "UPDATE systems SET display_name = ?2, allowed_origins = ?3, enabled = ?4,
                                default_agent = ?5, updated_at = ?7
             WHERE id = ?1 AND ?6 = ?6"
        }
    };
    let changed = conn.prepare_cached(sql)?.execute(params![
        s.id,
        s.display_name,
        origins,
        s.enabled,
        s.default_agent,
        to_millis(s.created_at),
        to_millis(s.updated_at),
    ])?;
    let done = outcome(changed, mode);
    if done == CatalogWrite::Done {
        bump(conn)?;
    }
    Ok(done)
}

pub(super) fn delete_system(conn: &Connection, id: &str) -> Result<CatalogWrite, StoreError> {
    let changed = conn
        .prepare_cached("DELETE FROM systems WHERE id = ?1")?
        .execute(params![id])?;
    if changed == 0 {
        return Ok(CatalogWrite::NotFound);
    }
    conn.prepare_cached("DELETE FROM agents WHERE system_id = ?1")?
        .execute(params![id])?;
    bump(conn)?;
    Ok(CatalogWrite::Done)
}

pub(super) fn put_agent(
    conn: &Connection,
    a: &AgentRecord,
    mode: PutMode,
) -> Result<CatalogWrite, StoreError> {
    let sql = match mode {
        PutMode::Create => {
            "INSERT INTO agents (system_id, id, kind, url, credential_sealed, credential_hint,
                                 model, system_prompt, options, title, description, enabled,
                                 created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (system_id, id) DO NOTHING"
        }
        PutMode::Update => {
            "UPDATE agents SET kind = ?3, url = ?4, credential_sealed = ?5, credential_hint = ?6,
                               model = ?7, system_prompt = ?8, options = ?9, title = ?10,
                               description = ?11, enabled = ?12, updated_at = ?14
             WHERE system_id = ?1 AND id = ?2 AND ?13 = ?13"
        }
    };
    let changed = conn.prepare_cached(sql)?.execute(params![
        a.system_id,
        a.id,
        a.kind,
        a.url,
        a.credential.as_ref().map(|c| c.sealed.as_str()),
        a.credential.as_ref().map(|c| c.hint.as_str()),
        a.model,
        a.system_prompt,
        a.options,
        a.title,
        a.description,
        a.enabled,
        to_millis(a.created_at),
        to_millis(a.updated_at),
    ])?;
    let done = outcome(changed, mode);
    if done == CatalogWrite::Done {
        bump(conn)?;
    }
    Ok(done)
}

pub(super) fn delete_agent(
    conn: &Connection,
    system_id: &str,
    id: &str,
) -> Result<CatalogWrite, StoreError> {
    let changed = conn
        .prepare_cached("DELETE FROM agents WHERE system_id = ?1 AND id = ?2")?
        .execute(params![system_id, id])?;
    if changed == 0 {
        return Ok(CatalogWrite::NotFound);
    }
    bump(conn)?;
    Ok(CatalogWrite::Done)
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn catalog_version(&self) -> Result<i64, StoreError> {
        self.readers.read(version).await
    }

    async fn load_catalog(&self) -> Result<CatalogRecords, StoreError> {
        self.readers.read(load).await
    }

    async fn put_system(
        &self,
        system: &SystemRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        let system = system.clone();
        self.writer
            .write(move |conn| put_system(conn, &system, mode))
            .await
    }

    async fn delete_system(&self, id: &str) -> Result<CatalogWrite, StoreError> {
        let id = id.to_owned();
        self.writer
            .write(move |conn| delete_system(conn, &id))
            .await
    }

    async fn put_agent(
        &self,
        agent: &AgentRecord,
        mode: PutMode,
    ) -> Result<CatalogWrite, StoreError> {
        let agent = agent.clone();
        self.writer
            .write(move |conn| put_agent(conn, &agent, mode))
            .await
    }

    async fn delete_agent(&self, system_id: &str, id: &str) -> Result<CatalogWrite, StoreError> {
        let (system_id, id) = (system_id.to_owned(), id.to_owned());
        self.writer
            .write(move |conn| delete_agent(conn, &system_id, &id))
            .await
    }
}
