//! The single SQLite writer, with group commit and no thread hand-off when
//! the gateway is quiet.
//!
//! SQLite allows one writer at a time. Whoever finds the connection free
//! becomes the *leader*: it runs its own write at once, on its own thread.
//! Writes that arrive meanwhile wait in a queue; before giving the
//! connection back, the leader runs everything queued — each job in a
//! savepoint of one transaction, with one commit for the batch — and only
//! then answers those callers. So:
//! - a caller hears "stored" only after its rows are committed, and a failing
//!   job rolls back only its own savepoint;
//! - when quiet, a write costs no wake-up of another thread (in a virtual
//!   machine each one is a costly exit to the hypervisor);
//! - under load, one commit serves many turns.
//!
//! A leader on an async worker gives up that worker after a few rounds and
//! continues on a blocking thread, so one busy burst cannot stall the other
//! requests scheduled there. With `synchronous=FULL` every commit waits for
//! the disk, so leaders always run on blocking threads.
//!
//! Resetting the WAL (a `RESTART` checkpoint, asked for by the checkpoint
//! thread when the WAL grows) is done here too, between batches, on a
//! blocking thread: as the only writer this connection never has to wait in
//! SQLite's busy loop for it, and no request's own task carries it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::StoreError;

/// Batches a leader runs on an async worker before moving to a blocking thread.
const INLINE_ROUNDS: usize = 4;

/// Called after the commit: `None` when it succeeded.
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// A write: runs on the connection, returns how to answer its caller.
type Job = Box<dyn FnOnce(&mut Connection) -> Completion + Send>;

/// Handle to the writer. Cloning shares it.
#[derive(Clone)]
pub(super) struct Writer {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Whether leaders may run on async workers (commits do not `fsync`).
    inline: bool,
    /// The WAL should be reset before the next batch.
    restart_wal: AtomicBool,
    /// Batches run so far (tests check that writes are grouped).
    #[cfg(test)]
    batches: std::sync::atomic::AtomicUsize,
}

struct State {
    /// The connection, when no leader holds it.
    conn: Option<Connection>,
    /// Jobs waiting for the current leader.
    queue: Vec<Job>,
}

impl Writer {
    /// A writer on `conn`. `commits_fsync`: every commit waits for the disk.
    pub(super) fn new(conn: Connection, commits_fsync: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    conn: Some(conn),
                    queue: Vec::new(),
                }),
                inline: !commits_fsync,
                restart_wal: AtomicBool::new(false),
                #[cfg(test)]
                batches: std::sync::atomic::AtomicUsize::new(0),
            }),
        }
    }

    /// Ask for a WAL reset between two batches.
    pub(super) fn request_wal_restart(&self) {
        self.inner.restart_wal.store(true, Ordering::Relaxed);
    }

    /// Run `f` in a transaction; resolves once it is committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = in_savepoint(conn, f);
            Box::new(move |commit: Option<&StoreError>| {
                let result = match (result, commit) {
                    (Ok(value), None) => Ok(value),
                    (Ok(_), Some(failed)) => Err(failed.clone()),
                    (Err(e), _) => Err(e),
                };
                let _ = done.send(result);
            })
        });
        let leader = {
            let mut state = self.inner.lock();
            match state.conn.take() {
                Some(conn) => Some((conn, job)),
                None => {
                    state.queue.push(job);
                    None
                }
            }
        };
        if let Some((conn, job)) = leader {
            self.lead(conn, vec![job]);
        }
        answer.await.map_err(|_| {
            StoreError::Unavailable("the SQLite writer stopped before committing".into())
        })?
    }

    /// Run `batch` and whatever queues up meanwhile, then free the connection.
    fn lead(&self, mut conn: Connection, mut batch: Vec<Job>) {
        if self.inner.inline {
            for _ in 0..INLINE_ROUNDS {
                self.run(&mut conn, &mut batch);
                if self.inner.restart_wal.load(Ordering::Relaxed) {
                    break;
                }
                match self.next_batch(conn) {
                    Some((c, next)) => (conn, batch) = (c, next),
                    None => return,
                }
            }
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let (mut conn, mut batch) = (conn, batch);
            loop {
                this.run(&mut conn, &mut batch);
                if this.inner.restart_wal.swap(false, Ordering::Relaxed)
                    && let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(RESTART)")
                {
                    tracing::warn!(error = %e, "WAL restart failed");
                }
                match this.next_batch(conn) {
                    Some((c, next)) => (conn, batch) = (c, next),
                    None => return,
                }
            }
        });
    }

    fn run(&self, conn: &mut Connection, batch: &mut Vec<Job>) {
        #[cfg(test)]
        if !batch.is_empty() {
            self.inner.batches.fetch_add(1, Ordering::Relaxed);
        }
        run_batch(conn, batch);
    }

    /// Batches run so far.
    #[cfg(test)]
    pub(super) fn batches(&self) -> usize {
        self.inner.batches.load(Ordering::Relaxed)
    }

    /// Writes waiting for the current leader.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// The queued jobs (possibly none, when a WAL reset is pending), or
    /// `None` after giving the connection back.
    fn next_batch(&self, conn: Connection) -> Option<(Connection, Vec<Job>)> {
        let mut state = self.inner.lock();
        if state.queue.is_empty() && !self.inner.restart_wal.load(Ordering::Relaxed) {
            state.conn = Some(conn);
            None
        } else {
            Some((conn, std::mem::take(&mut state.queue)))
        }
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Run every job of `batch` in one transaction, commit, answer each caller.
fn run_batch(conn: &mut Connection, batch: &mut Vec<Job>) {
    if batch.is_empty() {
        return;
    }
    // Without the outer transaction (it could not begin), each job's
    // savepoint is a transaction of its own: still correct, only slower.
    let in_transaction = conn.execute_batch("BEGIN IMMEDIATE").is_ok();
    let completions: Vec<Completion> = batch.drain(..).map(|job| job(conn)).collect();
    let failed = if in_transaction {
        conn.execute_batch("COMMIT").err().map(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            StoreError::from(e)
        })
    } else {
        None
    };
    for complete in completions {
        complete(failed.as_ref());
    }
}

/// Run `f` in a savepoint: on error only its own writes are undone.
fn in_savepoint<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let savepoint = conn.savepoint().map_err(StoreError::from)?;
    let result = f(&savepoint);
    match result {
        Ok(value) => {
            savepoint.commit().map_err(StoreError::from)?;
            Ok(value)
        }
        // Dropping the savepoint rolls it back.
        Err(e) => Err(e),
    }
}
