//! Reads, on a small pool of read-only connections used from blocking
//! threads. In WAL mode readers never wait for the writer and always see the
//! last committed state.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

use super::writer::Writer;
use crate::store::StoreError;

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 8;

/// Where reads run.
#[derive(Clone)]
pub(super) enum Readers {
    /// Read-only connections to a database file.
    Pool(Arc<Pool>),
    /// An in-memory database exists only in the writer's connection: reads
    /// are queued there too.
    Writer(Writer),
}

pub(super) struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn pool(path: PathBuf) -> Self {
        Readers::Pool(Arc::new(Pool {
            path,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// Run `f` on a reading connection.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        match self {
            Readers::Writer(writer) => writer.write(f).await,
            Readers::Pool(pool) => {
                let pool = pool.clone();
                tokio::task::spawn_blocking(move || {
                    let conn = pool.take()?;
                    let result = f(&conn);
                    pool.put(conn);
                    result
                })
                .await
                .map_err(|e| StoreError::Query(format!("a read panicked: {e}")))?
            }
        }
    }
}

impl Pool {
    fn take(&self) -> Result<Connection, StoreError> {
        let reused = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match reused {
            Some(conn) => Ok(conn),
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn.pragma_update(None, "mmap_size", super::MMAP_BYTES)?;
                Ok(conn)
            }
        }
    }

    fn put(&self, conn: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}
