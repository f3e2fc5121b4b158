//! What an operator watches: `/metrics` read back with a Prometheus text
//! parser as requests flow, JSON log lines with the request id and without
//! secrets, and the trace context handed to the upstream.
//!
//! A test binary of its own: the metrics registry is one per process, so
//! the series these tests read are moved by these tests only.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod logs;
mod metrics;
mod scrape;
mod traces;

/// Keeps every `tracing` callsite alive for the whole process.
///
/// `tracing` caches a callsite's interest process-wide, decided on the
/// thread that reaches it first. A sibling test running on a thread with no
/// subscriber would cache "never" for, say, the upstream-failure warning,
/// and the subscriber a test sets for its own thread would then never see
/// it. A global registry without layers is interested in everything and
/// writes nothing, so no thread decides "never"; each test's own subscriber
/// still filters what it records.
pub(crate) fn keep_callsites_alive() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Nothing else in this test binary sets a global subscriber.
        tracing::subscriber::set_global_default(tracing_subscriber::registry()).unwrap();
    });
}
