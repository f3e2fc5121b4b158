//! The one thread that writes to SQLite, with group commit.
//!
//! Every write is a job sent to this thread. The thread takes whatever jobs
//! are waiting (one, when the gateway is quiet; dozens under load), runs each
//! in a savepoint of one transaction, commits once, and only then answers
//! each job's caller. So a caller is told "stored" only after its rows are
//! committed, a failing job rolls back only its own savepoint, and one commit
//! (the expensive part) serves the whole batch. SQLite allows one writer at a
//! time anyway; a single thread turns that into a queue instead of lock
//! contention.

use std::thread;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::store::StoreError;

/// Most jobs in one transaction.
const MAX_BATCH: usize = 256;
/// Jobs waiting beyond this make callers wait (backpressure).
const QUEUE: usize = 4096;

/// Called after the commit: `None` when it succeeded.
type Completion = Box<dyn FnOnce(Option<&StoreError>) + Send>;
/// A write: runs on the writer's connection, returns how to answer its caller.
type Job = Box<dyn FnOnce(&mut Connection) -> Completion + Send>;

/// Handle to the writer thread. Cloning shares the thread.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Start the writer thread on `conn`.
    pub(super) fn start(conn: Connection) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, queue))?;
        Ok(Self { jobs })
    }

    /// Run `f` in the next transaction; resolves once it is committed.
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
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the SQLite writer has stopped".into())
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

fn run(mut conn: Connection, mut queue: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Without the outer transaction (it could not begin), each job's
        // savepoint is a transaction of its own: still correct, only slower.
        let in_transaction = conn.execute_batch("BEGIN IMMEDIATE").is_ok();
        let completions: Vec<Completion> = batch.drain(..).map(|job| job(&mut conn)).collect();
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
}
