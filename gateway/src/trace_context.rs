//! W3C trace context (`traceparent`, `tracestate`) from a client's request
//! to the upstream calls it causes.
//!
//! With the `otel` feature the gateway takes part in the trace: the
//! request's span continues the incoming trace, and upstream calls carry a
//! `traceparent` naming the gateway's span (same trace id, the gateway's
//! span id). Without it the gateway is transparent: a valid incoming
//! `traceparent` (and its `tracestate`) is passed to the upstream as it
//! came, so a traced client and a traced upstream still meet in one trace,
//! with the gateway's time inside the client's span. A malformed header is
//! dropped, never forwarded.
//!
//! Only calls made while the request is being handled carry it (the
//! blocking and streamed answers of `/v1/chat` and the OpenAI-compatible
//! door); a WebSocket's turns and background work start none.

use std::future::Future;

use axum::http::HeaderMap;

/// The W3C header naming the caller's span.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C header with vendors' extra trace state.
pub const TRACESTATE: &str = "tracestate";

/// Longest `tracestate` passed on (the W3C limit is 32 entries of at most
/// 256 bytes each; 512 bytes is what the spec requires keeping).
const MAX_TRACESTATE: usize = 512;

/// The trace context a request came with, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incoming {
    traceparent: Option<String>,
    tracestate: Option<String>,
}

tokio::task_local! {
    static INCOMING: Incoming;
}

impl Incoming {
    /// The well-formed trace headers of a request (a malformed
    /// `traceparent` voids both).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let Some(traceparent) = text(TRACEPARENT).filter(|v| is_traceparent(v)) else {
            return Self::default();
        };
        let tracestate = text(TRACESTATE)
            .filter(|v| {
                v.len() <= MAX_TRACESTATE && v.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            })
            .map(str::to_owned);
        Self {
            traceparent: Some(traceparent.to_owned()),
            tracestate,
        }
    }

    /// Run `work` with this context as the request's.
    pub fn scope<F: Future>(self, work: F) -> impl Future<Output = F::Output> {
        INCOMING.scope(self, work)
    }

    /// The incoming `traceparent`, if well formed.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }
}

/// Whether `value` is a `traceparent` of version 00: `00-` 32 hex digits
/// (not all zero) `-` 16 hex digits (not all zero) `-` 2 hex digits, lower
/// case.
pub fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    matches!(parts.as_slice(), [version, trace, parent, flags]
        if *version == "00"
            && hex(trace, 32) && nonzero(trace)
            && hex(parent, 16) && nonzero(parent)
            && hex(flags, 2))
}

/// The trace headers an upstream call made now should carry.
pub fn outgoing() -> HeaderMap {
    let mut out = HeaderMap::new();
    #[cfg(feature = "otel")]
    crate::logs::otel::inject_current(&mut out);
    #[cfg(not(feature = "otel"))]
    {
        let _ = INCOMING.try_with(|incoming| {
            for (name, value) in [
                (TRACEPARENT, &incoming.traceparent),
                (TRACESTATE, &incoming.tracestate),
            ] {
                if let Some(value) = value
                    && let Ok(value) = axum::http::HeaderValue::from_str(value)
                {
                    out.insert(name, value);
                }
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn only_well_formed_traceparents_are_accepted() {
        assert!(is_traceparent(GOOD));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            assert!(!is_traceparent(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_malformed_traceparent_voids_the_tracestate() {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_static("garbage"));
        headers.insert(TRACESTATE, HeaderValue::from_static("vendor=1"));
        assert_eq!(Incoming::from_headers(&headers), Incoming::default());
        headers.insert(TRACEPARENT, HeaderValue::from_static(GOOD));
        let incoming = Incoming::from_headers(&headers);
        assert_eq!(incoming.traceparent(), Some(GOOD));
        assert_eq!(incoming.tracestate.as_deref(), Some("vendor=1"));
    }

    #[cfg(not(feature = "otel"))]
    #[tokio::test]
    async fn without_otel_the_incoming_context_passes_through() {
        assert!(outgoing().is_empty(), "nothing outside a request");
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_static(GOOD));
        let out = Incoming::from_headers(&headers)
            .scope(async { outgoing() })
            .await;
        assert_eq!(
            out.get(TRACEPARENT).and_then(|v| v.to_str().ok()),
            Some(GOOD)
        );
        assert!(out.get(TRACESTATE).is_none());
    }
}
