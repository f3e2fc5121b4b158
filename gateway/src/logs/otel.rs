//! OpenTelemetry traces over OTLP/HTTP (protobuf), configured by the
//! standard `OTEL_EXPORTER_OTLP_ENDPOINT` (and the exporter's other
//! `OTEL_EXPORTER_OTLP_*` variables), as service `chat-gateway`. Without
//! an endpoint nothing is exported, but spans still get trace and span ids,
//! so `traceparent` still reaches upstreams.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// The exporter's variable naming the collector.
pub const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The tracer provider; dropping it flushes what is left.
#[derive(Debug)]
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Traces exported to `OTEL_EXPORTER_OTLP_ENDPOINT` when it is set,
    /// else kept in the process ([`Self::local`]).
    pub fn from_env() -> anyhow::Result<Self> {
        if std::env::var_os(ENDPOINT).is_none_or(|v| v.is_empty()) {
            return Ok(Self::local());
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                opentelemetry_sdk::Resource::builder()
                    .with_service_name("chat-gateway")
                    .build(),
            )
            .build();
        Ok(Self { provider })
    }

    /// Spans with trace and span ids, exported nowhere: requests still
    /// continue their callers' traces and pass them to upstreams.
    pub fn local() -> Self {
        Self {
            provider: SdkTracerProvider::builder().build(),
        }
    }

    /// The layer turning `tracing` spans into OpenTelemetry spans.
    pub fn layer<S>(&self) -> Box<dyn Layer<S> + Send + Sync>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("chat-gateway"))
            .boxed()
    }
}

impl Drop for Traces {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "flushing traces failed");
        }
    }
}

struct HeadersIn<'a>(&'a HeaderMap);

impl Extractor for HeadersIn<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeadersOut<'a>(&'a mut HeaderMap);

impl Injector for HeadersOut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Make `span` continue the trace the request's headers name, if any.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    let parent = TraceContextPropagator::new().extract(&HeadersIn(headers));
    let _ = span.set_parent(parent);
}

/// Add the current span's `traceparent` (and `tracestate`) to `headers`.
pub fn inject_current(headers: &mut HeaderMap) {
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut HeadersOut(headers));
}
