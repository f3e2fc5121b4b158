//! The trace context a request names reaches the upstream it causes.

use serde_json::json;
use testkit::TestGateway;
use testkit::test_gateway::API_KEY;

const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// The `traceparent` the fake Dify received for one chat sent with
/// `traceparent` (if any).
async fn upstream_traceparent(traceparent: Option<&str>) -> Option<String> {
    let gw = TestGateway::builder().start().await.unwrap();
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/chat", gw.url()))
        .header("x-api-key", API_KEY)
        .json(&json!({"system_id": "traced", "user_id": "u", "message": "Hi"}));
    if let Some(value) = traceparent {
        req = req.header("traceparent", value);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let chats = gw.fake().unwrap().chats();
    assert_eq!(chats.len(), 1);
    chats[0].traceparent.clone()
}

/// With `otel` the gateway's span joins the trace: the upstream sees the
/// same trace id with the gateway's span as parent.
#[cfg(feature = "otel")]
#[tokio::test(flavor = "current_thread")]
async fn the_upstream_continues_the_incoming_trace() {
    use tracing_subscriber::layer::SubscriberExt as _;
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    crate::keep_callsites_alive();
    let traces = gateway::logs::otel::Traces::local();
    let subscriber = tracing_subscriber::registry().with(traces.layer());
    let _guard = tracing::subscriber::set_default(subscriber);
    let sent = upstream_traceparent(Some(INCOMING)).await.unwrap();
    let parts: Vec<&str> = sent.split('-').collect();
    assert_eq!(parts.len(), 4, "{sent}");
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], TRACE_ID, "same trace: {sent}");
    assert_ne!(
        parts[2], "00f067aa0ba902b7",
        "the gateway's own span: {sent}"
    );
    assert_eq!(parts[3], "01", "still sampled: {sent}");
}

/// Without `otel` the gateway is transparent: the incoming header goes on
/// as it came.
#[cfg(not(feature = "otel"))]
#[tokio::test]
async fn the_incoming_traceparent_passes_through() {
    assert_eq!(
        upstream_traceparent(Some(INCOMING)).await.as_deref(),
        Some(INCOMING)
    );
}

/// A malformed `traceparent` is dropped, not forwarded; a request without
/// one (and no trace of the gateway's own) sends none.
#[tokio::test]
async fn a_malformed_traceparent_is_not_forwarded() {
    assert_eq!(upstream_traceparent(Some("00-not-a-trace-01")).await, None);
    assert_eq!(upstream_traceparent(None).await, None);
}
