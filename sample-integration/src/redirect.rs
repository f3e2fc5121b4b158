//! Where the site sends a browser next: `303 See Other` answers, and the
//! check that a `next` address stays on this site.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A `303 See Other` to `location` (a path of this site, or a chat URL the
/// SDK built), never cached.
pub(crate) fn see_other(location: &str) -> Response {
    let location =
        HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// Whether `path` stays on this site (`/x`, not `//host` or `/\host`).
pub(crate) fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_site() {
        assert!(is_local_path("/cointutor"));
        assert!(is_local_path("/drillquiz?lang=ko"));
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "",
            "/x\ny",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }
}
