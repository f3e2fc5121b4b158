//! Where log lines go and how they look: one JSON object per line
//! (production's default: `CHAT_GATEWAY_LOG_FORMAT=json`) or text for people
//! (development's default: `pretty`), filtered by `RUST_LOG`.
//!
//! Every line written while a request is handled carries its `request_id`
//! (a field of the `request` span, see `routes`). No line carries a query
//! string, a header value or a database password: the request span records
//! the path only, and the database URL is printed redacted.
//!
//! With the `otel` feature, spans are also exported as OpenTelemetry traces
//! over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`otel.rs`).

#[cfg(feature = "otel")]
pub mod otel;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is unset.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

/// What must live until the process ends for logs and traces to be
/// complete; dropping it flushes the traces not yet exported.
#[derive(Debug)]
#[must_use = "dropping it ends trace export"]
pub struct LogGuard {
    #[cfg(feature = "otel")]
    _traces: otel::Traces,
}

/// Install the process's logger (and trace exporter, with `otel`).
pub fn init(format: LogFormat) -> anyhow::Result<LogGuard> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let lines = layer(format, std::io::stderr).with_filter(filter);
    #[cfg(feature = "otel")]
    {
        let traces = otel::Traces::from_env()?;
        tracing_subscriber::registry()
            .with(lines)
            .with(traces.layer())
            .try_init()?;
        Ok(LogGuard { _traces: traces })
    }
    #[cfg(not(feature = "otel"))]
    {
        tracing_subscriber::registry().with(lines).try_init()?;
        Ok(LogGuard {})
    }
}

/// The layer writing log lines in `format` to `writer` (tests hand their
/// own writer to read the lines back).
pub fn layer<S, W>(format: LogFormat, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_writer(writer).boxed(),
    }
}
