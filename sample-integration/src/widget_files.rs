//! The built widget (`widget/build.sh` → `widget/dist/`), served under
//! `/tz-chat/` as a product site would serve its copy: `loader.js`,
//! `widget.js` and `widget_bg.wasm`.
//!
//! Invariants: only those three names are served (no path from the request
//! reaches the file system); the files are read on each request, so a
//! rebuilt widget shows on the next reload; the site refuses to start when
//! one is missing, saying how to build them.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{FromRef, Path as UrlPath, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::SiteError;

/// Where the widget is served.
pub const MOUNT: &str = "/tz-chat";

/// The files served, with their content types.
const FILES: [(&str, &str); 3] = [
    ("loader.js", "text/javascript; charset=utf-8"),
    ("widget.js", "text/javascript; charset=utf-8"),
    // instantiateStreaming insists on this type.
    ("widget_bg.wasm", "application/wasm"),
];

/// The widget is not built (or not where the site looks).
#[derive(Debug, thiserror::Error)]
#[error(
    "the widget is not built: {} is missing. Run widget/build.sh (or point SAMPLE_WIDGET_DIR at a built widget)",
    missing.display()
)]
pub struct WidgetFilesError {
    /// The first file that is missing or empty.
    pub missing: PathBuf,
}

/// The directory holding the built widget. The route here takes it from
/// the site's state (`FromRef`), so this module needs nothing else of the
/// site.
#[derive(Debug, Clone)]
pub(crate) struct WidgetFiles {
    dir: PathBuf,
}

impl WidgetFiles {
    /// Check that `dir` holds every file served.
    pub(crate) fn open(dir: &Path) -> Result<Self, WidgetFilesError> {
        check_built(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }
}

/// Check that `dir` holds a built widget (every file present and not empty).
pub fn check_built(dir: &Path) -> Result<(), WidgetFilesError> {
    for (name, _) in FILES {
        let path = dir.join(name);
        let built = std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() > 0);
        if !built {
            return Err(WidgetFilesError { missing: path });
        }
    }
    Ok(())
}

pub(crate) fn router<S>() -> Router<S>
where
    WidgetFiles: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(&format!("{MOUNT}/{{file}}"), get(serve))
}

async fn serve(
    State(widget): State<WidgetFiles>,
    UrlPath(file): UrlPath<String>,
) -> Result<Response, SiteError> {
    let (name, content_type) = FILES
        .into_iter()
        .find(|(name, _)| *name == file)
        .ok_or(SiteError::NotFound)?;
    let body = tokio::fs::read(widget.dir.join(name))
        .await
        .map_err(SiteError::WidgetFile)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named_with_the_fix() {
        let dir = std::env::temp_dir().join(format!("no-widget-{}", std::process::id()));
        let err = check_built(&dir).unwrap_err();
        assert_eq!(err.missing, dir.join("loader.js"));
        assert!(err.to_string().contains("widget/build.sh"), "{err}");
    }
}
