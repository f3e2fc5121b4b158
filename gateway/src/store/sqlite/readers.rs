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
    /// Idle connections for [`Readers::read`], their pages memory-mapped.
    idle: Mutex<Vec<Connection>>,
    /// Idle connections for [`Readers::read_point`], without memory mapping.
    points: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn pool(path: PathBuf) -> Self {
        Readers::Pool(Arc::new(Pool {
            path,
            idle: Mutex::new(Vec::new()),
            points: Mutex::new(Vec::new()),
        }))
    }

    /// Run `f`, a point read of a few microseconds (one row by its primary
    /// key), on the caller's thread: handing it to a blocking thread would
    /// cost more than the read (two thread wake-ups, each a costly exit to
    /// the hypervisor in a virtual machine). Its connections do not map the
    /// file: a mapped connection remaps it in every read transaction that
    /// finds it grew, which under a steady stream of writes cost more CPU
    /// than the read itself (BENCHMARKS.md, experiment 71).
    pub(super) async fn read_point<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        match self {
            Readers::Writer(writer) => writer.write(f).await,
            Readers::Pool(pool) => pool.run(&pool.points, 0, f),
        }
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
                tokio::task::spawn_blocking(move || pool.run(&pool.idle, super::MMAP_BYTES, f))
                    .await
                    .map_err(|e| StoreError::Query(format!("a read panicked: {e}")))?
            }
        }
    }
}

impl Pool {
    /// Run `f` on a connection of `idle` (a new one mapping `mmap_bytes`
    /// when none is idle), and give the connection back.
    fn run<T>(
        &self,
        idle: &Mutex<Vec<Connection>>,
        mmap_bytes: i64,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.take(idle, mmap_bytes)?;
        let result = f(&conn);
        Self::put(idle, conn);
        result
    }

    /// An idle connection of `idle`, or a new one mapping `mmap_bytes`.
    fn take(
        &self,
        idle: &Mutex<Vec<Connection>>,
        mmap_bytes: i64,
    ) -> Result<Connection, StoreError> {
        let reused = idle
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
                conn.pragma_update(None, "mmap_size", mmap_bytes)?;
                Ok(conn)
            }
        }
    }

    fn put(idle: &Mutex<Vec<Connection>>, conn: Connection) {
        let mut idle = idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}
