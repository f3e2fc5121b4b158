//! The chat page's static files, compiled into the binary and served under
//! names that contain a hash of their content (`/assets/chat.1a2b….js`), so
//! browsers may cache them for a year: a changed file gets a new name, and
//! the HTML that names it is never cached.
//!
//! The script is written as several files (one per concern, each wrapped in
//! its own function scope) and served as one, in the order listed here.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The page script: SSE decoding, API calls, the parent-window bridge, the
/// DOM views, dialogs and panels, and the controller that ties them
/// together (last, as it uses the others).
const SCRIPT: &str = concat!(
    include_str!("../../assets/js/sse.js"),
    "\n",
    include_str!("../../assets/js/api.js"),
    "\n",
    include_str!("../../assets/js/bridge.js"),
    "\n",
    include_str!("../../assets/js/view.js"),
    "\n",
    include_str!("../../assets/js/dialogs.js"),
    "\n",
    include_str!("../../assets/js/panels.js"),
    "\n",
    include_str!("../../assets/js/app.js"),
);
const STYLE: &str = include_str!("../../assets/chat.css");
const ICON: &str = include_str!("../../assets/icon.svg");

/// One embedded file.
struct Asset {
    /// Name under `/assets/`, with the content hash.
    file: String,
    body: &'static str,
    content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Self {
            file: format!("{stem}.{hash}.{ext}"),
            body,
            content_type,
        }
    }

    fn path(&self) -> String {
        format!("/assets/{}", self.file)
    }
}

static ASSETS: LazyLock<[Asset; 3]> = LazyLock::new(|| {
    [
        Asset::new("chat", "js", SCRIPT, "text/javascript; charset=utf-8"),
        Asset::new("chat", "css", STYLE, "text/css; charset=utf-8"),
        Asset::new("icon", "svg", ICON, "image/svg+xml"),
    ]
});

/// Where the pages find their assets (paths for templates).
#[derive(Debug, Clone, Serialize)]
pub(super) struct AssetPaths {
    /// The script.
    pub(super) js: String,
    /// The style sheet.
    pub(super) css: String,
    /// The favicon.
    pub(super) icon: String,
}

/// The current asset paths.
pub(super) fn paths() -> AssetPaths {
    let [js, css, icon] = &*ASSETS;
    AssetPaths {
        js: js.path(),
        css: css.path(),
        icon: icon.path(),
    }
}

/// `GET /assets/{file}`.
pub(super) async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.file == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            "Not found",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_content_hash() {
        let p = paths();
        assert!(
            p.js.starts_with("/assets/chat.") && p.js.ends_with(".js"),
            "{}",
            p.js
        );
        assert_eq!(p.js.len(), "/assets/chat.".len() + 12 + ".js".len());
        assert_ne!(
            Asset::new("a", "js", "one", "t").file,
            Asset::new("a", "js", "two", "t").file
        );
    }

    #[test]
    fn script_loads_nothing_remote_and_evaluates_no_strings() {
        // The SVG namespace is a name, not an address that is fetched.
        let script = SCRIPT.replace("\"http://www.w3.org/2000/svg\"", "");
        for needle in ["http://", "https://", "//cdn", "eval(", "new Function("] {
            assert!(!script.contains(needle), "{needle} in the page script");
        }
        for needle in ["http://", "https://"] {
            assert!(!STYLE.contains(needle), "{needle} in the style sheet");
        }
    }
}
