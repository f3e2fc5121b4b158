//! The widget's built files (`widget-dist/`, refreshed by `widget/build.sh`),
//! embedded in the crate and served with their content types and cache
//! headers.
//!
//! `widget.js` loads `widget_bg.wasm` from its own folder, so both are
//! served under `/tz-chat/<version>/`, where `<version>` is a digest of the
//! two: a new widget gets new URLs, and the old ones can be cached for a
//! year. The loader (`loader.js`, the file pages name) is rewritten to
//! import that versioned `widget.js` and is cached for a few minutes only.
//! A request for another version (a page that loaded an older loader during
//! a deploy) gets the current files, not cached, rather than a 404.

use std::sync::LazyLock;

use ::axum::Router;
use ::axum::body::{Body, Bytes};
use ::axum::extract::Path;
use ::axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use ::axum::response::{IntoResponse, Response};
use ::axum::routing::get;
use sha2::{Digest, Sha256};

use super::MOUNT;

/// The loader as built; it imports `./widget.js` when the widget is wanted.
const LOADER: &str = include_str!("../../widget-dist/loader.js");
const WIDGET_JS: &[u8] = include_bytes!("../../widget-dist/widget.js");
const WIDGET_WASM: &[u8] = include_bytes!("../../widget-dist/widget_bg.wasm");

/// The loader's import of the widget module, rewritten to the versioned
/// path.
const LOADER_IMPORT: &str = "import(\"./widget.js\")";

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const WASM: &str = "application/wasm";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=300";
const REVALIDATE: &str = "no-cache";

/// One file as served.
struct File {
    body: Bytes,
    content_type: &'static str,
    etag: HeaderValue,
}

impl File {
    fn new(body: Bytes, content_type: &'static str) -> Self {
        let etag = HeaderValue::from_str(&format!("\"{}\"", digest(&[&body])))
            .unwrap_or_else(|_| HeaderValue::from_static("\"\""));
        Self {
            body,
            content_type,
            etag,
        }
    }

    /// The file with `cache_control`, or 304 when the browser's copy (by
    /// `If-None-Match`) is this one.
    fn respond(&self, request: &HeaderMap, cache_control: &'static str) -> Response {
        let fresh = request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| tag.trim() == "*" || tag.trim().as_bytes() == self.etag.as_bytes());
        let headers = [
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(cache_control),
            ),
            (header::ETAG, self.etag.clone()),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ];
        if fresh {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        (
            headers,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            )],
            Body::from(self.body.clone()),
        )
            .into_response()
    }
}

/// The files, prepared once.
struct Assets {
    version: String,
    loader: File,
    widget_js: File,
    widget_wasm: File,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let version = digest(&[WIDGET_JS, WIDGET_WASM]);
    let loader = LOADER.replace(LOADER_IMPORT, &format!("import(\"./{version}/widget.js\")"));
    Assets {
        loader: File::new(Bytes::from(loader), JAVASCRIPT),
        widget_js: File::new(Bytes::from_static(WIDGET_JS), JAVASCRIPT),
        widget_wasm: File::new(Bytes::from_static(WIDGET_WASM), WASM),
        version,
    }
});

/// The first 16 hex digits of the SHA-256 of `parts`, each length-prefixed.
fn digest(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hash.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The version segment of the widget's immutable URLs.
#[cfg(test)]
pub(super) fn version() -> &'static str {
    &ASSETS.version
}

/// The loader as served (importing the versioned widget).
#[cfg(test)]
pub(super) fn loader() -> &'static [u8] {
    &ASSETS.loader.body
}

pub(super) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            &format!("{MOUNT}/loader.js"),
            get(|h: HeaderMap| async move { ASSETS.loader.respond(&h, SHORT) }),
        )
        .route(
            &format!("{MOUNT}/{{file}}"),
            get(|Path(file): Path<String>, h: HeaderMap| async move { stable(&file, &h) }),
        )
        .route(
            &format!("{MOUNT}/{{version}}/{{file}}"),
            get(
                |Path((v, file)): Path<(String, String)>, h: HeaderMap| async move {
                    versioned(&v, &file, &h)
                },
            ),
        )
}

fn widget_file(name: &str) -> Option<&'static File> {
    match name {
        "widget.js" => Some(&ASSETS.widget_js),
        "widget_bg.wasm" => Some(&ASSETS.widget_wasm),
        _ => None,
    }
}

fn stable(name: &str, request: &HeaderMap) -> Response {
    match widget_file(name) {
        Some(file) => file.respond(request, REVALIDATE),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn versioned(version: &str, name: &str, request: &HeaderMap) -> Response {
    let cache = if version == ASSETS.version {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    match widget_file(name) {
        Some(file) => file.respond(request, cache),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
