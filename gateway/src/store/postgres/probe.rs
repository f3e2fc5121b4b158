//! `chat-gateway check` on PostgreSQL: connect once, without migrating.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _};

use crate::store::StoreError;

/// Longest wait for the database to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn probe(url: &str) -> Result<String, StoreError> {
    let options = PgConnectOptions::from_str(url)?.application_name("tz-chat-gateway check");
    let work = async {
        let mut conn = options.connect().await?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await?;
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut conn)
                .await
                .unwrap_or(0);
        conn.close().await?;
        Ok::<_, StoreError>((version, applied))
    };
    let (version, applied) = tokio::time::timeout(PROBE_TIMEOUT, work)
        .await
        .map_err(|_| {
            StoreError::Unavailable(format!(
                "no answer from PostgreSQL within {PROBE_TIMEOUT:?}"
            ))
        })??;
    Ok(format!(
        "PostgreSQL {version} ({})",
        super::super::probe::schema_state(
            applied,
            sqlx::migrate!("migrations/postgres").iter().count()
        )
    ))
}
