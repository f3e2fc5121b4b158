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
