//! Limits on a request's target and headers, answered in the JSON error
//! shape. The HTTP parser has looser limits of its own (see `server`), so
//! ordinary oversized requests meet these first.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Longest request target (path and query), in bytes.
pub(super) const MAX_URI_BYTES: usize = 8 * 1024;
/// Most request headers.
pub(super) const MAX_HEADERS: usize = 100;
/// Most bytes of header names and values together.
pub(super) const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuse a request whose target or headers exceed the limits.
pub(super) async fn check(req: Request, next: Next) -> Response {
    let uri_bytes = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return ApiError::UriTooLong {
            limit: MAX_URI_BYTES,
        }
        .into_response();
    }
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge {
            count: MAX_HEADERS,
            bytes: MAX_HEADER_BYTES,
        }
        .into_response();
    }
    next.run(req).await
}
