//! What every request leaves behind: its id (accepted from `x-request-id`
//! or made, and echoed), its trace context, its log span, and its line in
//! the HTTP metrics.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::request_id::{self, RequestId};
use crate::trace_context::Incoming;

/// Outermost: give the request its id and trace context for its whole
/// handling, and echo the id in the response.
pub(super) async fn identify(mut req: Request, next: Next) -> Response {
    let id = RequestId::accept_or_make(
        req.headers()
            .get(request_id::HEADER)
            .map(HeaderValue::as_bytes),
    );
    req.extensions_mut().insert(id.clone());
    let incoming = Incoming::from_headers(req.headers());
    let mut resp = id.clone().scope(incoming.scope(next.run(req))).await;
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        resp.headers_mut().insert(request_id::HEADER, value);
    }
    resp
}

/// The span every log line of the request is written in: method, path
/// (never the query string, which may carry a chat token) and request id.
/// With `otel` it continues the trace the request names.
pub(super) fn span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .map_or("", RequestId::as_str);
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
    );
    #[cfg(feature = "otel")]
    crate::logs::otel::continue_trace(&span, req.headers());
    span
}

/// Count and time the request by its route's template.
pub(super) async fn count(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status();
    let route = route.unwrap_or_else(|| {
        if status == StatusCode::NOT_FOUND {
            "unmatched".to_owned()
        } else {
            "other".to_owned()
        }
    });
    crate::metrics::http_request(&route, method, status.as_u16(), started.elapsed());
    resp
}

/// Standard methods by name; anything else (any string is a valid method)
/// as `other`, to keep the label set bounded.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
