//! The site's HTML: the templates (minijinja, compiled in), the layout every
//! page shares (navigation, who is signed in, the language menu), the home
//! page, and the site's own scripts and style sheet under `/static/`.
//!
//! Invariants: templates end in `.html`, so every value is HTML-escaped
//! unless a template marks it `safe` (only the widget tags the page really
//! runs, built by the `cointutor` and `drillquiz` modules from escaped
//! parts); undefined variables are errors; HTML is never cached (it depends
//! on the session); no page has inline scripts or styles (the CSP forbids
//! them).

use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use minijinja::{Environment, ErrorKind, UndefinedBehavior, Value, context};
use sdk::Lang;
use serde::{Deserialize, Serialize};

use crate::error::SiteError;
use crate::redirect::is_local_path;
use crate::session::Visitor;
use crate::state::SiteState;

const TEMPLATES: [(&str, &str); 5] = [
    ("base.html", include_str!("../templates/base.html")),
    ("home.html", include_str!("../templates/home.html")),
    (
        "cointutor.html",
        include_str!("../templates/cointutor.html"),
    ),
    (
        "cointutor_iframe.html",
        include_str!("../templates/cointutor_iframe.html"),
    ),
    (
        "drillquiz.html",
        include_str!("../templates/drillquiz.html"),
    ),
];

/// `/static/<name>`: the site's own files.
const STATIC_FILES: [(&str, &str, &str); 4] = [
    (
        "site.css",
        "text/css; charset=utf-8",
        include_str!("../static/site.css"),
    ),
    (
        "site.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/site.js"),
    ),
    (
        "cointutor.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/cointutor.js"),
    ),
    (
        "drillquiz.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/drillquiz.js"),
    ),
];

static ENV: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
});

/// Render template `name` as an HTML response.
pub(crate) fn render(name: &str, context: Value) -> Result<Response, SiteError> {
    let env = ENV
        .as_ref()
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    let body = env.get_template(name)?.render(context)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// The query every page takes: `lang` (the page's language, which the
/// widget follows; English by default).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageQuery {
    lang: Option<String>,
}

impl PageQuery {
    /// The requested language, or English.
    pub(crate) fn lang(&self) -> Lang {
        self.lang
            .as_deref()
            .and_then(Lang::from_tag)
            .unwrap_or(Lang::En)
    }
}

/// What the shared layout shows.
#[derive(Debug, Serialize)]
pub(crate) struct Layout {
    /// `<html lang>`, which the widget follows.
    lang: &'static str,
    /// The signed-in user.
    user: Option<String>,
    /// This page's path (navigation, login `next`).
    path: &'static str,
    /// The language menu.
    languages: Vec<LanguageOption>,
}

#[derive(Debug, Serialize)]
struct LanguageOption {
    code: &'static str,
    name: &'static str,
}

impl Layout {
    /// The layout of the page at `path` for `visitor`, in `lang`, for a
    /// template context.
    pub(crate) fn context(visitor: &Visitor, lang: Lang, path: &'static str) -> Value {
        let languages = Lang::ALL
            .into_iter()
            .map(|l| LanguageOption {
                code: l.as_str(),
                name: l.endonym(),
            })
            .collect();
        Value::from(minijinja::value::Serde(Self {
            lang: lang.as_str(),
            user: visitor.user.clone(),
            path,
            languages,
        }))
    }
}

pub(crate) fn router() -> Router<SiteState> {
    Router::new()
        .route("/", get(home))
        .route("/static/{file}", get(static_file))
}

/// Query of the home page: `login=invalid` after a refused user name,
/// `next` where to go after signing in.
#[derive(Debug, Deserialize)]
struct HomeQuery {
    lang: Option<String>,
    login: Option<String>,
    next: Option<String>,
}

async fn home(
    visitor: Visitor,
    State(site): State<SiteState>,
    Query(q): Query<HomeQuery>,
) -> Result<Response, SiteError> {
    let lang = PageQuery { lang: q.lang }.lang();
    let next = q.next.filter(|n| is_local_path(n));
    render(
        "home.html",
        context! {
            layout => Layout::context(&visitor, lang, "/"),
            login_invalid => q.login.as_deref() == Some("invalid"),
            next => next.unwrap_or_else(|| "/cointutor".to_owned()),
            gateway_url => site.gateway_url(),
        },
    )
}

async fn static_file(Path(file): Path<String>) -> Result<Response, SiteError> {
    let (_, content_type, body) = STATIC_FILES
        .into_iter()
        .find(|(name, _, _)| *name == file)
        .ok_or(SiteError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

/// `value` escaped for an HTML attribute in double quotes.
pub(crate) fn attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_compile() {
        assert!(ENV.is_ok(), "{:?}", ENV.as_ref().err());
    }

    #[test]
    fn languages_fall_back_to_english() {
        let q = |l: &str| PageQuery {
            lang: Some(l.into()),
        };
        assert_eq!(q("ko-KR").lang(), Lang::Ko);
        assert_eq!(q("fr").lang(), Lang::En);
        assert_eq!(PageQuery::default().lang(), Lang::En);
    }

    #[test]
    fn attributes_cannot_be_closed() {
        assert_eq!(
            attribute(r#"x" onload="alert(1)&<"#),
            "x&quot; onload=&quot;alert(1)&amp;&lt;"
        );
    }
}
