//! `/admin/audit`: the newest lines of the audit log.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{LangQuery, forbidden, lang_of, refused, render, shown};
use crate::error::ApiError;
use crate::operators::Access;
use crate::pages::i18n;
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    address: String,
}

/// `GET /admin/audit`: the newest 200 lines.
pub(in crate::pages) async fn audit(
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
