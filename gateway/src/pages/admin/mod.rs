//! The `/admin` console: a shell with navigation (module doc of
//! [`crate::operators`] says who may see what), the sign-in page and the
//! overview here; one module per page group (operators, API keys, audit
//! log, systems, agents).
//!
//! Every page takes [`Access`]; without a live session it redirects to
//! `/admin/login`. Pages only admins may see answer 403 to analysts.
//! Changes are plain HTML forms whose action carries the session's CSRF
//! token (`?csrf=`); the forms' handlers are in `routes::admin`.
//!
//! Adding a page: one [`NAV`] entry (path, text key, whether only admins
//! see it), its label in `i18n::AdminTexts`, a template extending
//! `admin.html`, and a handler that calls [`render`].
//!
//! Language: `lang` in the query, else `Accept-Language`, else English.

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use minijinja::value::{Serde, Value};
use sdk::Lang;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::i18n;
use super::templates;
use super::{html, render_failure};
use crate::error::ApiError;
use crate::operators::{Access, Actor, Role};
use crate::scope::SystemScope;

pub(super) mod agents;
mod audit;
mod form;
mod keys;
mod operators;
pub(super) mod systems;

pub use self::agents::{AgentFlash, AgentForm, agent_page, agents_page};
pub(super) use self::audit::audit;
pub use self::form::{ProbeView, Problem, Problems};
pub(super) use self::keys::keys;
pub use self::keys::{KeysFlash, keys_page};
pub(super) use self::operators::operators;
pub use self::systems::{SystemFlash, SystemForm, system_page, systems_page};

/// One navigation entry.
struct NavItem {
    path: &'static str,
    /// Key of its label in the admin texts (camelCase).
    label: &'static str,
    admin_only: bool,
}

/// The console's navigation, in order.
const NAV: &[NavItem] = &[
    NavItem {
        path: "/admin",
        label: "navHome",
        admin_only: false,
    },
    NavItem {
        path: "/admin/conversations",
        label: "navConversations",
        admin_only: false,
    },
    NavItem {
        path: "/admin/analytics",
        label: "navAnalytics",
        admin_only: false,
    },
    NavItem {
        path: "/admin/status",
        label: "navStatus",
        admin_only: false,
    },
    NavItem {
        path: "/admin/systems",
        label: "navSystems",
        admin_only: true,
    },
    NavItem {
        path: "/admin/operators",
        label: "navOperators",
        admin_only: true,
    },
    NavItem {
        path: "/admin/keys",
        label: "navKeys",
        admin_only: true,
    },
    NavItem {
        path: "/admin/audit",
        label: "navAudit",
        admin_only: true,
    },
];

#[derive(Debug, Serialize)]
struct NavView {
    path: &'static str,
    label: &'static str,
    current: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct LangQuery {
    pub(super) lang: Option<String>,
}

/// The admin pages' language for a request.
pub fn lang_of(query: Option<&str>, headers: &HeaderMap) -> Lang {
    query
        .and_then(Lang::from_tag)
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.split(',')
                        .filter_map(|part| part.split(';').next())
                        .find_map(|tag| Lang::from_tag(tag.trim()))
                })
        })
        .unwrap_or(Lang::En)
}

/// A timestamp as the pages show it.
pub(crate) fn shown(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(super) fn systems_text(scope: Option<&[String]>, lang: Lang) -> String {
    match scope {
        None => i18n::admin(lang).page.all_systems.to_owned(),
        Some(list) => list.join(", "),
    }
}

/// Render admin page `template` (extending `admin.html`) for `access`.
pub(super) fn render(
    template: &str,
    current: &str,
    title: &str,
    access: &Access,
    lang: Lang,
    status: StatusCode,
    page: Value,
) -> Response {
    let texts = i18n::admin(lang);
    let nav: Vec<NavView> = NAV
        .iter()
        .filter(|item| !item.admin_only || access.is_admin())
        .map(|item| NavView {
            path: item.path,
            label: item.label,
            current: item.path == current,
        })
        .collect();
    let who = match &access.actor {
        Actor::Operator { email, .. } => email.clone(),
        Actor::Key(_) => access.actor_name(),
    };
    let ctx = context! {
        t => Serde(texts),
        nav => Serde(nav),
        who => who,
        title => title,
        csrf => access.csrf_token.clone().unwrap_or_default(),
        ..page
    };
    match templates::render(template, lang, ctx) {
        Ok(body) => {
            let mut resp = html(status, body);
            resp.headers_mut().insert(
                axum::http::header::X_FRAME_OPTIONS,
                axum::http::HeaderValue::from_static("DENY"),
            );
            resp
        }
        Err(e) => render_failure(&e),
    }
}

/// Turn a refused [`Access`] into the page's answer: the login page for
/// a missing or ended session.
pub(super) fn refused(e: ApiError, lang: Lang) -> Response {
    match e {
        ApiError::MissingCredentials | ApiError::InvalidApiKey => {
            Redirect::to(&format!("/admin/login?lang={}", lang.as_str())).into_response()
        }
        other => other.into_response(),
    }
}

/// 403 page for an analyst on an admin-only page.
pub(super) fn forbidden(access: &Access, lang: Lang, current: &str) -> Response {
    let t = i18n::admin(lang).page;
    render(
        "admin_message.html",
        current,
        t.console,
        access,
        lang,
        StatusCode::FORBIDDEN,
        context! { error => t.forbidden },
    )
}

/// The sign-in page, with an error from a failed attempt.
pub fn login_page(lang: Lang, error: Option<&ApiError>, status: StatusCode) -> Response {
    let t = i18n::admin(lang).page;
    let error = error.map(|e| match e {
        ApiError::InvalidCredentials => t.wrong_credentials.to_owned(),
        ApiError::LoginThrottled { retry_after } => t
            .too_many_attempts
            .replace("{name}", &retry_after.to_string()),
        other => other.public_message().into_owned(),
    });
    let ctx = context! { t => Serde(i18n::admin(lang)), error => error };
    match templates::render("admin_login.html", lang, ctx) {
        Ok(body) => html(status, body),
        Err(e) => render_failure(&e),
    }
}

/// `GET /admin/login`.
pub(super) async fn login(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    login_page(lang_of(q.lang.as_deref(), &headers), None, StatusCode::OK)
}

/// `GET /admin`: who is signed in, with what role and systems.
pub(super) async fn home(
    access: Result<Access, ApiError>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    let access = match access {
        Ok(a) => a,
        Err(e) => return refused(e, lang),
    };
    let t = i18n::admin(lang).page;
    let role = match &access.actor {
        Actor::Operator {
            role: Role::Admin, ..
        } => t.role_admin,
        Actor::Operator {
            role: Role::Analyst,
            ..
        } => t.role_analyst,
        Actor::Key(_) if access.is_admin() => t.role_admin,
        Actor::Key(_) => t.role_analyst,
    };
    let who = match &access.actor {
        Actor::Operator { email, .. } => email.clone(),
        Actor::Key(_) => access.actor_name(),
    };
    let systems = match &access.systems {
        SystemScope::All => t.all_systems.to_owned(),
        scope => systems_text(scope.to_list().as_deref(), lang),
    };
    render(
        "admin_home.html",
        "/admin",
        t.nav_home,
        &access,
        lang,
        StatusCode::OK,
        context! {
            error => None::<String>,
            welcome => t.welcome.replace("{name}", &who),
            role => role,
            systems => systems,
        },
    )
}
