//! The transcript archive (`CHAT_GATEWAY_ARCHIVE_URL=s3://bucket/prefix`):
//! a copy of every finished turn in S3-compatible storage, for quality
//! review outside the gateway.
//!
//! **What is archived.** A turn is *finished* when its outcome is stored
//! (`crate::chat`'s `finish`): a complete answer, a cut one (`incomplete`),
//! or a failure. Each finished turn becomes one JSON line ([`ArchivedTurn`]):
//! the question and the answer with their ids, status and time. A
//! conversation is therefore archived turn by turn as it goes on; readers
//! join lines by `conversation_id`.
//!
//! **Where.** Lines are grouped by system and UTC day of the turn's end, and
//! each batch is one new object:
//! `prefix/system=<system>/date=<YYYY-MM-DD>/<uuid v7>.jsonl` (objects are
//! never rewritten; UUID v7 names sort by time).
//!
//! **How.** [`Archive::record`] only queues (it never waits, so a turn is
//! never slowed); a background writer uploads a batch every
//! [`FLUSH_EVERY`] or once [`BATCH_MAX`] lines are waiting. A failed upload
//! is retried (by the S3 client, then again at later flushes with a growing
//! pause) and its lines kept meanwhile. [`Archive::close`], called when the
//! gateway stops, uploads everything still queued. Lines are lost only when
//! the queue overflows ([`QUEUE`] lines waiting: storage down for long) or
//! the process is killed; both are logged.

mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::{BackoffConfig, ObjectStore, RetryConfig};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::ArchiveSettings;

/// Longest time a finished turn waits in memory before its batch is
/// uploaded.
pub const FLUSH_EVERY: Duration = Duration::from_secs(10);
/// Most lines in one object; a full batch is uploaded at once.
pub const BATCH_MAX: usize = 1000;
/// Most lines waiting for upload; beyond that new lines are dropped (and
/// counted) rather than holding memory without bound.
pub const QUEUE: usize = 50_000;

/// One finished turn, as one JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchivedTurn {
    pub conversation_id: String,
    pub system_id: String,
    pub user_id: String,
    /// The agent the conversation is bound to, if any.
    pub agent: Option<String>,
    /// Which kind of upstream answered (`dify`, `n8n`, `openai`, `demo`).
    pub upstream: String,
    pub question_id: String,
    pub question: String,
    /// `None` when no answer arrived.
    pub answer_id: Option<String>,
    pub answer: String,
    /// `complete`, `incomplete` or `failed`.
    pub status: String,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
}

/// Counts of the archive's work so far.
#[derive(Debug, Default)]
pub struct ArchiveCounters {
    /// Lines uploaded.
    pub written: AtomicU64,
    /// Lines dropped because the queue was full or the last upload at
    /// shutdown failed.
    pub dropped: AtomicU64,
    /// Uploads that failed (and were retried later).
    pub failed_uploads: AtomicU64,
}

/// Why the archive could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The S3 client refused the settings.
    #[error("CHAT_GATEWAY_ARCHIVE_URL: {0}")]
    Settings(#[from] object_store::Error),
    /// Built outside a Tokio runtime.
    #[error("the transcript archive needs a Tokio runtime")]
    NoRuntime,
}

/// Handle on the archive writer. Cheap to clone.
#[derive(Clone)]
pub struct Archive {
    tx: mpsc::Sender<ArchivedTurn>,
    stop: CancellationToken,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
    counters: Arc<ArchiveCounters>,
    url: Arc<str>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive").field("url", &self.url).finish()
    }
}

impl Archive {
    /// Start the writer for `settings` (needs a Tokio runtime).
    pub fn start(settings: &ArchiveSettings) -> Result<Self, ArchiveError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ArchiveError::NoRuntime)?;
        let store: Arc<dyn ObjectStore> = Arc::new(s3(settings)?);
        let (tx, rx) = mpsc::channel(QUEUE);
        let stop = CancellationToken::new();
        let counters = Arc::new(ArchiveCounters::default());
        let writer = runtime.spawn(writer::run(
            store,
            settings.prefix.clone(),
            rx,
            stop.clone(),
            counters.clone(),
        ));
        tracing::info!(url = %settings.url(), "transcript archive on");
        Ok(Self {
            tx,
            stop,
            writer: Arc::new(Mutex::new(Some(writer))),
            counters,
            url: settings.url().into(),
        })
    }

    /// Queue a finished turn. Never waits; a full queue drops the line (and
    /// says so in the log).
    pub fn record(&self, turn: ArchivedTurn) {
        if let Err(e) = self.tx.try_send(turn) {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::error!(url = %self.url, reason = %e, "transcript archive: a finished turn was dropped");
        }
    }

    /// Upload everything queued, then stop the writer. Later
    /// [`record`](Self::record)s are dropped.
    pub async fn close(&self) {
        self.stop.cancel();
        let writer = self.writer.lock().await.take();
        if let Some(writer) = writer
            && let Err(e) = writer.await
        {
            tracing::error!(error = %e, "transcript archive writer crashed");
        }
    }

    /// What the writer did so far.
    pub fn counters(&self) -> &ArchiveCounters {
        &self.counters
    }
}

/// The S3 client for `settings`. Its own retries are few and short: a
/// batch that still fails is kept and tried again at the next flush.
fn s3(settings: &ArchiveSettings) -> Result<object_store::aws::AmazonS3, object_store::Error> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&settings.bucket)
        .with_region(&settings.region)
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
        });
    if let Some(endpoint) = &settings.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret);
    }
    if let Some(token) = &settings.session_token {
        builder = builder.with_token(token);
    }
    builder.build()
}
