//! The `/admin` pages' forms: `POST /admin/keys` (create a key, shown once
//! on the page it answers with) and `POST /admin/keys/{id}/revoke`. Their
//! CSRF token is checked by [`Access`] (the form's action carries it).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use time::Date;

use super::keys::{NewKey, create_key, revoke_key};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::operators::Access;
use crate::pages::{KeysFlash, admin_lang, keys_page};
use crate::state::AppState;

/// The create form's fields as a [`NewKey`]: `systems` comma-separated
/// (empty: all), `permissions` repeated, `expires` a date (end of day, UTC).
fn new_key(body: &[u8]) -> Result<NewKey, ApiError> {
    let mut name = String::new();
    let mut permissions = Vec::new();
    let mut systems = None;
    let mut expires_at = None;
    for (k, v) in form_urlencoded::parse(body) {
        match &*k {
            "name" => name = v.into_owned(),
            "permissions" => permissions.push(v.into_owned()),
            "systems" => {
                let list: Vec<String> = v
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                systems = (!list.is_empty()).then_some(list);
            }
            "expires" if !v.trim().is_empty() => {
                let date = Date::parse(
                    v.trim(),
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .map_err(|_| ApiError::Validation("expires must be a date".into()))?;
                let end = date.next_day().unwrap_or(date).midnight().assume_utc();
                expires_at = Some(end);
            }
            _ => {}
        }
    }
    Ok(NewKey {
        name,
        systems,
        permissions,
        expires_at,
    })
}

pub(super) async fn create(
    State(state): State<AppState>,
    access: Access,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = admin_lang(&headers, uri.query());
    let result = match new_key(&body) {
        Ok(new) => create_key(&state, &access, new).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(created) => {
            let flash = KeysFlash {
                new_key: Some(created.key),
                error: None,
            };
            keys_page(&state, &access, lang, StatusCode::CREATED, flash).await
        }
        Err(e @ ApiError::Validation(_)) => {
            let flash = KeysFlash {
                new_key: None,
                error: Some(e.public_message().into_owned()),
            };
            keys_page(&state, &access, lang, e.status(), flash).await
        }
        Err(e) => e.into_response(),
    }
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    access: Access,
    ApiPath(id): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = admin_lang(&headers, uri.query());
    revoke_key(&state, &access, &id).await?;
    Ok(Redirect::to(&format!("/admin/keys?lang={}", lang.as_str())).into_response())
}
