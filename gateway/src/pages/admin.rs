//! The `/admin` console: a shell with navigation (module doc of
//! [`crate::operators`] says who may see what), the sign-in page, and the
//! operators, API keys and audit log pages.
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

use axum::extract::{Query, State};
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
use crate::scope::{Permission, SystemScope};
use crate::state::AppState;

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
    lang: Option<String>,
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

fn systems_text(scope: Option<&[String]>, lang: Lang) -> String {
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
fn refused(e: ApiError, lang: Lang) -> Response {
    match e {
        ApiError::MissingCredentials | ApiError::InvalidApiKey => {
            Redirect::to(&format!("/admin/login?lang={}", lang.as_str())).into_response()
        }
        other => other.into_response(),
    }
}

/// 403 page for an analyst on an admin-only page.
fn forbidden(access: &Access, lang: Lang, current: &str) -> Response {
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

#[derive(Debug, Serialize)]
struct OperatorRow {
    email: String,
    role: String,
    systems: String,
    created_at: String,
}

/// `GET /admin/operators`.
pub(super) async fn operators(
    State(state): State<AppState>,
    access: Result<Access, ApiError>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    let access = match access {
        Ok(a) => a,
        Err(e) => return refused(e, lang),
    };
    if !access.is_admin() {
        return forbidden(&access, lang, "/admin/operators");
    }
    let t = i18n::admin(lang).page;
    let rows: Vec<OperatorRow> = match state.store.list_operators().await {
        Ok(list) => list
            .into_iter()
            .map(|o| OperatorRow {
                systems: if o.role == "admin" {
                    t.all_systems.to_owned()
                } else {
                    systems_text(o.systems.as_deref(), lang)
                },
                role: if o.role == "admin" {
                    t.role_admin.to_owned()
                } else {
                    t.role_analyst.to_owned()
                },
                email: o.email,
                created_at: shown(o.created_at),
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    render(
        "admin_operators.html",
        "/admin/operators",
        t.nav_operators,
        &access,
        lang,
        StatusCode::OK,
        context! { operators => Serde(rows), error => None::<String> },
    )
}

#[derive(Debug, Serialize)]
struct KeyRow {
    id: String,
    name: String,
    permissions: String,
    systems: String,
    expires: String,
    created_by: String,
    last_used: String,
    revoked: bool,
}

/// What the keys page shows besides the list: a key created this once, or
/// why a form was refused.
#[derive(Debug, Default)]
pub struct KeysFlash {
    pub new_key: Option<String>,
    pub error: Option<String>,
}

/// The keys page (also answered by the create form).
pub async fn keys_page(
    state: &AppState,
    access: &Access,
    lang: Lang,
    status: StatusCode,
    flash: KeysFlash,
) -> Response {
    if !access.is_admin() {
        return forbidden(access, lang, "/admin/keys");
    }
    let t = i18n::admin(lang).page;
    let rows: Vec<KeyRow> = match state.store.list_api_keys().await {
        Ok(list) => list
            .into_iter()
            .rev()
            .map(|k| KeyRow {
                systems: systems_text(k.systems.as_deref(), lang),
                permissions: k.permissions.join(", "),
                expires: k.expires_at.map_or_else(|| t.never.to_owned(), shown),
                last_used: k.last_used_at.map(shown).unwrap_or_default(),
                revoked: k.revoked_at.is_some(),
                id: k.id,
                name: k.name,
                created_by: k.created_by,
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let permissions: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    render(
        "admin_keys.html",
        "/admin/keys",
        t.nav_keys,
        access,
        lang,
        status,
        context! {
            keys => Serde(rows),
            permissions => permissions,
            new_key => flash.new_key,
            error => flash.error,
        },
    )
}

/// `GET /admin/keys`.
pub(super) async fn keys(
    State(state): State<AppState>,
    access: Result<Access, ApiError>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    match access {
        Ok(access) => keys_page(&state, &access, lang, StatusCode::OK, KeysFlash::default()).await,
        Err(e) => refused(e, lang),
    }
}

#[derive(Debug, Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    address: String,
}

/// `GET /admin/audit`: the newest 200 lines.
pub(super) async fn audit(
    State(state): State<AppState>,
    access: Result<Access, ApiError>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(q.lang.as_deref(), &headers);
    let access = match access {
        Ok(a) => a,
        Err(e) => return refused(e, lang),
    };
    if !access.is_admin() {
        return forbidden(&access, lang, "/admin/audit");
    }
    let rows: Vec<AuditRow> = match state.store.list_audit(200, None).await {
        Ok(lines) => lines
            .into_iter()
            .map(|l| AuditRow {
                at: shown(l.at),
                actor: l.actor,
                action: l.action,
                target: l.target,
                address: l.address,
            })
            .collect(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let t = i18n::admin(lang).page;
    render(
        "admin_audit.html",
        "/admin/audit",
        t.nav_audit,
        &access,
        lang,
        StatusCode::OK,
        context! { lines => Serde(rows), error => None::<String> },
    )
}
