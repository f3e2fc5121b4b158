//! Reaching the database without changing it (`chat-gateway check`).

use super::StoreError;

/// Connect to `database_url` once, without creating or migrating anything;
/// what was found (server version, schema state).
pub async fn probe(database_url: &str) -> Result<String, StoreError> {
    if database_url.starts_with("sqlite:") {
        super::sqlite::probe::probe(database_url).await
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        super::postgres::probe::probe(database_url).await
    } else {
        Err(StoreError::Unavailable(format!(
            "unsupported database URL scheme in {:?}",
            database_url.split(':').next().unwrap_or_default()
        )))
    }
}

/// The schema's state from applied and known migrations.
pub(super) fn schema_state(applied: i64, known: usize) -> String {
    let known = i64::try_from(known).unwrap_or(i64::MAX);
    match applied {
        0 => "no schema yet: `chat-gateway migrate` or the first start creates it".into(),
        n if n < known => format!(
            "{} migrations to apply: `chat-gateway migrate` or the next start applies them",
            known - n
        ),
        _ => "schema up to date".into(),
    }
}
