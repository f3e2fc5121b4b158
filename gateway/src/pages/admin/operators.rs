//! `/admin/operators`: who may sign in, with what role and systems.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{LangQuery, forbidden, lang_of, refused, render, shown, systems_text};
use crate::error::ApiError;
use crate::operators::Access;
use crate::pages::i18n;
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct OperatorRow {
    email: String,
    role: String,
    systems: String,
    created_at: String,
}

/// `GET /admin/operators`.
pub(in crate::pages) async fn operators(
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
