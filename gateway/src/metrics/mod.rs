//! What the gateway counts and times, for `GET /metrics` (Prometheus text
//! format).
//!
//! One registry per process, as Prometheus scrapes a process: every gateway
//! started in it (tests start several) adds to the same series. Recording
//! is a free function, so any module can count without carrying state.
//!
//! Every label has a bounded set of values: route *templates*
//! (`/v1/conversations/{id}`), never raw paths; configured system and agent
//! names, with any other system counted as `other`; upstream kinds;
//! outcomes from a fixed list. No user id, conversation id or token ever
//! becomes a label.
//!
//! The series (all prefixed `chat_gateway_`):
//! - `http_requests_total`, `http_request_duration_seconds` by `route`,
//!   `method`, `status`;
//! - `chat_turns_total` by `system`, `agent`, `upstream`, `outcome`;
//! - `upstream_duration_seconds` (the upstream's whole answer) and
//!   `upstream_first_token_seconds` (streams: until the first text) by
//!   `system`, `agent`, `upstream`;
//! - `turn_overhead_seconds`: a turn's own time in the gateway (its total
//!   minus the upstream's), by `upstream`;
//! - `open_streams` by `door` (`sse`, `websocket`);
//! - `store_write_duration_seconds` by `operation`;
//! - `rate_limited_total` by `kind` ([`rate_limited`]);
//! - `sync_runs_total` by `system`, `outcome`, and
//!   `sync_imported_conversations_total`, `sync_imported_messages_total` by
//!   `system` ([`sync_run`]).

mod labels;
mod streams;

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use self::labels::TurnLabels;
use self::labels::{
    DoorLabels, HttpLabels, KindLabels, OperationLabels, SyncLabels, SystemLabels,
    TurnOutcomeLabels, UpstreamKindLabels,
};
pub use self::streams::{Door, OpenStream};

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The label a system gets when it is not one the configuration names.
pub const OTHER_SYSTEM: &str = "other";

/// The label of a turn for a system's default agent.
pub const DEFAULT_AGENT: &str = "default";

/// Buckets for request, upstream and first-token times: 5 ms to ~82 s.
fn latency_buckets() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.005, 2.0, 15,
    ))
}

/// Buckets for the gateway's own time and store writes: 0.1 ms to ~3.3 s.
fn overhead_buckets() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.0001, 2.0, 16,
    ))
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Histograms<HttpLabels>,
    turns: Family<TurnOutcomeLabels, Counter>,
    upstream_duration: Histograms<TurnLabels>,
    first_token: Histograms<TurnLabels>,
    overhead: Histograms<UpstreamKindLabels>,
    open_streams: Family<DoorLabels, Gauge>,
    store_writes: Histograms<OperationLabels>,
    rate_limited: Family<KindLabels, Counter>,
    sync_runs: Family<SyncLabels, Counter>,
    sync_conversations: Family<SystemLabels, Counter>,
    sync_messages: Family<SystemLabels, Counter>,
    scheduled_sync: Family<KindLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let latency: fn() -> Histogram = latency_buckets;
        let overhead: fn() -> Histogram = overhead_buckets;
        let m = Self {
            registry: Registry::with_prefix("chat_gateway"),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency),
            turns: Family::default(),
            upstream_duration: Family::new_with_constructor(latency),
            first_token: Family::new_with_constructor(latency),
            overhead: Family::new_with_constructor(overhead),
            open_streams: Family::default(),
            store_writes: Family::new_with_constructor(overhead),
            rate_limited: Family::default(),
            sync_runs: Family::default(),
            sync_conversations: Family::default(),
            sync_messages: Family::default(),
            scheduled_sync: Family::default(),
        };
        m.registered()
    }

    fn registered(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            self.http_requests.clone(),
        );
        r.register(
            "http_request_duration_seconds",
            "Time to the response head (streams: until they start)",
            self.http_duration.clone(),
        );
        r.register(
            "chat_turns",
            "Chat turns ended, by system, agent, upstream kind and outcome (complete, failed, stopped, shutdown)",
            self.turns.clone(),
        );
        r.register(
            "upstream_duration_seconds",
            "Time the upstream took for a whole answer",
            self.upstream_duration.clone(),
        );
        r.register(
            "upstream_first_token_seconds",
            "Streamed answers: time until the upstream's first text",
            self.first_token.clone(),
        );
        r.register(
            "turn_overhead_seconds",
            "A turn's own time in the gateway: its total time minus the upstream's",
            self.overhead.clone(),
        );
        r.register(
            "open_streams",
            "Open answer streams, by door (sse, websocket)",
            self.open_streams.clone(),
        );
        r.register(
            "store_write_duration_seconds",
            "Time of the store writes of a turn and of imports",
            self.store_writes.clone(),
        );
        r.register(
            "rate_limited",
            "Requests refused by the gateway's own rate limits, by kind",
            self.rate_limited.clone(),
        );
        r.register(
            "sync_runs",
            "Upstream-history imports, by system and outcome (imported, skipped, failed)",
            self.sync_runs.clone(),
        );
        r.register(
            "sync_imported_conversations",
            "Conversations created or updated by imports",
            self.sync_conversations.clone(),
        );
        r.register(
            "scheduled_sync",
            "This process's scheduled sync (CHAT_GATEWAY_SYNC_EVERY): last_started (Unix \
             seconds), last_duration_seconds, last_users, last_conversations, last_messages, \
             last_errors, rounds_run, rounds_skipped, rounds_failed, total_conversations, \
             total_messages",
            self.scheduled_sync.clone(),
        );
        r.register(
            "sync_imported_messages",
            "Messages added by imports",
            self.sync_messages.clone(),
        );
        self
    }
}

