//! `/admin/keys`: scoped API keys, created (shown once) and revoked.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use minijinja::value::Serde;
use sdk::Lang;
use serde::Serialize;

use super::{LangQuery, forbidden, lang_of, refused, render, shown, systems_text};
use crate::error::ApiError;
use crate::operators::Access;
use crate::pages::i18n;
use crate::scope::Permission;
use crate::state::AppState;

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
pub(in crate::pages) async fn keys(
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
