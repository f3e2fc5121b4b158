//! Open answer streams, counted while they live.

use prometheus_client::metrics::gauge::Gauge;

use super::METRICS;
use super::labels::DoorLabels;

/// Where an answer stream is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Server-sent events (`/v1/chat`, the OpenAI-compatible door).
    Sse,
    /// A WebSocket.
    WebSocket,
}

/// Counts one open stream in `open_streams` while it lives.
#[derive(Debug)]
pub struct OpenStream {
    door: Door,
}

impl OpenStream {
    /// Count a stream that just opened; dropping the value counts it closed.
    pub fn open(door: Door) -> Self {
        gauge(door).inc();
        Self { door }
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        gauge(self.door).dec();
    }
}

fn gauge(door: Door) -> Gauge {
    let door = match door {
        Door::Sse => "sse",
        Door::WebSocket => "websocket",
    };
    METRICS
        .open_streams
        .get_or_create(&DoorLabels { door })
        .clone()
}
