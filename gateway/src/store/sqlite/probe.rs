//! `chat-gateway check` on SQLite: can the database be opened, without
//! creating or migrating it.

use std::str::FromStr as _;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use super::Location;
use crate::store::StoreError;

pub(crate) async fn probe(url: &str) -> Result<String, StoreError> {
    let location = Location::parse(url)?;
    let Some(file) = location.file else {
        return Ok("SQLite in memory (nothing is kept after a stop)".into());
    };
    if !file.exists() {
        let dir = match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        return if dir.is_dir() {
            Ok(format!(
                "SQLite file {} does not exist yet; created at first start",
                file.display()
            ))
        } else {
            Err(StoreError::Unavailable(format!(
                "SQLite file {}: its folder {} does not exist",
                file.display(),
                dir.display()
            )))
        };
    }
    let mut conn = SqliteConnectOptions::from_str("sqlite:")?
        .filename(&file)
        .read_only(true)
        .connect()
        .await?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await?;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0);
    conn.close().await?;
    Ok(format!(
        "SQLite {version}, file {} ({})",
        file.display(),
        super::super::probe::schema_state(
            applied,
            sqlx::migrate!("migrations/sqlite").iter().count()
        )
    ))
}