/// Show the scheduled sync's figures (read at each scrape).
pub fn scheduled_sync(stats: &crate::sync::SyncStats) {
    // Counts far below 2^52 are exact in an f64.
    let figures = [
        (
            "last_started",
            stats
                .last_started
                .map_or(0.0, |t| t.unix_timestamp_nanos() as f64 / 1e9),
        ),
        (
            "last_duration_seconds",
            stats.last_duration.map_or(0.0, |d| d.as_secs_f64()),
        ),
        ("last_users", stats.last_users as f64),
        ("last_conversations", stats.last_conversations as f64),
        ("last_messages", stats.last_messages as f64),
        ("last_errors", stats.last_errors as f64),
        ("rounds_run", stats.rounds_run as f64),
        ("rounds_skipped", stats.rounds_skipped as f64),
        ("rounds_failed", stats.rounds_failed as f64),
        ("total_conversations", stats.total_conversations as f64),
        ("total_messages", stats.total_messages as f64),
    ];
    for (kind, value) in figures {
        METRICS
            .scheduled_sync
            .get_or_create(&KindLabels { kind })
            .set(value);
    }
}

/// Every series, in the OpenMetrics text format Prometheus scrapes.
pub fn render() -> String {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &METRICS.registry) {
        tracing::error!(error = %e, "encoding metrics failed");
    }
    out
}

/// One HTTP request answered. `route` is the matched route's template (or
/// a fixed word for requests no route matched).
pub fn http_request(route: &str, method: &str, status: u16, took: Duration) {
    let labels = HttpLabels {
        route: route.to_owned(),
        method: method.to_owned(),
        status,
    };
    METRICS
        .http_duration
        .get_or_create(&labels)
        .observe(took.as_secs_f64());
    METRICS.http_requests.get_or_create(&labels).inc();
}

/// How a chat turn ended, for `chat_turns_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnOutcome {
    /// The whole answer arrived and was stored.
    Complete,
    /// The upstream failed (or the store did).
    Failed,
    /// The client left (or stopped the answer) before its end.
    Stopped,
    /// The gateway's shutdown cut the stream.
    Shutdown,
}

impl TurnOutcome {
    fn label(self) -> &'static str {
        match self {
            TurnOutcome::Complete => "complete",
            TurnOutcome::Failed => "failed",
            TurnOutcome::Stopped => "stopped",
            TurnOutcome::Shutdown => "shutdown",
        }
    }
}

/// Where a turn's time went.
#[derive(Debug, Clone, Copy)]
pub struct TurnTimes {
    /// From the request's arrival at the turn to its stored end.
    pub total: Duration,
    /// Waiting for the upstream (connect to last byte).
    pub upstream: Duration,
    /// Streams: until the upstream's first text, when any came.
    pub first_token: Option<Duration>,
}

/// One chat turn ended.
pub fn turn(labels: &TurnLabels, outcome: TurnOutcome, times: TurnTimes) {
    METRICS
        .turns
        .get_or_create(&TurnOutcomeLabels {
            system: labels.system.clone(),
            agent: labels.agent.clone(),
            upstream: labels.upstream,
            outcome: outcome.label(),
        })
        .inc();
    METRICS
        .upstream_duration
        .get_or_create(labels)
        .observe(times.upstream.as_secs_f64());
    if let Some(first) = times.first_token {
        METRICS
            .first_token
            .get_or_create(labels)
            .observe(first.as_secs_f64());
    }
    METRICS
        .overhead
        .get_or_create(&UpstreamKindLabels {
            upstream: labels.upstream,
        })
        .observe(times.total.saturating_sub(times.upstream).as_secs_f64());
}

/// A store write took `took`. `operation` is a fixed name (`begin_turn`).
pub fn store_write(operation: &'static str, took: Duration) {
    METRICS
        .store_writes
        .get_or_create(&OperationLabels { operation })
        .observe(took.as_secs_f64());
}

/// A request refused by one of the gateway's own rate limits. `kind` is a
/// fixed name of the limit (`chat`, `chat_token`, …), never a caller's id.
pub fn rate_limited(kind: &'static str) {
    METRICS
        .rate_limited
        .get_or_create(&KindLabels { kind })
        .inc();
}

/// How one system's import ended, for `sync_runs_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Imported (possibly nothing new).
    Imported {
        /// Conversations created or updated.
        conversations: u64,
        /// Messages added.
        messages: u64,
    },
    /// The system's upstream keeps no history.
    Skipped,
    /// The upstream or the store failed.
    Failed,
}

/// One import of a system's (or one user's) upstream history ended.
/// `system` must be bounded like [`TurnLabels::new`]'s.
pub fn sync_run(system: &str, outcome: SyncOutcome) {
    let label = match outcome {
        SyncOutcome::Imported { .. } => "imported",
        SyncOutcome::Skipped => "skipped",
        SyncOutcome::Failed => "failed",
    };
    METRICS
        .sync_runs
        .get_or_create(&SyncLabels {
            system: system.to_owned(),
            outcome: label,
        })
        .inc();
    if let SyncOutcome::Imported {
        conversations,
        messages,
    } = outcome
    {
        let system = SystemLabels {
            system: system.to_owned(),
        };
        METRICS
            .sync_conversations
            .get_or_create(&system)
            .inc_by(conversations);
        METRICS
            .sync_messages
            .get_or_create(&system)
            .inc_by(messages);
    }
}
