//! The pages' static files, compiled into the binary and served under
//! names that contain a hash of their content (`/assets/chat.1a2b….css`),
//! so browsers may cache them for a year: a changed file gets a new name,
//! and the HTML that names it is never cached.
//!
//! Scripts are ES modules (module [`modules`] says how their imports find
//! the hashed names). Each page has one entry module, listed in
//! [`ENTRIES`]; a page's template loads it with
//! `<script type="module" src="{{ assets.scripts["<entry>"] }}">`. Adding a
//! page's script is adding its entry file to [`MODULES`] and [`ENTRIES`].

mod modules;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Every script module, by its file name under `assets/js/`.
const MODULES: [(&str, &str); 13] = [
    ("admin.js", include_str!("../../../assets/js/admin.js")),
    ("agents.js", include_str!("../../../assets/js/agents.js")),
    ("api.js", include_str!("../../../assets/js/api.js")),
    ("boot.js", include_str!("../../../assets/js/boot.js")),
    ("bridge.js", include_str!("../../../assets/js/bridge.js")),
    ("chat.js", include_str!("../../../assets/js/chat.js")),
    (
        "chat-error.js",
        include_str!("../../../assets/js/chat-error.js"),
    ),
    ("dialogs.js", include_str!("../../../assets/js/dialogs.js")),
    ("docs.js", include_str!("../../../assets/js/docs.js")),
    ("front.js", include_str!("../../../assets/js/front.js")),
    ("panels.js", include_str!("../../../assets/js/panels.js")),
    ("sse.js", include_str!("../../../assets/js/sse.js")),
    ("view.js", include_str!("../../../assets/js/view.js")),
];

/// The entry modules, one per page: the chat page, its token error page,
/// the `/admin` pages (one module for all of them), the API docs and the
/// front page.
const ENTRIES: [&str; 5] = [
    "chat.js",
    "chat-error.js",
    "admin.js",
    "docs.js",
    "front.js",
];

const STYLE: &str = include_str!("../../../assets/chat.css");
const ICON: &str = include_str!("../../../assets/icon.svg");
const SCRIPT_TYPE: &str = "text/javascript; charset=utf-8";

/// One served file.
struct Asset {
    /// Name under `/assets/`, with the content hash.
    file: String,
    body: String,
    content_type: &'static str,
}

impl Asset {
    fn new(stem: &str, ext: &str, body: &str, content_type: &'static str) -> Self {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Self {
            file: format!("{stem}.{hash}.{ext}"),
            body: body.to_owned(),
            content_type,
        }
    }
}

/// Every file under `/assets/`, and where the pages find theirs.
struct Assets {
    files: Vec<Asset>,
    paths: AssetPaths,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let modules = modules::serve(&MODULES);
    let style = Asset::new("chat", "css", STYLE, "text/css; charset=utf-8");
    let icon = Asset::new("icon", "svg", ICON, "image/svg+xml");
    let scripts = ENTRIES
        .into_iter()
        .filter_map(|entry| {
            let module = modules.get(entry)?;
            let stem = entry.strip_suffix(".js").unwrap_or(entry);
            Some((stem, format!("/assets/{}", module.file)))
        })
        .collect();
    let paths = AssetPaths {
        scripts,
        css: format!("/assets/{}", style.file),
        icon: format!("/assets/{}", icon.file),
    };
    let mut files = vec![style, icon];
    files.extend(modules.into_values().map(|m| Asset {
        file: m.file,
        body: m.body,
        content_type: SCRIPT_TYPE,
    }));
    Assets { files, paths }
});

/// Where the pages find their assets (paths for templates).
#[derive(Debug, Clone, Serialize)]
pub(super) struct AssetPaths {
    /// Each page's entry module, by its file stem (`chat`).
    pub(super) scripts: BTreeMap<&'static str, String>,
    /// The style sheet.
    pub(super) css: String,
    /// The favicon.
    pub(super) icon: String,
}

/// The current asset paths.
pub(super) fn paths() -> &'static AssetPaths {
    &ASSETS.paths
}

/// `GET /assets/{file}`.
pub(super) async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.files.iter().find(|a| a.file == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body.as_str(),
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
        let chat = &p.scripts["chat"];
        assert!(
            chat.starts_with("/assets/chat.") && chat.ends_with(".js"),
            "{chat}"
        );
        assert_eq!(chat.len(), "/assets/chat.".len() + 12 + ".js".len());
        assert!(p.css.starts_with("/assets/chat.") && p.css.ends_with(".css"));
        assert_ne!(
            Asset::new("a", "js", "one", "t").file,
            Asset::new("a", "js", "two", "t").file
        );
    }

    #[test]
    fn every_entry_is_served_and_every_module_is_used() {
        let served: Vec<&str> = ASSETS.files.iter().map(|a| a.file.as_str()).collect();
        assert_eq!(paths().scripts.len(), ENTRIES.len());
        for path in paths().scripts.values() {
            assert!(served.contains(&&path["/assets/".len()..]), "{path}");
        }
        let imported: Vec<&str> = MODULES
            .iter()
            .flat_map(|(_, source)| modules::imports(source))
            .collect();
        for (name, _) in MODULES {
            assert!(
                ENTRIES.contains(&name) || imported.contains(&format!("./{name}").as_str()),
                "{name} is neither an entry nor imported"
            );
        }
    }

    #[test]
    fn imports_name_served_modules_only() {
        for (name, source) in MODULES {
            for spec in modules::imports(source) {
                let known = MODULES
                    .iter()
                    .any(|(n, _)| Some(*n) == spec.strip_prefix("./"));
                assert!(known, "{name} imports {spec}, which is not a module here");
            }
            assert!(!source.contains("import("), "{name} imports at run time");
            assert!(
                !source.contains("window.tzChat"),
                "{name} uses the old global"
            );
        }
        let scripts = ASSETS
            .files
            .iter()
            .filter(|a| a.content_type == SCRIPT_TYPE);
        for asset in scripts {
            for spec in modules::imports(&asset.body) {
                let target = spec.strip_prefix("./").unwrap_or(spec);
                assert!(
                    ASSETS.files.iter().any(|a| a.file == target),
                    "{} imports {spec}, which is not served",
                    asset.file
                );
            }
        }
    }

    #[test]
    fn scripts_load_nothing_remote_and_evaluate_no_strings() {
        for (name, source) in MODULES {
            // The SVG namespace is a name, not an address that is fetched.
            let script = source.replace("\"http://www.w3.org/2000/svg\"", "");
            for needle in ["http://", "https://", "//cdn", "eval(", "new Function("] {
                assert!(!script.contains(needle), "{needle} in {name}");
            }
        }
        for needle in ["http://", "https://"] {
            assert!(!STYLE.contains(needle), "{needle} in the style sheet");
        }
    }
}
